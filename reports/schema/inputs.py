"""GraphQL inputs of the reports domain."""

from __future__ import annotations

import datetime
from typing import TypeAlias

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload
from strawberry.scalars import JSON

from outbox.graphql_enums import Language, NotifyBy
from outbox.vocabulary import Language as LanguageValue
from reports import models, queries
from reports import workflow as wf
from reports.schema.types import (
    Channel,
    EscalationLevel,
    RejectReason,
    ReporterKind,
    ReportState,
    ResultOutcome,
    ReturnReason,
    Urgency,
)
from tenants import sla

# --- inputs ---------------------------------------------------------------------------------


@strawberry.input
class ContactInput:
    name: str = ""
    phone: str | None = None
    email: str | None = None
    language: Language = strawberry.field(
        default=LanguageValue.VI, description="The language of the messages they are sent."
    )
    notify_by: NotifyBy | None = strawberry.field(
        default=None,
        description="How to tell them of each public step; default: by e-mail when given.",
    )


@strawberry.input(description="A new report. Send files as `attachments` (multipart request).")
class SubmitReportInput:
    title: str
    description: str
    field_id: relay.GlobalID
    latitude: float
    longitude: float
    address: str = ""
    urgency: Urgency = strawberry.field(
        default=sla.Urgency.NORMAL, description="The reporter's suggestion."
    )
    anonymous: bool = False
    idempotency_key: str | None = strawberry.field(
        default=None, description="Client-chosen key: a retry returns the first report."
    )
    contact: ContactInput | None = None
    on_behalf: bool = strawberry.field(
        default=False, description="An operator enters a hotline caller's report."
    )
    reporter_kind: ReporterKind = strawberry.field(
        default=models.ReporterKind.PERSON,
        description="A person, an organisation or a business.",
    )
    channel: Channel | None = strawberry.field(
        default=None,
        description="How it arrived; default HOTLINE for onBehalf, otherwise APP.",
    )
    attachments: list[Upload] = strawberry.field(
        default_factory=list, description="Up to 5 photos or 1 short video."
    )
    answers: JSON | None = strawberry.field(
        default=None, description="Answers to the field's `questions`: {key: value}."
    )


@strawberry.input
class TransitionInput:
    id: relay.GlobalID
    version: int
    comment: str | None = None


@strawberry.input(description="A step with a reason: the comment is required.")
class ReasonedTransitionInput:
    id: relay.GlobalID
    version: int
    reason_code: str | None = strawberry.field(
        default=None, description="The tenant's own code, if it uses one (upper-case)."
    )
    comment: str | None = None


@strawberry.input(description="Không tiếp nhận: the reason is chosen from the list.")
class RejectReportInput:
    id: relay.GlobalID
    version: int
    reason: RejectReason
    comment: str = strawberry.field(description="Explained to the reporter.")


@strawberry.input(description="Trả lại: why the agency is not the one to handle it.")
class ReturnReportInput:
    id: relay.GlobalID
    version: int
    reason: ReturnReason
    comment: str


@strawberry.input
class AssignReportInput:
    id: relay.GlobalID
    version: int
    lead_agency_id: relay.GlobalID
    coordinating_agency_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)
    urgency: Urgency | None = None
    comment: str | None = None


@strawberry.input
class RerouteReportInput:
    id: relay.GlobalID
    version: int
    lead_agency_id: relay.GlobalID
    comment: str = strawberry.field(description="Why the report moves (required).")
    coordinating_agency_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)
    urgency: Urgency | None = None


@strawberry.input
class EscalateReportInput:
    id: relay.GlobalID
    version: int
    comment: str = strawberry.field(description="Why the leadership must look (required).")


@strawberry.input
class TransferReportInput:
    id: relay.GlobalID
    version: int
    tenant_code: str = strawberry.field(
        description="The receiving locality (or the province's tenant), by its code, e.g. sa-pa."
    )
    comment: str = strawberry.field(
        description="Why it belongs there (required; the reporter reads it)."
    )


@strawberry.input
class HandOffReportInput:
    id: relay.GlobalID
    version: int
    officer_id: relay.GlobalID = strawberry.field(description="The officer (a User).")
    comment: str | None = None


@strawberry.input
class SetCoordinatingAgenciesInput:
    id: relay.GlobalID
    version: int
    coordinating_agency_ids: list[relay.GlobalID]
    comment: str | None = None


@strawberry.input
class MarkDuplicateInput:
    id: relay.GlobalID
    version: int
    master_id: relay.GlobalID
    comment: str | None = None


@strawberry.input
class SubmitResultInput:
    id: relay.GlobalID
    version: int
    comment: str = strawberry.field(description="The result, as it will be published.")
    attachments: list[Upload] = strawberry.field(default_factory=list, description="After-photos.")


@strawberry.input
class ApproveResultInput:
    id: relay.GlobalID
    version: int
    outcome: ResultOutcome = strawberry.field(default=wf.Outcome.FIXED)
    comment: str | None = None


@strawberry.input
class RateReportInput:
    id: relay.GlobalID
    version: int
    rating: int = strawberry.field(description="1 (rất không hài lòng) to 5 (rất hài lòng).")
    comment: str | None = None


@strawberry.input(description="Filters combine with AND; lists with OR inside.")
class ReportFilter:
    states: list[ReportState] | None = None
    open_only: bool = False
    field_ids: list[relay.GlobalID] | None = None
    agency_id: relay.GlobalID | None = None
    unit_codes: list[str] | None = None
    urgencies: list[Urgency] | None = None
    channels: list[Channel] | None = None
    reporter_kinds: list[ReporterKind] | None = None
    created_from: datetime.datetime | None = None
    created_to: datetime.datetime | None = None
    text: str | None = None
    bbox: list[float] | None = strawberry.field(
        default=None, description="[minLng, minLat, maxLng, maxLat]"
    )
    overdue: bool | None = strawberry.field(
        default=None, description="true: the running deadline has passed; false: not yet."
    )
    assigned_to_me: bool = strawberry.field(
        default=False, description="Only the reports handed to the caller (handOffReport)."
    )
    escalations: list[EscalationLevel] | None = strawberry.field(
        default=None,
        description="The escalation queue: open reports escalated to these levels "
        "(the locality's leadership, the province).",
    )


ReportOrder: TypeAlias = queries.ReportOrder
strawberry.enum(ReportOrder, name="ReportOrder")
