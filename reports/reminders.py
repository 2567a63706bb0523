"""Reminders on running deadlines: at 50 % and 80 % of the stage time, and at the breach
(domain notes §4: handler → agency leader → centre). Produced by the job runner; each
reminder exists once per report, deadline and threshold (a unique index), so several
processes or repeated passes never duplicate one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from tortoise import connections

from core.ids import new_id
from permissions.actions import Action
from permissions.scope import Scope
from reports.models import Notification, Report
from reports.sla import Urgency, fraction_used
from reports.submission import tenant_rules
from reports.workflow import ReportState

BATCH = 2000


@dataclass(frozen=True)
class Threshold:
    fraction: float
    kind: str
    vi: str
    en: str


THRESHOLDS = (
    Threshold(0.5, "DUE_HALF", "đã dùng một nửa thời hạn", "half of the time is used"),
    Threshold(0.8, "DUE_SOON", "sắp đến hạn", "is due soon"),
    Threshold(1.0, "OVERDUE", "đã quá hạn", "is overdue"),
)

# Who hears of each threshold, by the state whose deadline is running.
AUDIENCE: dict[ReportState, tuple[str, str, str]] = {
    ReportState.SUBMITTED: ("intake_operator", "intake_operator", "centre_supervisor"),
    ReportState.REOPENED: ("intake_operator", "intake_operator", "centre_supervisor"),
    ReportState.ASSIGNED: ("agency_contact", "agency_leader", "centre_supervisor"),
    ReportState.IN_PROGRESS: ("handler", "agency_leader", "centre_supervisor"),
    ReportState.RESULT_SUBMITTED: ("centre_supervisor", "centre_supervisor", "centre_supervisor"),
}

_STARTS = """
SELECT DISTINCT ON (report_id) report_id, created_at FROM report_event
WHERE tenant_id = $1 AND report_id = ANY($2::uuid[]) AND (to_state = from_state) IS NOT TRUE
ORDER BY report_id, created_at DESC
"""
_INSERT = """
INSERT INTO notification (id, tenant_id, report_id, agency_id, audience, kind, state, due_at,
                          message_vi, message_en, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now())
ON CONFLICT DO NOTHING RETURNING id
"""


async def send_reminders(tenant_id: uuid.UUID, now: datetime) -> int:
    """Call inside a transaction scoped to the tenant. Returns how many reminders were new."""
    reports = await Report.filter(
        tenant_id=tenant_id, due_at__not_isnull=True, state__in=[s.value for s in AUDIENCE]
    ).limit(BATCH)
    if not reports:
        return 0
    conn = connections.get("default")
    # The stage began with the last step that changed the state (side events repeat it).
    starts = {
        row["report_id"]: row["created_at"]
        for row in await conn.execute_query_dict(_STARTS, [tenant_id, [r.id for r in reports]])
    }
    rules = await tenant_rules(tenant_id)
    created = 0
    for report in reports:
        start = starts.get(report.id)
        if start is None or report.due_at is None:
            continue
        state = ReportState(report.state)
        used = fraction_used(rules.calendar, start, report.due_at, now, Urgency(report.urgency))
        for threshold, audience in zip(THRESHOLDS, AUDIENCE[state], strict=True):
            if used < threshold.fraction:
                break
            label = state.label_vi
            inserted = await conn.execute_query_dict(
                _INSERT,
                [
                    new_id(),
                    tenant_id,
                    report.id,
                    report.lead_agency_id,
                    audience,
                    threshold.kind,
                    state.value,
                    report.due_at,
                    f"Phản ánh {report.code} ({label}) {threshold.vi}.",
                    f"Report {report.code} ({state.label_en}) {threshold.en}.",
                ],
            )
            created += len(inserted)  # nothing when this reminder already exists
    return created


def addressed_to(scope: Scope, notification: Notification) -> bool:
    """A reminder reaches the roles it names, and only for agencies the caller works for."""
    if notification.audience not in scope.roles:
        return False
    if notification.agency_id is None:
        return True
    return any(
        r.agency_id in (None, notification.agency_id)
        for r in scope.reach.get(Action.REPORT_VIEW.value, ())
    )


async def my_notifications(scope: Scope, unread_only: bool, limit: int) -> list[Notification]:
    query = Notification.filter(tenant_id=scope.require_tenant(), audience__in=sorted(scope.roles))
    if unread_only:
        query = query.filter(read_at__isnull=True)
    rows = await query.order_by("-created_at").limit(limit * 4)
    return [n for n in rows if addressed_to(scope, n)][:limit]


async def mark_read(scope: Scope, ids: list[uuid.UUID], now: datetime) -> int:
    rows = await Notification.filter(
        tenant_id=scope.require_tenant(), id__in=ids, read_at__isnull=True
    )
    mine = [n.id for n in rows if addressed_to(scope, n)]
    if not mine:
        return 0
    return await Notification.filter(id__in=mine).update(read_at=now)
