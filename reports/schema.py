"""GraphQL operations of the reports domain: submission, the workflow, reads and the feed."""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from core.errors import DomainError
from core.graphql import Info, UserError, login_required, requires, run_mutation
from core.pagination import PageRequest
from core.relay import decode, decode_optional
from permissions.actions import Action
from reports import loaders, models, queries, service, sla, stats
from reports import workflow as wf
from reports.types import (
    BLUR_DECIMALS,
    Location,
    PageInfo,
    PublicReport,
    PublicReportConnection,
    PublicReportEdge,
    Report,
    ReportConnection,
    ReportEdge,
    ReportState,
    Urgency,
)
from reports.uploads import read_uploads
from tenants.models import Field as FieldRow
from tenants.schema import Field

# --- inputs ---------------------------------------------------------------------------------


@strawberry.input
class ContactInput:
    name: str = ""
    phone: str | None = None
    email: str | None = None


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
    attachments: list[Upload] = strawberry.field(
        default_factory=list, description="Up to 5 photos or 1 short video."
    )


@strawberry.input
class TransitionInput:
    id: relay.GlobalID
    version: int
    comment: str | None = None


@strawberry.input
class ReasonedTransitionInput:
    id: relay.GlobalID
    version: int
    reason_code: str | None = None
    comment: str | None = None


@strawberry.input
class AssignReportInput:
    id: relay.GlobalID
    version: int
    lead_agency_id: relay.GlobalID
    coordinating_agency_ids: list[relay.GlobalID] = strawberry.field(default_factory=list)
    urgency: Urgency | None = None
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
    outcome: str = strawberry.field(
        default=wf.Outcome.FIXED.value, description="FIXED, CANNOT_FIX or NOT_RESPONSIBLE."
    )
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
    created_from: datetime.datetime | None = None
    created_to: datetime.datetime | None = None
    text: str | None = None
    bbox: list[float] | None = strawberry.field(
        default=None, description="[minLng, minLat, maxLng, maxLat]"
    )


# --- payloads -------------------------------------------------------------------------------


@strawberry.type
class ReportPayload:
    report: Report | None
    errors: list[UserError]


@strawberry.type
class PossibleDuplicate:
    report: Report
    distance_m: float


@strawberry.type
class SubmitReportPayload:
    report: Report | None
    tracking_code: str | None = strawberry.field(
        description="Shown once: lets an anonymous reporter follow the report."
    )
    possible_duplicates: list[PossibleDuplicate]
    errors: list[UserError]


def _report_payload(row: models.Report | None, errors: list[UserError]) -> ReportPayload:
    return ReportPayload(report=Report.from_row(row) if row else None, errors=errors)


def _filter(f: ReportFilter | None) -> queries.ReportFilter:
    if f is None:
        return queries.ReportFilter()
    bbox = None
    if f.bbox is not None:
        if len(f.bbox) != 4:
            raise DomainError(
                "INVALID_BBOX", "Khung bản đồ cần 4 số.", "bbox needs 4 numbers.", "filter.bbox"
            )
        bbox = (f.bbox[0], f.bbox[1], f.bbox[2], f.bbox[3])
    return queries.ReportFilter(
        states=tuple(wf.ReportState(s) for s in f.states or ()),
        open_only=f.open_only,
        field_ids=tuple(decode(g, "Field", "filter.fieldIds") for g in f.field_ids or ()),
        agency_id=decode_optional(f.agency_id, "Agency", "filter.agencyId"),
        unit_codes=tuple(f.unit_codes or ()),
        urgencies=tuple(str(u.value) for u in f.urgencies or ()),
        created_from=f.created_from,
        created_to=f.created_to,
        text=f.text,
        bbox=bbox,
    )


def _page(
    info: Info, first: int | None, after: str | None, last: int | None, before: str | None
) -> PageRequest:
    return PageRequest.from_args(
        first, after, last, before, info.context.services.settings.max_page_size
    )


def _connection(page: queries.Page) -> ReportConnection:
    edges = [ReportEdge(cursor=page.cursor(r), node=Report.from_row(r)) for r in page.rows]
    return ReportConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


async def _public(rows: list[models.Report], lang: str) -> list[PublicReport]:
    """Public views resolved eagerly: they carry no relation a client could walk further."""
    fields = {f.id: f for f in await FieldRow.filter(id__in={r.field_id for r in rows})}
    results = {
        e.report_id: e.comment
        for e in await models.ReportEvent.filter(
            report_id__in=[r.id for r in rows], action=wf.WorkflowAction.SUBMIT_RESULT.value
        ).order_by("created_at")
    }
    views = []
    for r in rows:
        field = fields.get(r.field_id)
        blur = field is not None and field.sensitive
        lat, lng = r.latitude, r.longitude
        if blur:
            lat, lng = round(lat, BLUR_DECIMALS), round(lng, BLUR_DECIMALS)
        state = wf.ReportState(r.state)
        views.append(
            PublicReport(
                id=relay.GlobalID("Report", str(r.id)),
                code=r.code,
                title=r.title,
                description=r.description,
                state=state,
                state_label=state.label(lang),
                field_name=(field.name_en if lang == "en" else field.name_vi) if field else None,
                location=Location(latitude=lat, longitude=lng, precise=not blur),
                address="" if blur else r.address,
                created_at=r.created_at,
                resolved_at=r.resolved_at,
                resolve_due_at=r.resolve_due_at,
                rating=r.rating,
                result=results.get(r.id),
            )
        )
    return views


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


async def _stats(info: Info) -> ReportStats:
    result = await stats.report_stats(info.context.scope)
    field_rows = await loaders.field_loader(info.context).load_many(
        [f.field_id for f in result.by_field]
    )
    lang = info.context.lang
    return ReportStats(
        total=result.total,
        open=result.open,
        overdue=result.overdue,
        by_state=[
            StateCount(state=c.state, label=c.state.label(lang), count=c.count)
            for c in result.by_state
        ],
        by_field=[
            FieldCount(field=Field.from_row(row) if row else None, count=c.count, open=c.open)
            for c, row in zip(result.by_field, field_rows, strict=True)
        ],
    )


# --- queries --------------------------------------------------------------------------------


@strawberry.type
class ReportQuery:
    @strawberry.field(
        extensions=requires(Action.REPORT_VIEW),
        description="Reports the caller may see, newest first (keyset cursors).",
    )
    async def reports(
        self,
        info: Info,
        filter: ReportFilter | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> ReportConnection:
        query = _filter(filter).apply(queries.visible_reports(info.context.scope))
        return _connection(await queries.paginate(query, _page(info, first, after, last, before)))

    @strawberry.field(
        extensions=requires(Action.REPORT_VIEW),
        description="A report by ID; null when not found or not visible.",
    )
    async def report(self, info: Info, id: relay.GlobalID) -> Report | None:
        try:
            return Report.from_row(
                await queries.report_by_id(info.context.scope, decode(id, "Report", "id"))
            )
        except DomainError as error:
            if error.code == "NOT_FOUND":
                return None
            raise

    @strawberry.field(
        extensions=requires(Action.REPORT_VIEW),
        description="A report by its human code, e.g. SP-2026-000123.",
    )
    async def report_by_code(self, info: Info, code: str) -> Report | None:
        try:
            return Report.from_row(await queries.report_by_code(info.context.scope, code))
        except DomainError as error:
            if error.code == "NOT_FOUND":
                return None
            raise

    @strawberry.field(
        extensions=requires(Action.STATS_VIEW),
        description="Counts by state and field, and how many are overdue.",
    )
    async def report_stats(self, info: Info) -> ReportStats:
        return await _stats(info)

    @strawberry.field(extensions=login_required(), description="The caller's own reports.")
    async def my_reports(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> ReportConnection:
        query = queries.own_reports(info.context.scope)
        return _connection(await queries.paginate(query, _page(info, first, after, None, None)))

    @strawberry.field(
        description="Published reports of the tenant (token's tenant or the "
        "X-Paht-Tenant header). No personal data; sensitive locations blurred."
    )
    async def public_reports(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> PublicReportConnection:
        page = await queries.paginate(
            queries.published_reports(info.context.scope), _page(info, first, after, None, None)
        )
        views = await _public(page.rows, info.context.lang)
        edges = [
            PublicReportEdge(cursor=page.cursor(r), node=v)
            for r, v in zip(page.rows, views, strict=True)
        ]
        return PublicReportConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(description="Follow an anonymous report by its tracking code.")
    async def track_report(self, info: Info, tracking_code: str) -> PublicReport | None:
        try:
            row = await queries.tracked_report(info.context.scope, tracking_code)
        except DomainError as error:
            if error.code == "NOT_FOUND":
                return None
            raise
        return (await _public([row], info.context.lang))[0]


# --- mutations ------------------------------------------------------------------------------


def _transition(
    info: Info, gid: relay.GlobalID, action: wf.WorkflowAction, version: int, **kwargs: Any
) -> Callable[[], Awaitable[models.Report]]:
    async def work() -> models.Report:
        return await service.transition(
            info.context.scope, decode(gid, "Report", "id"), action, version, **kwargs
        )

    return work


@strawberry.type
class ReportMutation:
    @strawberry.mutation(
        description="Submit a report (citizens; operators with onBehalf; "
        "anonymous with the X-Paht-Tenant header). Idempotent on idempotencyKey."
    )
    async def submit_report(self, info: Info, input: SubmitReportInput) -> SubmitReportPayload:
        ctx = info.context

        async def work() -> Any:
            media = await read_uploads(input.attachments, ctx.services.media_limits)
            contact = input.contact
            data = service.SubmitInput(
                title=input.title,
                description=input.description,
                field_id=decode(input.field_id, "Field", "fieldId"),
                latitude=input.latitude,
                longitude=input.longitude,
                address=input.address,
                urgency=str(input.urgency.value),
                anonymous=input.anonymous,
                idempotency_key=input.idempotency_key,
                contact=service.ContactInput(contact.name, contact.phone, contact.email)
                if contact
                else None,
                on_behalf=input.on_behalf,
                media=media,
            )
            return await service.submit_report(ctx.scope, data, ctx.services.storage)

        def payload(result: Any, errors: list[UserError]) -> SubmitReportPayload:
            if result is None:
                return SubmitReportPayload(
                    report=None, tracking_code=None, possible_duplicates=[], errors=errors
                )
            return SubmitReportPayload(
                report=Report.from_row(result.report),
                tracking_code=result.tracking_code,
                possible_duplicates=[
                    PossibleDuplicate(report=Report.from_row(r), distance_m=d)
                    for r, d in result.possible_duplicates
                ],
                errors=errors,
            )

        return await run_mutation(info, work, payload)

    @strawberry.mutation(
        extensions=requires(Action.REPORT_SCREEN),
        description="Không tiếp nhận: reject with a reason code.",
    )
    async def reject_report(self, info: Info, input: ReasonedTransitionInput) -> ReportPayload:
        work = _transition(
            info,
            input.id,
            wf.WorkflowAction.REJECT,
            input.version,
            reason_code=input.reason_code,
            comment=input.comment,
        )
        return await run_mutation(info, work, _report_payload)

    @strawberry.mutation(
        extensions=requires(Action.REPORT_SCREEN),
        description="Mark as a duplicate of an earlier report.",
    )
    async def mark_duplicate(self, info: Info, input: MarkDuplicateInput) -> ReportPayload:
        async def work() -> models.Report:
            scope = info.context.scope
            master = await queries.report_by_id(
                scope, decode(input.master_id, "Report", "masterId")
            )
            comment = (input.comment or "").strip() or f"Trùng với {master.code}"
            return await _transition(
                info,
                input.id,
                wf.WorkflowAction.MARK_DUPLICATE,
                input.version,
                reason_code="DUPLICATE",
                comment=f"{comment} [{master.code}]",
            )()

        return await run_mutation(info, work, _report_payload)

    @strawberry.mutation(
        extensions=requires(Action.REPORT_SCREEN),
        description="Ask the reporter for more information (comment required).",
    )
    async def request_info(self, info: Info, input: TransitionInput) -> ReportPayload:
        work = _transition(
            info, input.id, wf.WorkflowAction.REQUEST_INFO, input.version, comment=input.comment
        )
        return await run_mutation(info, work, _report_payload)

    @strawberry.mutation(
        extensions=requires(Action.REPORT_PROVIDE_INFO),
        description="The reporter answers a request for information.",
    )
    async def provide_info(self, info: Info, input: TransitionInput) -> ReportPayload:
        work = _transition(
            info, input.id, wf.WorkflowAction.PROVIDE_INFO, input.version, comment=input.comment
        )
        return await run_mutation(info, work, _report_payload)

    @strawberry.mutation(
        extensions=requires(Action.REPORT_ASSIGN),
        description="Route to a lead agency with coordinating agencies.",
    )
    async def assign_report(self, info: Info, input: AssignReportInput) -> ReportPayload:
        async def work() -> models.Report:
            assign = service.AssignInput(
                lead_agency_id=decode(input.lead_agency_id, "Agency", "leadAgencyId"),
                coordinating_agency_ids=tuple(
                    decode(g, "Agency", "coordinatingAgencyIds")
                    for g in input.coordinating_agency_ids
                ),
                urgency=str(input.urgency.value) if input.urgency else None,
            )
            return await _transition(
                info,
                input.id,
                wf.WorkflowAction.ASSIGN,
                input.version,
                comment=input.comment,
                assign=assign,
            )()

        return await run_mutation(info, work, _report_payload)

    @strawberry.mutation(
        extensions=requires(Action.REPORT_ACCEPT),
        description="Nhận xử lý: the lead agency accepts.",
    )
    async def accept_report(self, info: Info, input: TransitionInput) -> ReportPayload:
        work = _transition(
            info, input.id, wf.WorkflowAction.ACCEPT, input.version, comment=input.comment
        )
        return await run_mutation(info, work, _report_payload)

    @strawberry.mutation(
        extensions=requires(Action.REPORT_ACCEPT),
        description="Trả lại: not competent (reason required).",
    )
    async def return_report(self, info: Info, input: ReasonedTransitionInput) -> ReportPayload:
        work = _transition(
            info,
            input.id,
            wf.WorkflowAction.RETURN,
            input.version,
            reason_code=input.reason_code,
            comment=input.comment,
        )
        return await run_mutation(info, work, _report_payload)

    @strawberry.mutation(
        extensions=requires(Action.REPORT_SUBMIT_RESULT),
        description="Post the result with after-photos.",
    )
    async def submit_result(self, info: Info, input: SubmitResultInput) -> ReportPayload:
        ctx = info.context

        async def work() -> models.Report:
            media = await read_uploads(input.attachments, ctx.services.media_limits)
            return await _transition(
                info,
                input.id,
                wf.WorkflowAction.SUBMIT_RESULT,
                input.version,
                comment=input.comment,
                media=media,
                storage=ctx.services.storage,
            )()

        return await run_mutation(info, work, _report_payload)

    @strawberry.mutation(
        extensions=requires(Action.REPORT_REVIEW),
        description="Approve the result (outcome: FIXED, CANNOT_FIX, NOT_RESPONSIBLE).",
    )
    async def approve_result(self, info: Info, input: ApproveResultInput) -> ReportPayload:
        try:
            outcome = wf.Outcome(input.outcome).value
        except ValueError:
            return ReportPayload(
                report=None,
                errors=[
                    UserError(
                        code="INVALID_CHOICE",
                        field="outcome",
                        message="Unknown outcome."
                        if info.context.lang == "en"
                        else "Kết quả không hợp lệ.",
                    )
                ],
            )
        work = _transition(
            info,
            input.id,
            wf.WorkflowAction.APPROVE_RESULT,
            input.version,
            reason_code=outcome,
            comment=input.comment,
        )
        return await run_mutation(info, work, _report_payload)

    @strawberry.mutation(
        extensions=requires(Action.REPORT_REVIEW),
        description="Yêu cầu xử lý lại: send back for rework (reason required).",
    )
    async def request_rework(self, info: Info, input: ReasonedTransitionInput) -> ReportPayload:
        work = _transition(
            info,
            input.id,
            wf.WorkflowAction.REQUEST_REWORK,
            input.version,
            reason_code=input.reason_code,
            comment=input.comment,
        )
        return await run_mutation(info, work, _report_payload)

    @strawberry.mutation(
        extensions=requires(Action.REPORT_REOPEN),
        description="Phản ánh lại: reopen a resolved report (reason required).",
    )
    async def reopen_report(self, info: Info, input: ReasonedTransitionInput) -> ReportPayload:
        work = _transition(
            info,
            input.id,
            wf.WorkflowAction.REOPEN,
            input.version,
            reason_code=input.reason_code,
            comment=input.comment,
        )
        return await run_mutation(info, work, _report_payload)

    @strawberry.mutation(
        extensions=requires(Action.REPORT_CLOSE),
        description="Close (a reopened report needs a reason).",
    )
    async def close_report(self, info: Info, input: ReasonedTransitionInput) -> ReportPayload:
        work = _transition(
            info,
            input.id,
            wf.WorkflowAction.CLOSE,
            input.version,
            reason_code=input.reason_code,
            comment=input.comment,
        )
        return await run_mutation(info, work, _report_payload)

    @strawberry.mutation(
        extensions=requires(Action.REPORT_WITHDRAW),
        description="The reporter withdraws a report not yet routed.",
    )
    async def withdraw_report(self, info: Info, input: TransitionInput) -> ReportPayload:
        work = _transition(
            info, input.id, wf.WorkflowAction.WITHDRAW, input.version, comment=input.comment
        )
        return await run_mutation(info, work, _report_payload)

    @strawberry.mutation(
        extensions=requires(Action.REPORT_RATE),
        description="The reporter rates the result 1–5; this closes the report.",
    )
    async def rate_report(self, info: Info, input: RateReportInput) -> ReportPayload:
        work = _transition(
            info,
            input.id,
            wf.WorkflowAction.RATE,
            input.version,
            comment=input.comment,
            rating=input.rating,
        )
        return await run_mutation(info, work, _report_payload)
