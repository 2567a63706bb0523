"""Side processes next to the workflow: comments, publication, extensions, questions to the
reporter. None of them changes the report's state."""

from __future__ import annotations

import datetime
from typing import Any

import strawberry
from strawberry import relay
from strawberry.file_uploads import Upload

from core.graphql import Info, UserError, run_mutation
from core.relay import decode
from permissions.actions import Action
from permissions.graphql import login_required, requires
from reports import models, queries, reminders, service, views
from reports.schema.moved import following_moves
from reports.schema.pages import ReportPayload
from reports.schema.types import ExtensionRequest, InfoRequest, Report, ReportEvent
from reports.uploads import read_uploads


@strawberry.input
class AddCommentInput:
    id: relay.GlobalID
    text: str
    public: bool = strawberry.field(
        default=False, description="Staff only: shown to the reporter and the public feed."
    )
    attachments: list[Upload] = strawberry.field(default_factory=list)


@strawberry.type
class CommentPayload:
    event: ReportEvent | None
    errors: list[UserError]


@strawberry.input
class PublishReportInput:
    id: relay.GlobalID
    published: bool = True


@strawberry.input
class RequestExtensionInput:
    id: relay.GlobalID
    requested_due_at: datetime.datetime
    reason: str


@strawberry.input
class DecideExtensionInput:
    id: relay.GlobalID
    approve: bool
    comment: str | None = strawberry.field(default=None, description="Required to deny.")


@strawberry.type
class ExtensionPayload:
    extension: ExtensionRequest | None
    errors: list[UserError]


@strawberry.input
class AskReporterInput:
    id: relay.GlobalID = strawberry.field(description="The report the question is about.")
    question: str


@strawberry.input
class AnswerInfoRequestInput:
    id: relay.GlobalID = strawberry.field(description="The report: its open question is answered.")
    answer: str


@strawberry.input
class AnswerByTrackingCodeInput:
    tracking_code: str = strawberry.field(description="The code the reporter follows it by.")
    answer: str


@strawberry.type
class InfoRequestPayload:
    info_request: InfoRequest | None
    errors: list[UserError]


def _report_id(gid: relay.GlobalID) -> Any:
    return decode(gid, "Report", "id")


@strawberry.type
class SideMutation:
    @strawberry.mutation(
        extensions=login_required(),
        description="Comment (report:comment on the report's agency/field, or "
        "the reporter on their own report, always public).",
    )
    async def add_comment(self, info: Info, input: AddCommentInput) -> CommentPayload:
        ctx = info.context

        async def work() -> models.ReportEvent:
            media = await read_uploads(input.attachments, ctx.services.media_limits)
            return await service.add_comment(
                ctx.scope,
                _report_id(input.id),
                input.text,
                input.public,
                media=media,
                storage=ctx.services.storage,
            )

        staff = queries.is_staff(ctx.scope)
        return await run_mutation(
            info,
            work,
            lambda e, errors: CommentPayload(
                # Its author reads their own comment; the data is for staff.
                event=ReportEvent.from_view(views.EventView(e, True, staff)) if e else None,
                errors=errors,
            ),
        )

    @strawberry.mutation(
        extensions=requires(Action.REPORT_PUBLISH),
        description="Công khai: publish (or unpublish) a resolved report.",
    )
    async def publish_report(self, info: Info, input: PublishReportInput) -> ReportPayload:
        async def work() -> models.Report:
            return await service.publish(info.context.scope, _report_id(input.id), input.published)

        return await run_mutation(
            info,
            work,
            lambda r, errors: ReportPayload(
                report=Report.from_row(r) if r else None, errors=errors
            ),
        )

    @strawberry.mutation(
        extensions=requires(Action.EXTENSION_REQUEST),
        description="Đề nghị gia hạn: once, before the deadline, with a reason.",
    )
    async def request_extension(self, info: Info, input: RequestExtensionInput) -> ExtensionPayload:
        async def work() -> models.ExtensionRequest:
            return await service.request_extension(
                info.context.scope, _report_id(input.id), input.requested_due_at, input.reason
            )

        return await run_mutation(info, work, _extension_payload)

    @strawberry.mutation(
        extensions=requires(Action.EXTENSION_APPROVE),
        description="Approve or deny the pending extension request.",
    )
    async def decide_extension(self, info: Info, input: DecideExtensionInput) -> ExtensionPayload:
        async def work() -> models.ExtensionRequest:
            return await service.decide_extension(
                info.context.scope, _report_id(input.id), input.approve, input.comment
            )

        return await run_mutation(info, work, _extension_payload)

    @strawberry.mutation(
        extensions=requires(Action.REPORT_PROCESS),
        description="The agency asks the reporter a question; its clock pauses until the answer.",
    )
    async def ask_reporter(self, info: Info, input: AskReporterInput) -> InfoRequestPayload:
        async def work() -> models.InfoRequest:
            return await service.request_info(
                info.context.scope, _report_id(input.id), input.question
            )

        return await run_mutation(info, work, _info_payload)

    @strawberry.mutation(
        extensions=requires(Action.REPORT_PROVIDE_INFO),
        description="The reporter answers the agency's question.",
    )
    async def answer_info_request(
        self, info: Info, input: AnswerInfoRequestInput
    ) -> InfoRequestPayload:
        async def work() -> models.InfoRequest:
            return await service.answer_info(info.context.scope, _report_id(input.id), input.answer)

        return await run_mutation(info, work, _info_payload)

    @strawberry.mutation(
        description="An anonymous reporter (or a hotline caller) answers the agency's question "
        "with the report's tracking code (X-Paht-Tenant names the locality); the code is the "
        "proof, looked up and limited as trackReport's."
    )
    async def answer_info_request_by_tracking_code(
        self, info: Info, input: AnswerByTrackingCodeInput
    ) -> InfoRequestPayload:
        ctx = info.context

        async def work() -> models.InfoRequest:
            return await following_moves(
                info,
                lambda scope: service.answer_info_by_tracking_code(
                    scope, input.tracking_code, input.answer, ctx.client_address
                ),
            )

        return await run_mutation(info, work, _info_payload)


@strawberry.input
class MarkNotificationsReadInput:
    ids: list[relay.GlobalID]


@strawberry.type
class MarkReadPayload:
    marked: int
    errors: list[UserError]


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(extensions=login_required(), description="Mark reminders as read.")
    async def mark_notifications_read(
        self, info: Info, input: MarkNotificationsReadInput
    ) -> MarkReadPayload:
        async def work() -> int:
            ids = [decode(g, "Notification", "ids") for g in input.ids]
            return await reminders.mark_read(info.context.scope, ids)

        return await run_mutation(
            info, work, lambda n, errors: MarkReadPayload(marked=n or 0, errors=errors)
        )


def _extension_payload(
    row: models.ExtensionRequest | None, errors: list[UserError]
) -> ExtensionPayload:
    return ExtensionPayload(
        extension=ExtensionRequest.from_row(row) if row else None, errors=errors
    )


def _info_payload(row: models.InfoRequest | None, errors: list[UserError]) -> InfoRequestPayload:
    return InfoRequestPayload(
        info_request=InfoRequest.from_row(row) if row else None, errors=errors
    )
