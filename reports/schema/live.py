"""Subscriptions: live report activity for operator consoles and the citizen app."""

from __future__ import annotations

import datetime
from collections.abc import AsyncGenerator

import strawberry
from strawberry import relay

from accounts.revocations import still_valid
from core.graphql import Info
from core.relay import decode_optional
from permissions.graphql import login_required
from permissions.scope import Scope
from permissions.session import scoped_transaction
from permissions.store import store
from reports import queries, views
from reports import workflow as wf
from reports.live import Notice, bus
from reports.models import ReportEvent
from reports.schema.types import EventAction, ReportState


@strawberry.type(description="A new step in a report's history. Fetch details with `report`.")
class ReportActivity:
    report_id: relay.GlobalID
    code: str
    state: ReportState
    action: EventAction
    public: bool
    created_at: datetime.datetime


async def _current_scope(scope: Scope) -> Scope:
    """Re-read the caller's Scope for each event: a revoke ends what a WebSocket may see."""
    user_id = scope.require_user()
    return await store.scope_for(user_id, scope.require_tenant())


async def _activity(scope: Scope, notice: Notice) -> ReportActivity | None:
    async with scoped_transaction(scope):  # one short transaction per event
        report = await queries.readable_reports(scope).get_or_none(id=notice.report_id)
        event = await ReportEvent.get_or_none(id=notice.event_id) if report else None
    if report is None or event is None:
        return None
    # Staff hear of everything they may see; a reporter of the steps disclosed to them.
    if not views.history([event], views.viewer_of(scope, report)):
        return None
    return ReportActivity(
        report_id=relay.GlobalID("Report", str(report.id)),
        code=report.code,
        state=ReportState(report.state),
        action=wf.EventAction(event.action),
        public=event.public,
        created_at=event.created_at,
    )


@strawberry.type
class ReportSubscription:
    @strawberry.subscription(
        extensions=login_required(),
        description="Activity on reports the caller may see (staff: their scope; citizens: "
        "their own reports), optionally one report only.",
    )
    async def report_activity(
        self, info: Info, report_id: relay.GlobalID | None = None
    ) -> AsyncGenerator[ReportActivity, None]:
        scope = info.context.scope
        wanted = decode_optional(report_id, "Report", "reportId")
        async with bus.subscribe(scope.require_tenant()) as queue:
            while True:
                notice = await queue.get()
                if wanted is not None and notice.report_id != wanted:
                    continue
                if not await still_valid(info.context.caller):
                    return  # token expired or session revoked (the connection closes too)
                current = await _current_scope(scope)
                if not current.active or not current.roles:
                    return  # deactivated or every role revoked: the stream ends
                activity = await _activity(current, notice)
                if activity is not None:
                    yield activity
