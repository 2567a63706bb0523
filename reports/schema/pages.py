"""GraphQL result shapes around reports: pages, the public view, dashboard counts."""

from __future__ import annotations

import datetime
from typing import TypeAlias

import strawberry
from strawberry import relay

from core.graphql import UserError, labelled_enum
from reports import reminders
from reports.schema.types import Attachment, Location, Report, ReportState
from tenants.types import Field, Tenant

ReminderKind: TypeAlias = reminders.ReminderKind
labelled_enum(ReminderKind, "ReminderKind")


@strawberry.type(description="A published report in the public feed: no personal data.")
class PublicReport:
    id: relay.GlobalID
    code: str
    title: str
    description: str
    state: ReportState
    state_label: str
    field_name: str | None
    location: Location
    address: str
    created_at: datetime.datetime
    resolved_at: datetime.datetime | None
    resolve_due_at: datetime.datetime | None
    rating: int | None
    result: str | None = strawberry.field(description="The approved result (Kết quả xử lý).")
    photos: list[Attachment] = strawberry.field(
        description="The report's and the approved result's photos; none in sensitive fields."
    )


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class ReportEdge:
    cursor: str
    node: Report


@strawberry.type(description="A keyset-paginated page of reports (newest first).")
class ReportConnection:
    edges: list[ReportEdge]
    page_info: PageInfo

    @strawberry.field
    def nodes(self) -> list[Report]:
        return [edge.node for edge in self.edges]


@strawberry.type
class PublicReportEdge:
    cursor: str
    node: PublicReport


@strawberry.type
class PublicReportConnection:
    edges: list[PublicReportEdge]
    page_info: PageInfo


@strawberry.type
class StateCount:
    state: ReportState
    label: str
    count: int


@strawberry.type
class FieldCount:
    field: Field | None
    count: int
    open: int


@strawberry.type(description="Dashboard counts (pre-aggregated; always current).")
class ReportStats:
    total: int
    open: int
    overdue: int
    by_state: list[StateCount]
    by_field: list[FieldCount]


@strawberry.type(description="An open report of the same field nearby: maybe the same problem.")
class PossibleDuplicate:
    code: str | None = strawberry.field(
        description="Null for citizens unless that report is published: no one else's "
        "unpublished report is read this way."
    )
    title: str | None
    state: ReportState
    distance_m: float = strawberry.field(description="Rounded to 100 m for citizens.")


@strawberry.type(description="One tenant's numbers in the provincial overview.")
class TenantStats:
    tenant: Tenant
    total: int
    open: int
    overdue: int
    by_state: list[StateCount]


@strawberry.type(description="A reminder about a running deadline (50 %, 80 %, overdue).")
class Notification:
    id: relay.GlobalID
    report_id: relay.GlobalID
    kind: ReminderKind
    message: str
    due_at: datetime.datetime
    created_at: datetime.datetime
    read: bool


@strawberry.type(description="The report after a step, or why the step was refused.")
class ReportPayload:
    report: Report | None
    errors: list[UserError]
