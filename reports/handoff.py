"""Hand-off inside an agency (issue 12, item 1): the agency's contact (or leader) gives the
report it handles to a named officer of the agency; handing it to another officer later is the
same step, and the event keeps who had it before. A side step: the state stays, the report row's
``assignee_user_id`` changes (one version bump). Use it through ``reports.service``."""

from __future__ import annotations

import uuid

from core import clock
from core.errors import DomainError, Validator
from permissions.actions import Action
from permissions.scope import Scope
from permissions.store import store
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

HAND_OFF_STATES = frozenset({ReportState.IN_PROGRESS})
COMMENT_MAX = 2000


async def hand_off(
    scope: Scope,
    report_id: uuid.UUID,
    expected_version: int,
    officer_user_id: uuid.UUID,
    comment: str | None = None,
) -> Report:
    """Assign the report to ``officer_user_id``, who must be able to post this report's result
    (a handler or leader of the lead agency, in its field)."""
    report = await load_report(scope, report_id, "id")
    if report.version != expected_version:
        raise stale_error()
    scope.require_on(Action.REPORT_ACCEPT, report.lead_agency_id, report.field_id)
    require_state(report, HAND_OFF_STATES, "INVALID_STATE")
    v = Validator()
    text = clean_text(v, "comment", comment, COMMENT_MAX) if (comment or "").strip() else None
    v.check()
    officer = await store.scope_for(officer_user_id, report.tenant_id)
    if not officer.allows_on(Action.REPORT_SUBMIT_RESULT, report.lead_agency_id, report.field_id):
        raise DomainError(
            "NOT_AN_OFFICER",
            "Người được giao phải là cán bộ xử lý của cơ quan chủ trì.",
            "The officer must be a handler of the lead agency.",
            "officerId",
        )
    if report.assignee_user_id == officer_user_id:
        raise DomainError(
            "NO_CHANGE",
            "Phản ánh đã được giao cho cán bộ này.",
            "The report is already with this officer.",
            "officerId",
        )
    now = clock.now()
    updated = await update_report(
        report, now, expected_version=expected_version, assignee_user_id=officer_user_id
    )
    await record_event(
        scope,
        report,
        SideAction.HAND_OFF,
        ActorKind.STAFF,
        at=now,
        comment=text,
        data={
            "assignee_user_id": officer_user_id,
            "previous_assignee_user_id": report.assignee_user_id,
        },
    )
    return updated
