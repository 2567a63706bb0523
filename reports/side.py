"""Steps beside the workflow: comments and the publication decision (domain.md §3, §8), and the
helpers the side processes share (``reports.extensions`` uses them too).

A side step never changes the report's state: its event repeats the current state as both
``from_state`` and ``to_state`` and carries a ``SideAction``. The report's ``version`` is bumped
only when the report row itself changes. Use it through ``reports.service``.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from tortoise.expressions import F

from core import clock
from core.errors import DomainError, NotFound, PermissionDenied, Validator
from core.labels import Labelled
from permissions.actions import Action
from permissions.scope import Scope
from reports.attachments import check_media, cleanup_on_error, store_media
from reports.media import ProcessedMedia
from reports.models import Report, ReportEvent
from reports.storage import Storage
from reports.submission import actor_role
from reports.transitions import json_value, stale_error
from reports.workflow import ActorKind, ReportState

COMMENT_MAX = 5000
PUBLISHABLE_STATES: frozenset[ReportState] = frozenset({ReportState.RESOLVED, ReportState.CLOSED})


class SideAction(Labelled):
    """Event actions of side steps (``ReportEvent.action``), next to ``WorkflowAction``."""

    COMMENT = "COMMENT", "Bình luận", "Comment"
    PUBLISH = "PUBLISH", "Quyết định công khai", "Publication decision"
    REQUEST_EXTENSION = "REQUEST_EXTENSION", "Đề nghị gia hạn", "Extension requested"
    APPROVE_EXTENSION = "APPROVE_EXTENSION", "Duyệt gia hạn", "Extension approved"
    DENY_EXTENSION = "DENY_EXTENSION", "Không duyệt gia hạn", "Extension denied"
    ASK_INFO = "ASK_INFO", "Đề nghị người phản ánh bổ sung", "Information requested"
    ANSWER_INFO = "ANSWER_INFO", "Người phản ánh trả lời", "Information provided"


# --- shared helpers -----------------------------------------------------------------------------
async def load_report(scope: Scope, report_id: uuid.UUID) -> Report:
    """The report in the scope's own tenant (RLS hides other tenants' rows): else NOT_FOUND."""
    tenant_id = scope.require_tenant()
    report = await Report.get_or_none(tenant_id=tenant_id, id=report_id)
    if report is None:
        raise NotFound("report", "reportId")
    return report


def require_state(report: Report, allowed: Collection[ReportState], code: str) -> ReportState:
    state = ReportState(report.state)
    if state not in allowed:
        names_vi = ", ".join(f"«{s.label_vi}»" for s in sorted(allowed))
        names_en = ", ".join(s.value for s in sorted(allowed))
        raise DomainError(
            code,
            f"Không thể thực hiện khi phản ánh đang ở trạng thái «{state.label_vi}» "
            f"(chỉ khi: {names_vi}).",
            f"Not possible while the report is {state.value} (only when {names_en}).",
            None,
        )
    return state


def clean_text(v: Validator, field_name: str, value: str | None, max_len: int) -> str:
    return v.text(field_name, value, max_len=max_len) or ""


def is_reporter(scope: Scope, report: Report) -> bool:
    return scope.user_id is not None and scope.user_id == report.reporter_user_id


async def record_event(
    scope: Scope,
    report: Report,
    action: SideAction,
    actor: ActorKind,
    *,
    at: datetime,
    comment: str | None = None,
    public: bool = False,
    data: dict[str, Any] | None = None,
) -> ReportEvent:
    """Append a side event at the step's instant ``at``; the state is the report's current one
    (unchanged)."""
    return await ReportEvent.create(
        tenant_id=report.tenant_id,
        report_id=report.id,
        actor_user_id=scope.user_id,
        actor_role=actor_role(scope, actor),
        action=action.value,
        from_state=report.state,
        to_state=report.state,
        comment=comment,
        public=public,
        data={k: json_value(v) for k, v in data.items()} if data else None,
        created_at=at,
    )


async def update_report(report: Report, now: datetime, **changes: Any) -> Report:
    """Change the report row, bump its version (optimistic: STALE_VERSION if it moved)."""
    updated = await Report.filter(
        tenant_id=report.tenant_id, id=report.id, version=report.version
    ).update(version=F("version") + 1, updated_at=now, **changes)
    if updated != 1:
        raise stale_error()
    return await Report.get(tenant_id=report.tenant_id, id=report.id)


# --- comments -----------------------------------------------------------------------------------
def _comment_capacity(scope: Scope, report: Report) -> ActorKind:
    """Staff of the lead or a coordinating agency (in the field), else the reporter."""
    agencies = (report.lead_agency_id, *(report.coordinating_agency_ids or ()))
    if any(scope.allows_on(Action.REPORT_COMMENT, a, report.field_id) for a in agencies):
        return ActorKind.STAFF
    if is_reporter(scope, report):
        return ActorKind.REPORTER
    scope.require_user()
    raise PermissionDenied(Action.REPORT_COMMENT.value)


async def add_comment(
    scope: Scope,
    report_id: uuid.UUID,
    text: str,
    public: bool,
    *,
    media: Sequence[ProcessedMedia] = (),
    storage: Storage | None = None,
) -> ReportEvent:
    """A COMMENT event, optionally with photos. Staff choose ``public``; the reporter's own
    comments are always public. The report row does not change."""
    report = await load_report(scope, report_id)
    actor = _comment_capacity(scope, report)
    v = Validator()
    body = clean_text(v, "text", text, COMMENT_MAX)
    v.check()
    check_media(media, storage)
    now = clock.now()
    event = await record_event(
        scope,
        report,
        SideAction.COMMENT,
        actor,
        at=now,
        comment=body,
        public=public or actor is ActorKind.REPORTER,
        data={"attachments": len(media)} if media else None,
    )
    if media:
        async with cleanup_on_error(storage) as written:
            assert written is not None
            await store_media(
                scope, report.id, media, written.storage, event.id, written=written, now=now
            )
    return event


# --- publication --------------------------------------------------------------------------------
async def publish(scope: Scope, report_id: uuid.UUID, published: bool) -> Report:
    """The centre's publication decision on a resolved (or closed) report (domain.md §8).

    Deciding what is already in force changes nothing and records nothing."""
    report = await load_report(scope, report_id)
    scope.require_on(Action.REPORT_PUBLISH, report.lead_agency_id, report.field_id)
    if ReportState(report.state) not in PUBLISHABLE_STATES:
        state = ReportState(report.state)
        raise DomainError(
            "NOT_PUBLISHABLE",
            f"Chỉ công khai phản ánh đã xử lý hoặc đã đóng; phản ánh đang «{state.label_vi}».",
            f"Only resolved or closed reports can be published; this one is {state.value}.",
            "published",
        )
    if report.published == published:
        return report
    now = clock.now()
    updated = await update_report(report, now, published=published)
    await record_event(
        scope, report, SideAction.PUBLISH, ActorKind.STAFF, at=now, data={"published": published}
    )
    return updated
