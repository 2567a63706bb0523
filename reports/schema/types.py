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
from core.graphql import Info, labelled_enum
from permissions.actions import Action
from permissions.graphql import sensitive
from reports import loaders, models, queries
from reports import workflow as wf
from reports.transitions import staff_may
from reports.workflow import ActorKind, available_actions
from tenants import catalog as tenant_catalog
from tenants.types import AdministrativeUnit, Agency, Field, Urgency

ReportState = labelled_enum(wf.ReportState, "ReportState")
WorkflowAction = labelled_enum(wf.WorkflowAction, "WorkflowAction")
EventAction = labelled_enum(wf.EventAction, "EventAction")
RejectReason = labelled_enum(wf.RejectReason, "RejectReason")
ReturnReason = labelled_enum(wf.ReturnReason, "ReturnReason")
ResultOutcome = labelled_enum(wf.Outcome, "ResultOutcome")


# The deadline that is running in each state; none while the reporter or the centre holds it.
RUNNING_DEADLINE = {
    wf.ReportState.SUBMITTED: "screen_due_at",
    wf.ReportState.REOPENED: "screen_due_at",
    wf.ReportState.ASSIGNED: "accept_due_at",
    wf.ReportState.IN_PROGRESS: "resolve_due_at",
    wf.ReportState.RESULT_SUBMITTED: "review_due_at",
}
BLUR_DECIMALS = 2  # ~1 km: the public (and non-privileged) view of a sensitive location


@strawberry.type(
    description="Where the problem is. Blurred (~1 km) for sensitive fields unless "
    "the caller holds report:view_reporter."
)
class Location:
    latitude: float
    longitude: float
    precise: bool


@strawberry.type(description="The reporter's contact. Personal data: centre staff only.")
class ReporterContact:
    name: str
    phone: str | None
    email: str | None


@strawberry.type
class Attachment:
    id: relay.GlobalID
    kind: str
    content_type: str
    url: str
    thumbnail_url: str | None
    width: int | None
    height: int | None
    size: int

    @classmethod
    def from_row(cls, row: models.Attachment, info: Info) -> Self:
        storage = info.context.services.storage
        return cls(
            id=relay.GlobalID("Attachment", str(row.id)),
            kind=row.kind,
            content_type=row.content_type,
            url=storage.url(row.storage_key),
            thumbnail_url=storage.url(row.thumbnail_key) if row.thumbnail_key else None,
            width=row.width,
            height=row.height,
            size=row.size,
        )


@strawberry.type(description="Gia hạn: one extension per report, decided by the centre.")
class ExtensionRequest:
    status: str = strawberry.field(description="pending, approved or denied.")
    reason: str
    requested_due_at: datetime.datetime
    decision_comment: str | None
    created_at: datetime.datetime
    decided_at: datetime.datetime | None

    @classmethod
    def from_row(cls, row: models.ExtensionRequest) -> Self:
        return cls(
            status=row.status,
            reason=row.reason,
            requested_due_at=row.requested_due_at,
            decision_comment=row.decision_comment,
            created_at=row.created_at,
            decided_at=row.decided_at,
        )


@strawberry.type(description="A question from the agency to the reporter (pauses its clock).")
class InfoRequest:
    question: str
    answer: str | None
    status: str = strawberry.field(description="open, answered or expired.")
    created_at: datetime.datetime
    answered_at: datetime.datetime | None

    @classmethod
    def from_row(cls, row: models.InfoRequest) -> Self:
        return cls(
            question=row.question,
            answer=row.answer,
            status=row.status,
            created_at=row.created_at,
            answered_at=row.answered_at,
        )


@strawberry.type(description="One step of the history (append-only).")
class ReportEvent:
    id: relay.GlobalID
    action: str
    from_state: ReportState | None
    to_state: ReportState
    actor_role: str
    reason_code: str | None
    comment: str | None
    public: bool
    data: JSON | None
    created_at: datetime.datetime

    @classmethod
    def from_row(cls, row: models.ReportEvent, *, staff: bool) -> Self:
        return cls(
            id=relay.GlobalID("ReportEvent", str(row.id)),
            action=row.action,
            from_state=wf.ReportState(row.from_state) if row.from_state else None,
            to_state=wf.ReportState(row.to_state),
            actor_role=row.actor_role if staff else "",
            reason_code=row.reason_code,
            comment=row.comment if staff or row.public else None,
            public=row.public,
            data=row.data if staff else None,
            created_at=row.created_at,
        )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def _is_staff(info: Info) -> bool:
    return queries.is_staff(info.context.scope)


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
    screen_due_at: datetime.datetime | None
    accept_due_at: datetime.datetime | None
    resolve_due_at: datetime.datetime | None
    review_due_at: datetime.datetime | None
    resolved_at: datetime.datetime | None
    closed_at: datetime.datetime | None
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
            urgency=row.urgency,
            address=row.address,
            unit_code=row.unit_code,
            version=row.version,
            anonymous=row.anonymous,
            published=row.published,
            rating=row.rating,
            screen_due_at=row.screen_due_at,
            accept_due_at=row.accept_due_at,
            resolve_due_at=row.resolve_due_at,
            review_due_at=row.review_due_at,
            resolved_at=row.resolved_at,
            closed_at=row.closed_at,
            sla_version=row.sla_version,
            created_at=row.created_at,
            updated_at=row.updated_at,
            row=row,
        )

    @classmethod
    async def resolve_nodes(
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        ids = list(node_ids)
        try:
            query = queries.visible_reports(info.context.scope)
        except Exception:  # no report:view: nothing is visible through node()
            return [None for _ in ids]
        scope = info.context.scope
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

    @strawberry.field(description="State label in the request's language.")
    def state_label(self, info: Info) -> str:
        return self.state.label(info.context.lang)

    @strawberry.field(description="The deadline now running, if any.")
    def due_at(self) -> datetime.datetime | None:
        column = RUNNING_DEADLINE.get(self.state)
        return getattr(self.row, column) if column else None

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

    @strawberry.field(description="Coordinating agencies (đơn vị phối hợp).")
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
        precise = not (field and field.sensitive) or self._may_see_reporter(info)
        lat, lng = self.row.latitude, self.row.longitude
        if not precise:
            lat, lng = round(lat, BLUR_DECIMALS), round(lng, BLUR_DECIMALS)
        return Location(latitude=lat, longitude=lng, precise=precise)

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
        return ReporterContact(name=row.name, phone=row.phone, email=row.email)

    @strawberry.field(description="Answers to the field's questions, as submitted.")
    def answers(self) -> JSON | None:
        return self.row.answers

    @strawberry.field(description="The history, oldest first. Internal notes for staff only.")
    async def events(self, info: Info) -> list[ReportEvent]:
        staff = _is_staff(info)
        rows = await loaders.events_loader(info.context).load(self.row.id)
        return [ReportEvent.from_row(r, staff=staff) for r in rows]

    @strawberry.field(description="The latest step of the history.")
    async def last_event(self, info: Info) -> ReportEvent | None:
        row = await loaders.last_event_loader(info.context).load(self.row.id)
        return ReportEvent.from_row(row, staff=_is_staff(info)) if row else None

    @strawberry.field(description="The extension request, if the agency asked for one.")
    async def extension(self, info: Info) -> ExtensionRequest | None:
        row = await loaders.extension_loader(info.context).load(self.row.id)
        return ExtensionRequest.from_row(row) if row else None

    @strawberry.field(description="Questions the agency asked the reporter.")
    async def info_requests(self, info: Info) -> list[InfoRequest]:
        rows = await loaders.info_requests_loader(info.context).load(self.row.id)
        return [InfoRequest.from_row(r) for r in rows]

    @strawberry.field
    async def attachments(self, info: Info) -> list[Attachment]:
        rows = await loaders.attachments_loader(info.context).load(self.row.id)
        return [Attachment.from_row(r, info) for r in rows]

    @strawberry.field(description="Workflow actions the caller may take now (drive the buttons).")
    def available_actions(self, info: Info) -> list[WorkflowAction]:
        scope = info.context.scope
        own = scope.user_id is not None and scope.user_id == self.row.reporter_user_id
        result = []
        for action in available_actions(self.state):
            t = wf.find_transition(self.state, action)
            staff_ok = staff_may(scope, t, self.row.lead_agency_id, self.row.field_id)
            reporter_ok = ActorKind.REPORTER in t.actor and own and scope.allows(t.permission)
            if staff_ok or reporter_ok:
                result.append(action)
        return result
