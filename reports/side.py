"""Steps beside the workflow: comments and the publication decision (docs/domain.md §3, §8).

A side step never changes the report's state: its event repeats the current state as both
``from_state`` and ``to_state`` and carries a ``SideAction``. The report's ``version`` is bumped
only when the report row itself changes. Use it through ``reports.service``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from core import clock
from core.errors import DomainError, PermissionDenied, Validator
from permissions.actions import Action
from permissions.scope import Scope
from reports.attachments import check_media, cleanup_on_error, store_media
from reports.first_response import first_response
from reports.media import ProcessedMedia
from reports.models import Report, ReportEvent
from reports.records import clean_text, is_reporter, load_report, record_event, update_report
from reports.storage import Storage
from reports.workflow import ActorKind, ReportState, SideAction

COMMENT_MAX = 5000
PUBLISHABLE_STATES: frozenset[ReportState] = frozenset({ReportState.RESOLVED, ReportState.CLOSED})


# --- comments -----------------------------------------------------------------------------------
def _comment_capacity(scope: Scope, report: Report) -> ActorKind:
    """Staff of the lead or a coordinating agency (in the field), else the reporter."""
    agencies = (report.lead_agency_id, *(report.coordinating_agency_ids or ()))
    if any(scope.allows_on(Action.REPORT_COMMENT, a, report.field_id) for a in agencies):
        return ActorKind.STAFF
    if is_reporter(scope, report):
        return ActorKind.REPORTER
    scope.require_user()
    raise PermissionDenied(Action.REPORT_COMMENT)


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
    comments are always public. The report row does not change, except that the agency's first
    public comment on an urgent report moves its deadline to the full result
    (``reports.first_response``)."""
    report = await load_report(scope, report_id)
    actor = _comment_capacity(scope, report)
    v = Validator()
    body = clean_text(v, "text", text, COMMENT_MAX)
    v.check()
    check_media(media, storage)
    now = clock.now()
    data: dict[str, object] = {"attachments": len(media)} if media else {}
    if actor is ActorKind.STAFF and public:
        report, answered = await first_response(report, now)
        data |= answered
    event = await record_event(
        scope,
        report,
        SideAction.COMMENT,
        actor,
        at=now,
        comment=body,
        public=public or actor is ActorKind.REPORTER,
        data=data or None,
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
    """The centre's publication decision on a resolved (or closed) report (docs/domain.md §8).

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
