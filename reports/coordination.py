"""Coordinating agencies changed while a report is being handled (issue 12, item 2).

A side step: the lead agency and the state stay; the report row's coordinating agencies change
(one version bump) and a ``SET_COORDINATORS`` event names the agencies added and removed. The
centre does it, with the routing permission. Use it through ``reports.service``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from core import clock
from core.errors import DomainError, Validator
from permissions.actions import Action
from permissions.scope import Scope
from reports.models import Report
from reports.records import (
    clean_text,
    load_report,
    record_event,
    require_state,
    stale_error,
    update_report,
)
from reports.workflow import ActorKind, ReportState, SideAction
from tenants.models import Agency

# While an agency holds the report (before that, the assignment names them).
COORDINATED_STATES = frozenset(
    {ReportState.ASSIGNED, ReportState.IN_PROGRESS, ReportState.RESULT_SUBMITTED}
)
COMMENT_MAX = 2000


async def set_coordinating_agencies(
    scope: Scope,
    report_id: uuid.UUID,
    expected_version: int,
    agency_ids: Sequence[uuid.UUID],
    comment: str | None = None,
) -> Report:
    """Replace the coordinating agencies; the lead agency may not be one of them."""
    report = await load_report(scope, report_id, "id")
    if report.version != expected_version:
        raise stale_error()
    scope.require_on(Action.REPORT_ASSIGN, report.lead_agency_id, report.field_id)
    require_state(report, COORDINATED_STATES, "INVALID_STATE")
    v = Validator()
    text = clean_text(v, "comment", comment, COMMENT_MAX) if (comment or "").strip() else None
    wanted = list(dict.fromkeys(agency_ids))
    if report.lead_agency_id in wanted:
        v.add(
            "LEAD_NOT_COORDINATING",
            "coordinatingAgencyIds",
            "Cơ quan chủ trì không đồng thời là cơ quan phối hợp.",
            "The lead agency cannot also coordinate.",
        )
    found = await Agency.filter(tenant_id=report.tenant_id, id__in=wanted, active=True).count()
    if found != len(wanted):
        v.add(
            "NOT_FOUND",
            "coordinatingAgencyIds",
            "Cơ quan không tồn tại.",
            "Unknown or inactive agency.",
        )
    v.check()
    before = list(report.coordinating_agency_ids or ())
    added = [a for a in wanted if a not in before]
    removed = [a for a in before if a not in wanted]
    if not added and not removed:
        raise DomainError(
            "NO_CHANGE",
            "Danh sách cơ quan phối hợp không thay đổi.",
            "The coordinating agencies are unchanged.",
            "coordinatingAgencyIds",
        )
    now = clock.now()
    updated = await update_report(
        report, now, expected_version=expected_version, coordinating_agency_ids=wanted
    )
    await record_event(
        scope,
        report,
        SideAction.SET_COORDINATORS,
        ActorKind.STAFF,
        at=now,
        comment=text,
        data={"added": added, "removed": removed, "coordinating_agency_ids": wanted},
    )
    return updated
