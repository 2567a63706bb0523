"""Escalation (issue 12, item 4; docs/domain.md §4 "reminders … → centre and UBND dashboard").

A report whose running deadline breached goes up, in the background pass (``reports.jobs``):
first to the locality's leadership (``EscalationLevel.LOCALITY``), then, still overdue one
working day later (one calendar day for urgent reports, which run 24/7), to the province. The
centre (or the locality leader) may also escalate a report on demand, one level at a time, with
a reason. Each step is a side event (ESCALATE, internal); the report row keeps the level and
since when: the escalation queue is ``reports(filter: {escalations: [...]})``, open reports only,
in a locality; the province reads it across its localities with ``provinceEscalations``
(reports/province_queue.py).

The level never goes down while the report is open: once the leadership watches it, it keeps
watching until the report is finished. Use it through ``reports.service``."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from tortoise.expressions import Q

from core import clock
from core.errors import DomainError, Validator
from permissions.actions import Action
from permissions.scope import Scope
from reports.models import Report
from reports.records import (
    TenantRules,
    clean_text,
    load_report,
    record_event,
    require_state,
    stale_error,
    tenant_rules,
    update_report,
)
from reports.workflow import (
    OPEN_STATES,
    RUNNING_STAGE,
    ActorKind,
    EscalationLevel,
    SideAction,
)
from tenants.sla import Urgency

COMMENT_MAX = 2000
BATCH = 500
_NEXT: dict[str | None, EscalationLevel] = {
    None: EscalationLevel.LOCALITY,
    EscalationLevel.LOCALITY.value: EscalationLevel.PROVINCE,
}


def next_level(report: Report) -> EscalationLevel | None:
    return _NEXT.get(report.escalation)


async def escalate(
    scope: Scope, report_id: uuid.UUID, expected_version: int, comment: str | None
) -> Report:
    """One level up, on demand (``report:assign``: the centre, the locality leader)."""
    report = await load_report(scope, report_id, "id")
    if report.version != expected_version:
        raise stale_error()
    scope.require_on(Action.REPORT_ASSIGN, report.lead_agency_id, report.field_id)
    require_state(report, OPEN_STATES, "INVALID_STATE")
    v = Validator()
    if not (comment or "").strip():  # as for the workflow's steps that need a comment
        v.add("COMMENT_REQUIRED", "comment", "Cần nhập nội dung.", "A comment is required.")
    v.check()
    text = clean_text(v, "comment", comment, COMMENT_MAX)
    v.check()
    level = next_level(report)
    if level is None:
        raise DomainError(
            "ALREADY_AT_PROVINCE",
            "Phản ánh đã được chuyển đến cấp tỉnh theo dõi.",
            "The report is already escalated to the province.",
            None,
        )
    return await _raise(scope, report, level, clock.now(), text, automatic=False)


async def _raise(
    scope: Scope | None,
    report: Report,
    level: EscalationLevel,
    now: datetime,
    comment: str | None,
    *,
    automatic: bool,
) -> Report:
    updated = await update_report(report, now, escalation=level.value, escalated_at=now)
    await record_event(
        scope,
        report,
        SideAction.ESCALATE,
        ActorKind.SYSTEM if automatic else ActorKind.STAFF,
        at=now,
        comment=comment,
        data={"escalation": level.value, "automatic": automatic, "due_at": report.due_at},
    )
    return updated


def _province_after(rules: TenantRules, report: Report) -> datetime:
    """When a breach the locality's leadership watches goes on to the province."""
    assert report.due_at is not None
    if Urgency(report.urgency) is Urgency.URGENT:
        return report.due_at + timedelta(days=1)
    return rules.calendar.add_working_days(report.due_at, 1)


async def escalate_overdue(tenant_id: uuid.UUID, now: datetime) -> int:
    """The background pass, inside a transaction scoped to the tenant: reports whose running
    deadline passed go up a level (at most one level a pass). Returns how many went up."""
    rules = await tenant_rules(tenant_id)
    below_province = Q(escalation__isnull=True) | Q(escalation=EscalationLevel.LOCALITY.value)
    breached = (
        await Report.filter(
            below_province,
            tenant_id=tenant_id,
            state__in=[s.value for s in RUNNING_STAGE],
            due_at__lt=now,
        )
        .order_by("due_at")
        .limit(BATCH)
    )
    raised = 0
    for report in breached:
        level = next_level(report)
        if level is EscalationLevel.PROVINCE and now <= _province_after(rules, report):
            continue
        if level is None:
            continue
        try:
            await _raise(None, report, level, now, None, automatic=True)
        except DomainError:  # STALE_VERSION: changed meanwhile; the next pass looks again
            continue
        raised += 1
    return raised
