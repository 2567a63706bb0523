"""GraphQL types of the reports domain (objects returned to clients)."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from typing import Self

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from core import clock
from core.graphql import Info
from permissions.actions import Action
from permissions.graphql import sensitive
from reports import loaders, models, queries, service, views
from reports import workflow as wf
from reports.identity_audit import identity_view_loader, identity_views
from reports.schema.parts import (
    Attachment,
    Channel,
    EscalationLevel,
    EventAction,
    ExtensionRequest,
    HeldContact,
    InfoRequest,
    Location,
    MasterOutcome,
    RejectReason,
    ReporterContact,
    ReporterKind,
    ReporterView,
    ReportEvent,
    ReportResult,
    ReportState,
    ReportTransfer,
    ResultOutcome,
    ReturnReason,
    WorkflowAction,
)
from reports.transitions import staff_may
from reports.workflow import ActorKind, available_actions
from tenants import catalog as tenant_catalog
from tenants.models import Tenant as TenantRow
from tenants.types import AdministrativeUnit, Agency, Field, Urgency

__all__ = [
    "Attachment",
    "Channel",
    "EscalationLevel",
    "EventAction",
    "ExtensionRequest",
    "HeldContact",
    "InfoRequest",
    "Location",
    "MasterOutcome",
    "RejectReason",
    "Report",
    "ReportEvent",
    "ReportResult",
    "ReportState",
    "ReportTransfer",
    "ReporterContact",
    "ReporterKind",
    "ReporterView",
    "ResultOutcome",
    "ReturnReason",
    "Urgency",
    "WorkflowAction",
]


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


@strawberry.type(description="A field report (phản ánh hiện trường).")
class Report(relay.Node):
    id: relay.NodeID[str]
    code: str = strawberry.field(
        description="Human code unique in the tenant, e.g. SP-2026-000123."
    )
    title: str
    description: str
    state: ReportState
    urgency: Urgency
    address: str
    unit_code: str | None
    version: int = strawberry.field(description="Send it back with a change (optimistic lock).")
    anonymous: bool
    published: bool
    rating: int | None
    reporter_kind: ReporterKind
    channel: Channel
    screen_due_at: datetime.datetime | None
    accept_due_at: datetime.datetime | None
    resolve_due_at: datetime.datetime | None
    review_due_at: datetime.datetime | None
    resolved_at: datetime.datetime | None
    closed_at: datetime.datetime | None
    escalation: EscalationLevel | None = strawberry.field(
        description="Who watches it after a breach or on demand: the locality's leadership, "
        "then the province (null: not escalated)."
    )
    escalated_at: datetime.datetime | None
    sla_version: int
    created_at: datetime.datetime
    updated_at: datetime.datetime
    row: strawberry.Private[models.Report]

    @classmethod
    def from_row(cls, row: models.Report) -> Self:
        return cls(
            id=str(row.id),
            code=row.code,
            title=row.title,
            description=row.description,
            state=wf.ReportState(row.state),
            urgency=Urgency(row.urgency),
            address=row.address,
            unit_code=row.unit_code,
            version=row.version,
            anonymous=row.anonymous,
            published=row.published,
            rating=row.rating,
            reporter_kind=models.ReporterKind(row.reporter_kind),
            channel=models.Channel(row.channel),
            screen_due_at=row.screen_due_at,
            accept_due_at=row.accept_due_at,
            resolve_due_at=row.resolve_due_at,
            review_due_at=row.review_due_at,
            resolved_at=row.resolved_at,
            closed_at=row.closed_at,
            escalation=wf.EscalationLevel(row.escalation) if row.escalation else None,
            escalated_at=row.escalated_at,
            sla_version=row.sla_version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # one body for strawberry's overloads
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        ids = list(node_ids)
        scope = info.context.scope
        if scope.user_id is None:  # anonymous callers follow a report by its tracking code
            return [None for _ in ids]
        query = queries.readable_reports(scope)
        if scope.tenant_id is not None:
            await tenant_catalog.load(scope.tenant_id)
        valid = [i for i in ids if _is_uuid(i)]  # a malformed id is simply not found
        rows = {str(r.id): r for r in await query.filter(id__in=valid)} if valid else {}
        return [cls.from_row(rows[i]) if i in rows else None for i in ids]

    def _may_see_reporter(self, info: Info) -> bool:
        """Personal data is checked on this report, not "anywhere": a grant narrowed to one
        field or agency reveals nothing of the others."""
        return info.context.scope.allows_on(
            Action.REPORT_VIEW_REPORTER, self.row.lead_agency_id, self.row.field_id
        )

    def _viewer(self, info: Info) -> views.Viewer:
        ctx = info.context
        return views.viewer_of(ctx.scope, self.row, ctx.tracked_reports)

    async def _events(self, info: Info) -> list[views.EventView]:
        rows = await loaders.events_loader(info.context).load(self.row.id)
        return views.history(rows, self._viewer(info))

    @strawberry.field(description="State label in the request's language.")
    def state_label(self, info: Info) -> str:
        return self.state.label(info.context.lang)

    @strawberry.field(description="The deadline now running, if any.")
    def due_at(self) -> datetime.datetime | None:
        stage = wf.RUNNING_STAGE.get(self.state)
        return getattr(self.row, f"{stage.value}_due_at") if stage else None

    @strawberry.field(description="Seconds until the running deadline (negative when late).")
    def due_in(self) -> int | None:
        due = self.due_at()
        return int((due - clock.now()).total_seconds()) if due else None

    @strawberry.field(description="The running deadline has passed (computed, never stored).")
    def overdue(self) -> bool:
        due = self.due_at()
        return due is not None and due < clock.now()

    @strawberry.field(description="Finished after its resolve deadline.")
    def late(self) -> bool:
        due, done = self.row.resolve_due_at, self.row.resolved_at
        return due is not None and done is not None and done > due

    # The relations below answer synchronously from the tenant catalog when it is warm (lists
    # warm it): no query and no awaited DataLoader per row. Otherwise they return the awaitable
    # DataLoader path, which graphql-core awaits.
    @strawberry.field
    def field(self, info: Info) -> Field | None:
        catalog = tenant_catalog.cached(self.row.tenant_id)
        row = catalog.fields.get(self.row.field_id) if catalog is not None else None
        if row is not None:
            return Field.from_row(row)
        return self._load_field(info)  # type: ignore[return-value]

    async def _load_field(self, info: Info) -> Field | None:
        row = await loaders.field_loader(info.context).load(self.row.field_id)
        return Field.from_row(row) if row else None

    @strawberry.field(description="The lead agency (cơ quan chủ trì).")
    def lead_agency(self, info: Info) -> Agency | None:
        if self.row.lead_agency_id is None:
            return None
        catalog = tenant_catalog.cached(self.row.tenant_id)
        row = catalog.agencies.get(self.row.lead_agency_id) if catalog is not None else None
        if row is not None:
            return Agency.from_row(row)
        return self._load_agency(info, self.row.lead_agency_id)  # type: ignore[return-value]

    async def _load_agency(self, info: Info, agency_id: uuid.UUID) -> Agency | None:
        row = await loaders.agency_loader(info.context).load(agency_id)
        return Agency.from_row(row) if row else None

    @strawberry.field(description="Coordinating agencies (cơ quan phối hợp).")
    async def coordinating_agencies(self, info: Info) -> list[Agency]:
        rows = await loaders.agency_loader(info.context).load_many(
            list(self.row.coordinating_agency_ids or [])
        )
        return [Agency.from_row(r) for r in rows if r]

    @strawberry.field(description="Found from the location; empty when outside every unit.")
    def administrative_unit(self, info: Info) -> AdministrativeUnit | None:
        if not self.row.unit_code:
            return None
        units = tenant_catalog.cached_units()
        row = units.get(self.row.unit_code) if units is not None else None
        if row is not None:
            return AdministrativeUnit.from_row(row)
        return self._load_unit(info, self.row.unit_code)  # type: ignore[return-value]

    async def _load_unit(self, info: Info, code: str) -> AdministrativeUnit | None:
        row = await loaders.unit_loader(info.context).load(code)
        return AdministrativeUnit.from_row(row) if row else None

    @strawberry.field
    async def location(self, info: Info) -> Location:
        field = await loaders.field_loader(info.context).load(self.row.field_id)
        precise = self._may_see_reporter(info) or self._own(info)
        sensitive = bool(field and field.sensitive)
        return Location.of(self.row.latitude, self.row.longitude, sensitive, precise)

    def _own(self, info: Info) -> bool:
        """The logged-in reporter of this report (they know where they stood)."""
        scope = info.context.scope
        return scope.user_id is not None and scope.user_id == self.row.reporter_user_id

    @strawberry.field(
        extensions=sensitive(Action.REPORT_VIEW_REPORTER),
        description="Null unless the caller holds report:view_reporter for this report's "
        "agency and field.",
    )
    async def reporter(self, info: Info) -> ReporterContact | None:
        if not self._may_see_reporter(info):
            return None
        row = await loaders.contact_loader(info.context).load(self.row.id)
        if row is None:
            return None
        # Every reveal is logged (reports/identity_audit.py).
        await identity_view_loader(info.context).load((self.row.tenant_id, self.row.id))
        return ReporterContact(name=row.name, phone=row.phone, email=row.email)

    @strawberry.field(
        description="The contact data this report holds about its reporter: only for that "
        "reporter (tracking code or sign-in); null for everyone else, staff included."
    )
    async def held_contact(self, info: Info) -> HeldContact | None:
        if self._viewer(info) is not views.Viewer.REPORTER:
            return None
        row = await loaders.contact_row_loader(info.context).load(self.row.id)
        if row is None:
            return None
        return HeldContact.of(await service.describe_contact(self.row, row))

    @strawberry.field(description="For a duplicate: the master it follows (null otherwise).")
    async def master(self) -> MasterOutcome | None:
        row = self.row
        if row.duplicate_of_id is None or row.state != wf.ReportState.DUPLICATE:
            return None
        master = await models.Report.get_or_none(tenant_id=row.tenant_id, id=row.duplicate_of_id)
        if master is None:
            return None
        return MasterOutcome(
            code=master.code,
            state=wf.ReportState(master.state),
            outcome=wf.Outcome(master.outcome) if master.outcome else None,
            resolved_at=master.resolved_at,
        )

    @strawberry.field(description="The transfer between localities, if any (reports/transfer.py).")
    async def transfer(self, info: Info) -> ReportTransfer | None:
        row = self.row
        sent = row.transferred_to_tenant_id is not None
        other_id = row.transferred_to_tenant_id if sent else row.transferred_from_tenant_id
        other = await TenantRow.get_or_none(id=other_id) if other_id else None
        if other is None:
            return None
        reporter = sent and self._viewer(info) is views.Viewer.REPORTER
        return ReportTransfer(
            sent=sent,
            tenant_code=other.code,
            tenant_name=other.name_en if info.context.lang == "en" else other.name_vi,
            report_code=row.transferred_to_code if sent else row.transferred_from_code,
            tracking_code=row.tracking_code if reporter else None,
        )

    @strawberry.field(
        extensions=sensitive(Action.REPORT_VIEW_REPORTER),
        description="Whether the reporter's account proved its contact (a one-time code or the "
        "identity provider). Null without report:view_reporter, for anonymous reports and for "
        "reports without an account.",
    )
    async def reporter_verified(self, info: Info) -> bool | None:
        row = self.row
        if not self._may_see_reporter(info) or row.anonymous or row.reporter_user_id is None:
            return None
        return await loaders.reporter_verified_loader(info.context).load(row.reporter_user_id)

    @strawberry.field(
        extensions=sensitive(Action.REPORT_VIEW_REPORTER),
        description="Who has seen the reporter's identity, newest first (null unless the "
        "caller may see the reporter of this report).",
    )
    async def reporter_views(self, info: Info) -> list[ReporterView] | None:
        if not self._may_see_reporter(info):
            return None
        rows = await identity_views(info.context.scope, self.row.id)
        return [
            ReporterView(
                viewer_id=relay.GlobalID("User", str(r.viewer_user_id)), viewed_at=r.viewed_at
            )
            for r in rows
        ]

    @strawberry.field(description="Answers to the field's questions, as submitted.")
    def answers(self) -> JSON | None:
        return None if self.row.answers is None else JSON(self.row.answers)

    @strawberry.field(
        description="The history, oldest first. Staff see every step and note; the reporter the "
        "steps and the words owed to them."
    )
    async def events(self, info: Info) -> list[ReportEvent]:
        return [ReportEvent.from_view(v) for v in await self._events(info)]

    @strawberry.field(description="The latest step of the history the caller may see.")
    async def last_event(self, info: Info) -> ReportEvent | None:
        if self._viewer(info) is views.Viewer.STAFF:  # one query for a whole page of reports
            row = await loaders.last_event_loader(info.context).load(self.row.id)
            return ReportEvent.from_view(views.EventView(row, True, True)) if row else None
        shown = await self._events(info)
        return ReportEvent.from_view(shown[-1]) if shown else None

    @strawberry.field(description="The extension request, if the agency asked for one (staff).")
    async def extension(self, info: Info) -> ExtensionRequest | None:
        if self._viewer(info) is not views.Viewer.STAFF:
            return None
        row = await loaders.extension_loader(info.context).load(self.row.id)
        return ExtensionRequest.from_row(row) if row else None

    @strawberry.field(
        description="Questions to the reporter and their answers, oldest first: the centre's "
        "(requestInfo) and the agency's (askReporter)."
    )
    async def info_requests(self, info: Info) -> list[InfoRequest]:
        events = await loaders.events_loader(info.context).load(self.row.id)
        asked = await loaders.info_requests_loader(info.context).load(self.row.id)
        return [InfoRequest(**vars(q)) for q in views.questions(events, asked)]

    @strawberry.field(
        description="Photos and videos the caller may see: staff all; the reporter those of the "
        "report, of the approved result and of steps shown to them."
    )
    async def attachments(self, info: Info) -> list[Attachment]:
        rows = await loaders.attachments_loader(info.context).load(self.row.id)
        viewer = self._viewer(info)
        if viewer is views.Viewer.STAFF:  # every file: no need for the history
            return [Attachment.from_row(r, views.origin(r), info) for r in rows]
        events = await loaders.events_loader(info.context).load(self.row.id)
        shown = views.attachments(self.row, rows, events, viewer)
        return [Attachment.from_row(r, origin, info) for r, origin in shown]

    @strawberry.field(
        description="The result: for the reporter and the public once the centre approved it, "
        "with its photos; staff see one awaiting review too."
    )
    async def result(self, info: Info) -> ReportResult | None:
        events = await loaders.events_loader(info.context).load(self.row.id)
        viewer = self._viewer(info)
        found = views.result(self.row, events, viewer)
        if found is None:
            return None
        rows = await loaders.attachments_loader(info.context).load(self.row.id)
        photos = [
            Attachment.from_row(r, origin, info)
            for r, origin in views.attachments(self.row, rows, events, viewer)
            if r.event_id == found.event.id
        ]
        return ReportResult(
            text=found.event.comment,
            outcome=wf.Outcome(found.outcome) if found.outcome else None,
            approved=found.approved,
            submitted_at=found.event.created_at,
            approved_at=found.approved_at,
            attachments=photos,
        )

    @strawberry.field(
        description="The officer of the lead agency the report was handed to (staff only)."
    )
    def assignee_id(self, info: Info) -> relay.GlobalID | None:
        officer = self.row.assignee_user_id
        if officer is None or not queries.is_staff(info.context.scope):
            return None
        return relay.GlobalID("User", str(officer))

    @strawberry.field(description="Workflow actions the caller may take now (drive the buttons).")
    def available_actions(self, info: Info) -> list[WorkflowAction]:
        scope = info.context.scope
        own = scope.user_id is not None and scope.user_id == self.row.reporter_user_id
        result: list[WorkflowAction] = []
        now = clock.now()
        for action in available_actions(self.state):
            if action is wf.WorkflowAction.RATE_DISSATISFIED:
                continue  # the same button as RATE: the rating decides
            t = wf.find_transition(self.state, action)
            if not wf.window_open(t, self.row.resolved_at, now):
                continue
            staff_ok = staff_may(scope, t, self.row.lead_agency_id, self.row.field_id)
            reporter_ok = ActorKind.REPORTER in t.actor and own and scope.allows(t.permission)
            if staff_ok or reporter_ok:
                result.append(action)
        return result
