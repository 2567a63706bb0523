"""Reminders on running deadlines: at 50 % and 80 % of the stage time, and at the breach
(docs/domain.md §4: handler → agency leader → centre). Produced by the job runner; each
reminder exists once per report, deadline and threshold (a unique index), so several
processes or repeated passes never duplicate one."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from tortoise import connections
from tortoise.expressions import Subquery

from accounts.models import Membership, User
from core.ids import new_id
from core.labels import Labelled
from outbox.enqueue import notify
from outbox.models import StaffPreference
from outbox.vocabulary import Channel, EventType, Language
from permissions.scope import Scope
from reports.models import Notification, NotificationRead, Report
from reports.records import tenant_rules
from reports.workflow import RUNNING_STAGE, ReportState
from tenants.models import Tenant
from tenants.sla import Stage, Urgency, fraction_used

BATCH = 2000
SCAN = 200


class ReminderKind(Labelled):
    DUE_HALF = "DUE_HALF", "Đã dùng một nửa thời hạn", "Half of the time is used"
    DUE_SOON = "DUE_SOON", "Sắp đến hạn", "Due soon"
    OVERDUE = "OVERDUE", "Đã quá hạn", "Overdue"


@dataclass(frozen=True)
class Threshold:
    fraction: float
    kind: ReminderKind

    @property
    def vi(self) -> str:
        return self.kind.label_vi.lower()

    @property
    def en(self) -> str:
        return self.kind.label_en.lower()


THRESHOLDS = (
    Threshold(0.5, ReminderKind.DUE_HALF),
    Threshold(0.8, ReminderKind.DUE_SOON),
    Threshold(1.0, ReminderKind.OVERDUE),
)

# Who hears of each threshold, by the state whose deadline is running.
AUDIENCE_OF_STAGE: dict[Stage, tuple[str, str, str]] = {
    Stage.SCREEN: ("intake_operator", "intake_operator", "centre_supervisor"),
    Stage.ACCEPT: ("agency_contact", "agency_leader", "centre_supervisor"),
    Stage.RESOLVE: ("handler", "agency_leader", "centre_supervisor"),
    Stage.REVIEW: ("centre_supervisor", "centre_supervisor", "centre_supervisor"),
}
AUDIENCE: dict[ReportState, tuple[str, str, str]] = {
    state: AUDIENCE_OF_STAGE[stage] for state, stage in RUNNING_STAGE.items()
}
# A breach also reaches the locality's leadership (the UBND dashboard), whatever the stage.
ALSO_AT_BREACH = ("locality_leader",)

_STARTS = """
SELECT DISTINCT ON (report_id) report_id, created_at FROM report_event
WHERE tenant_id = $1 AND report_id = ANY($2::uuid[]) AND (to_state = from_state) IS NOT TRUE
ORDER BY report_id, created_at DESC, id DESC
"""
_INSERT = """
INSERT INTO notification (id, tenant_id, report_id, agency_id, field_id, audience, kind, state,
                          due_at, message_vi, message_en, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
ON CONFLICT DO NOTHING RETURNING id
"""
# Running deadlines, nearest first, leaving out those whose last reminder (the breach) exists.
_CANDIDATES = """
SELECT r.* FROM report r
WHERE r.tenant_id = $1 AND r.due_at IS NOT NULL AND r.state = ANY($2::varchar[])
  AND NOT EXISTS (SELECT 1 FROM notification n
                  WHERE n.tenant_id = r.tenant_id AND n.report_id = r.id AND n.state = r.state
                    AND n.due_at = r.due_at AND n.kind = 'OVERDUE')
ORDER BY r.due_at
LIMIT $3
"""


async def send_reminders(tenant_id: uuid.UUID, now: datetime) -> int:
    """Call inside a transaction scoped to the tenant. Returns how many reminders were new.

    ``now`` is the pass's instant: it decides the thresholds and dates the reminders (never the
    database's ``now()``, which a test clock does not move)."""
    conn = connections.get("default")
    rows = await conn.execute_query_dict(
        _CANDIDATES, [tenant_id, [s.value for s in AUDIENCE], BATCH]
    )
    reports = [Report._init_from_db(**row) for row in rows]
    if not reports:
        return 0
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
        for threshold, first in zip(THRESHOLDS, AUDIENCE[state], strict=True):
            if used < threshold.fraction:
                break
            breach = threshold.kind is ReminderKind.OVERDUE
            for audience in (first, *ALSO_AT_BREACH) if breach else (first,):
                created += await _remind_one(report, state, threshold, audience, now)
    return created


async def _remind_one(
    report: Report, state: ReportState, threshold: Threshold, audience: str, now: datetime
) -> int:
    """One reminder to ``audience`` (and its e-mail to those who opted in); 0 if it exists."""
    message = (
        f"Phản ánh {report.code} ({state.label_vi}) {threshold.vi}.",
        f"Report {report.code} ({state.label_en}) {threshold.en}.",
    )
    inserted = await connections.get("default").execute_query_dict(
        _INSERT,
        [
            new_id(),
            report.tenant_id,
            report.id,
            report.lead_agency_id,
            report.field_id,
            audience,
            threshold.kind.value,
            state.value,
            report.due_at,
            *message,
            now,
        ],
    )
    if inserted:  # nothing when this reminder already exists
        await email_opted_in(report, audience, message, now)
    return len(inserted)


async def email_opted_in(
    report: Report, audience: str, message: tuple[str, str], now: datetime
) -> int:
    """The reminder by e-mail too, to each member of the audience (within their grant's agency
    and field) who chose so (outbox.models.StaffPreference), in their language."""
    tenant_id = report.tenant_id
    prefs = {
        p.user_id: p
        for p in await StaffPreference.filter(tenant_id=tenant_id, email_reminders=True)
    }
    if not prefs:
        return 0
    grants = await Membership.filter(
        tenant_id=tenant_id, role=audience, active=True, user_id__in=list(prefs)
    )
    reached = {
        g.user_id
        for g in grants
        if g.agency_id in (None, report.lead_agency_id) and g.field_id in (None, report.field_id)
    }
    tenant = await Tenant.get(id=tenant_id)
    sent = 0
    for user in await User.filter(id__in=list(reached), is_active=True, email__not_isnull=True):
        language = Language(prefs[user.id].language)
        values = {
            "code": report.code,
            "message_vi": message[0],
            "message_en": message[1],
            "tenant_name": tenant.name_en if language is Language.EN else tenant.name_vi,
        }
        await notify(tenant_id, Channel.EMAIL, user.email or "", EventType.DEADLINE_REMINDER,
                     language, values, at=now)  # fmt: skip
        sent += 1
    return sent


def addressed_to(scope: Scope, notification: Notification) -> bool:
    """A reminder reaches the role it names, where that role's own grants apply (a handler of
    one agency and leader of another gets only the leader reminders of the second)."""
    return any(
        r.covers(notification.agency_id, notification.field_id)
        for r in scope.role_reach.get(notification.audience, ())
    )


async def my_notifications(
    scope: Scope, unread_only: bool, limit: int, report_id: uuid.UUID | None = None
) -> list[Notification]:
    tenant_id = scope.require_tenant()
    user_id = scope.require_user()
    query = Notification.filter(tenant_id=tenant_id, audience__in=sorted(scope.roles))
    if report_id is not None:
        query = query.filter(report_id=report_id)
    if unread_only:
        read = NotificationRead.filter(tenant_id=tenant_id, user_id=user_id).values_list(
            "notification_id", flat=True
        )
        query = query.exclude(id__in=Subquery(read))
    mine: list[Notification] = []
    offset = 0
    while len(mine) < limit:  # filter by the caller's grants, page until enough are found
        page = await query.order_by("-created_at", "-id").offset(offset).limit(SCAN)
        mine += [n for n in page if addressed_to(scope, n)]
        if len(page) < SCAN:
            break
        offset += SCAN
    return mine[:limit]


async def read_ids(scope: Scope, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    rows = await NotificationRead.filter(
        tenant_id=scope.require_tenant(), user_id=scope.require_user(), notification_id__in=ids
    ).values_list("notification_id", flat=True)
    return set(cast(list[uuid.UUID], rows))  # flat=True: values, not tuples


async def mark_read(scope: Scope, ids: list[uuid.UUID]) -> int:
    """Read receipts are personal: one colleague's reading hides nothing from the others."""
    tenant_id = scope.require_tenant()
    user_id = scope.require_user()
    rows = await Notification.filter(tenant_id=tenant_id, id__in=ids)
    mine = [n.id for n in rows if addressed_to(scope, n)]
    already = await read_ids(scope, mine)
    fresh = [i for i in mine if i not in already]
    for notification_id in fresh:
        await NotificationRead.create(
            tenant_id=tenant_id, notification_id=notification_id, user_id=user_id
        )
    return len(fresh)
