"""Report mutations: submission and the workflow steps (one thin resolver each)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry import relay

from core.errors import DomainError
from core.graphql import Info, UserError, run_mutation
from core.relay import decode
from permissions.actions import Action
from permissions.graphql import requires
from permissions.scope import Scope
from reports import models, queries, service
from reports import workflow as wf
from reports.schema.inputs import (
    ApproveResultInput,
    AssignReportInput,
    MarkDuplicateInput,
    RateReportInput,
    ReasonedTransitionInput,
    SubmitReportInput,
    SubmitResultInput,
    TransitionInput,
)
from reports.schema.pages import PossibleDuplicate
from reports.schema.types import Report
from reports.uploads import read_uploads
from tenants.models import Field as FieldRow

# --- payloads -------------------------------------------------------------------------------


@strawberry.type
class ReportPayload:
    report: Report | None
    errors: list[UserError]


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


# --- mutations ------------------------------------------------------------------------------


def _transition(
    info: Info, gid: relay.GlobalID, action: wf.WorkflowAction, version: int, **kwargs: Any
) -> Callable[[], Awaitable[models.Report]]:
    async def work() -> models.Report:
        return await service.transition(
            info.context.scope, decode(gid, "Report", "id"), action, version, **kwargs
        )

    return work


def _answers(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise DomainError(
            "INVALID_ANSWER",
            "Câu trả lời phải là một đối tượng.",
            "Answers must be an object {key: value}.",
            "answers",
        )
    return value


async def _duplicates_view(
    scope: Scope, field_id: uuid.UUID, result: service.SubmitResult
) -> list[PossibleDuplicate]:
    """Staff see exact distances. Citizens see them rounded to 100 m, and nothing at all in
    sensitive fields, so that repeated submissions cannot locate someone else's report."""
    staff = queries.is_staff(scope)
    if not staff and await FieldRow.filter(id=field_id, sensitive=True).exists():
        return []
    return [
        PossibleDuplicate(
            code=r.code,
            title=r.title,
            state=r.state,
            distance_m=d if staff else round(d, -2),
        )
        for r, d in result.possible_duplicates
    ]


@strawberry.type
class WorkflowMutation:
    @strawberry.mutation(
        description="Submit a report (citizens; operators with onBehalf; "
        "anonymous with the X-Paht-Tenant header). Idempotent on idempotencyKey."
    )
    async def submit_report(self, info: Info, input: SubmitReportInput) -> SubmitReportPayload:
        ctx = info.context

        async def work() -> Any:
            await service.admit_anonymous(ctx.scope, ctx.client_address)
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
                answers=_answers(input.answers),
            )
            result = await service.submit_report(ctx.scope, data, ctx.services.storage)
            return result, await _duplicates_view(ctx.scope, data.field_id, result)

        def payload(outcome: Any, errors: list[UserError]) -> SubmitReportPayload:
            result, duplicates = outcome if outcome else (None, [])
            if result is None:
                return SubmitReportPayload(
                    report=None, tracking_code=None, possible_duplicates=[], errors=errors
                )
            return SubmitReportPayload(
                report=Report.from_row(result.report),
                tracking_code=result.tracking_code,
                possible_duplicates=duplicates,
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
