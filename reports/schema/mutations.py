"""Report mutations: submission and one mutation per workflow action.

The plain steps are derived from the workflow table (``STEPS``): each row names the action, its
GraphQL field and input; its permission directive is the action's permission in
``reports.workflow.TRANSITIONS``. Adding a plain step is one row here (plus its test); the steps
that carry more than a reason and a comment (assignment, a result with photos, an outcome, a
rating, a master) have a resolver of their own below."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry import relay

from core.errors import DomainError
from core.graphql import Info, UserError, run_mutation
from core.relay import decode
from permissions.graphql import requires
from reports import models, service
from reports import workflow as wf
from reports.schema.inputs import (
    ApproveResultInput,
    AssignReportInput,
    EscalateReportInput,
    HandOffReportInput,
    MarkDuplicateInput,
    RateReportInput,
    ReasonedTransitionInput,
    RejectReportInput,
    RerouteReportInput,
    ReturnReportInput,
    SetCoordinatingAgenciesInput,
    SubmitReportInput,
    SubmitResultInput,
    TransferReportInput,
    TransitionInput,
)
from reports.schema.pages import PossibleDuplicate, ReportPayload
from reports.schema.types import Report
from reports.uploads import read_uploads

A = wf.WorkflowAction


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


def _transition(
    info: Info, gid: relay.GlobalID, action: wf.WorkflowAction, version: int, **kwargs: Any
) -> Callable[[], Awaitable[models.Report]]:
    async def work() -> models.Report:
        return await service.transition(
            info.context.scope, decode(gid, "Report", "id"), action, version, **kwargs
        )

    return work


# --- the plain steps, from the table ----------------------------------------------------------


@dataclass(frozen=True)
class Step:
    action: wf.WorkflowAction
    field: str
    input: type
    description: str  # in English; the SDL leads with the action's Vietnamese name

    @property
    def documentation(self) -> str:
        return f"{self.action.label_vi} — {self.description}"


STEPS: tuple[Step, ...] = (
    Step(A.REJECT, "reject_report", RejectReportInput,
         "reject, with a reason from the list, explained to the reporter."),
    Step(A.REQUEST_INFO, "request_info", TransitionInput,
         "ask the reporter for more information (the question is the comment)."),
    Step(A.PROVIDE_INFO, "provide_info", TransitionInput,
         "the reporter answers a request for information."),
    Step(A.UNMARK_DUPLICATE, "unmark_duplicate", ReasonedTransitionInput,
         "a report marked as a duplicate by mistake goes back to intake (comment required)."),
    Step(A.ACCEPT, "accept_report", TransitionInput, "the lead agency accepts."),
    Step(A.RETURN, "return_report", ReturnReportInput,
         "the agency is not the one to handle it (reason required)."),
    Step(A.SIGN_OFF, "sign_off_result", TransitionInput,
         "the agency leader signs the officer's result off to the centre (tenant option "
         "leader_sign_off)."),
    Step(A.SEND_BACK, "send_back_result", ReasonedTransitionInput,
         "the agency leader sends the officer's result back (comment required)."),
    Step(A.REQUEST_REWORK, "request_rework", ReasonedTransitionInput,
         "send the result back for rework (comment required)."),
    Step(A.REOPEN, "reopen_report", ReasonedTransitionInput,
         "reopen a resolved report (comment required)."),
    Step(A.CLOSE, "close_report", ReasonedTransitionInput,
         "close (a reopened report needs a comment)."),
    Step(A.WITHDRAW, "withdraw_report", TransitionInput,
         "the reporter withdraws a report not yet routed."),
)  # fmt: skip


def _reason(input: Any) -> str | None:
    reason = getattr(input, "reason", None)
    if reason is not None:
        return str(reason.value)
    return getattr(input, "reason_code", None)


def _step_mutation(step: Step) -> Any:
    async def resolve(self: Any, info: Info, input: Any) -> ReportPayload:
        work = _transition(
            info,
            input.id,
            step.action,
            input.version,
            reason_code=_reason(input),
            comment=input.comment,
        )
        return await run_mutation(info, work, _report_payload)

    # Real types, not strings: strawberry reads the resolver's annotations.
    resolve.__annotations__ = {"info": Info, "input": step.input, "return": ReportPayload}
    resolve.__name__ = step.field
    return strawberry.mutation(
        resolver=resolve,
        extensions=requires(wf.permission_of(step.action)),
        description=step.documentation,
    )


# --- the steps that carry more ---------------------------------------------------------------


@strawberry.type
class _Submission:
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
                contact=service.ContactInput(
                    contact.name,
                    contact.phone,
                    contact.email,
                    contact.language.value,
                    contact.notify_by.value if contact.notify_by else None,
                )
                if contact
                else None,
                on_behalf=input.on_behalf,
                reporter_kind=str(input.reporter_kind.value),
                channel=str(input.channel.value) if input.channel else None,
                media=media,
                answers=_answers(input.answers),
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
                    PossibleDuplicate(
                        code=d.code, title=d.title, state=d.state, distance_m=d.distance_m
                    )
                    for d in result.shown_duplicates
                ],
                errors=errors,
            )

        return await run_mutation(info, work, payload)

    @strawberry.mutation(
        extensions=requires(wf.permission_of(A.MARK_DUPLICATE)),
        description="Mark as a duplicate of an earlier report (its master).",
    )
    async def mark_duplicate(self, info: Info, input: MarkDuplicateInput) -> ReportPayload:
        async def work() -> models.Report:
            return await service.mark_duplicate(
                info.context.scope,
                decode(input.id, "Report", "id"),
                input.version,
                decode(input.master_id, "Report", "masterId"),
                input.comment,
            )

        return await run_mutation(info, work, _report_payload)

    @strawberry.mutation(
        extensions=requires(wf.permission_of(A.ASSIGN)),
        description="Route to a lead agency with coordinating agencies.",
    )
    async def assign_report(self, info: Info, input: AssignReportInput) -> ReportPayload:
        return await _assign(info, A.ASSIGN, input)

    @strawberry.mutation(
        extensions=requires(wf.permission_of(A.REROUTE)),
        description=f"{A.REROUTE.label_vi} — move a report an agency holds (assigned or in "
        "progress) to another lead agency, with a reason; the new agency's accept clock starts.",
    )
    async def reroute_report(self, info: Info, input: RerouteReportInput) -> ReportPayload:
        return await _assign(info, A.REROUTE, input)

    @strawberry.mutation(
        extensions=requires(wf.permission_of(A.ASSIGN)),
        description=f"{wf.SideAction.ESCALATE.label_vi} — one level up, with a reason: to the "
        "locality's leadership, then to the province (breaches go up by themselves).",
    )
    async def escalate_report(self, info: Info, input: EscalateReportInput) -> ReportPayload:
        async def work() -> models.Report:
            return await service.escalate(
                info.context.scope, decode(input.id, "Report", "id"), input.version, input.comment
            )

        return await run_mutation(info, work, _report_payload)

    @strawberry.mutation(
        extensions=requires(wf.permission_of(A.TRANSFER)),
        description=f"{A.TRANSFER.label_vi} — a report that belongs to another locality of the "
        "province (or to the province's tenant) moves there with its history; this one stays "
        "behind, read-only (TRANSFERRED), pointing to the copy; the reporter follows it by the "
        "same tracking code.",
    )
    async def transfer_report(self, info: Info, input: TransferReportInput) -> ReportPayload:
        async def work() -> models.Report:
            return await service.transfer_report(
                info.context.scope,
                decode(input.id, "Report", "id"),
                input.version,
                input.tenant_code,
                input.comment,
            )

        return await run_mutation(info, work, _report_payload)

    @strawberry.mutation(
        extensions=requires(wf.permission_of(A.ACCEPT)),
        description=f"{wf.SideAction.HAND_OFF.label_vi} — the agency's contact or leader hands "
        "the report it handles to a named officer of the agency (again to reassign).",
    )
    async def hand_off_report(self, info: Info, input: HandOffReportInput) -> ReportPayload:
        async def work() -> models.Report:
            return await service.hand_off(
                info.context.scope,
                decode(input.id, "Report", "id"),
                input.version,
                decode(input.officer_id, "User", "officerId"),
                input.comment,
            )

        return await run_mutation(info, work, _report_payload)

    @strawberry.mutation(
        extensions=requires(wf.permission_of(A.ASSIGN)),
        description=f"{wf.SideAction.SET_COORDINATORS.label_vi} — add or remove coordinating "
        "agencies while an agency holds the report (the whole list is given).",
    )
    async def set_coordinating_agencies(
        self, info: Info, input: SetCoordinatingAgenciesInput
    ) -> ReportPayload:
        async def work() -> models.Report:
            return await service.set_coordinating_agencies(
                info.context.scope,
                decode(input.id, "Report", "id"),
                input.version,
                [
                    decode(g, "Agency", "coordinatingAgencyIds")
                    for g in input.coordinating_agency_ids
                ],
                input.comment,
            )

        return await run_mutation(info, work, _report_payload)

    @strawberry.mutation(
        extensions=requires(wf.permission_of(A.SUBMIT_RESULT)),
        description="Post the result with after-photos.",
    )
    async def submit_result(self, info: Info, input: SubmitResultInput) -> ReportPayload:
        ctx = info.context

        async def work() -> models.Report:
            media = await read_uploads(input.attachments, ctx.services.media_limits)
            return await _transition(
                info,
                input.id,
                A.SUBMIT_RESULT,
                input.version,
                comment=input.comment,
                media=media,
                storage=ctx.services.storage,
            )()

        return await run_mutation(info, work, _report_payload)

    @strawberry.mutation(
        extensions=requires(wf.permission_of(A.APPROVE_RESULT)),
        description="Approve the result with its outcome; the reporter may then see and rate it.",
    )
    async def approve_result(self, info: Info, input: ApproveResultInput) -> ReportPayload:
        work = _transition(
            info,
            input.id,
            A.APPROVE_RESULT,
            input.version,
            reason_code=input.outcome.value,
            comment=input.comment,
        )
        return await run_mutation(info, work, _report_payload)

    @strawberry.mutation(
        extensions=requires(wf.permission_of(A.RATE)),
        description="The reporter rates the approved result 1–5: 3–5 closes the report, 1–2 "
        "sends it to the centre's review of low ratings (RATING_REVIEW).",
    )
    async def rate_report(self, info: Info, input: RateReportInput) -> ReportPayload:
        work = _transition(
            info, input.id, A.RATE, input.version, comment=input.comment, rating=input.rating
        )
        return await run_mutation(info, work, _report_payload)


async def _assign(
    info: Info, action: wf.WorkflowAction, input: AssignReportInput | RerouteReportInput
) -> ReportPayload:
    async def work() -> models.Report:
        assign = service.AssignInput(
            lead_agency_id=decode(input.lead_agency_id, "Agency", "leadAgencyId"),
            coordinating_agency_ids=tuple(
                decode(g, "Agency", "coordinatingAgencyIds") for g in input.coordinating_agency_ids
            ),
            urgency=str(input.urgency.value) if input.urgency else None,
        )
        return await _transition(
            info, input.id, action, input.version, comment=input.comment, assign=assign
        )()

    return await run_mutation(info, work, _report_payload)


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


WorkflowMutation = strawberry.type(
    type("WorkflowMutation", (_Submission,), {s.field: _step_mutation(s) for s in STEPS})
)
