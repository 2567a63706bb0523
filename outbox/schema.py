"""GraphQL: the tenant administrator's view of the outbox (status, last error, replay), webhook
endpoints, channel settings and templates; a staff member's reminder e-mails. Secrets are never
readable: an endpoint's secret is answered once, by createWebhookEndpoint; gateway tokens are
write-only (``hasSmsToken``)."""

from __future__ import annotations

import datetime
from typing import Self

import strawberry
from strawberry import relay

from core.graphql import Info, UserError, run_mutation
from core.relay import decode, decode_optional
from outbox import models, service
from outbox import vocabulary as v
from outbox.graphql_enums import Channel, EventType, Language, MessageStatus
from permissions.actions import Action
from permissions.graphql import login_required, requires


def _gid(kind: str, value: object) -> relay.GlobalID:
    return relay.GlobalID(kind, str(value))


@strawberry.type(description="A message leaving the system: its delivery status and last error.")
class OutboxMessage:
    id: relay.GlobalID = strawberry.field(
        description="Also the idempotency id every delivery carries (webhook-id, Message-ID)."
    )
    channel: Channel
    event_type: EventType
    status: MessageStatus
    attempts: int
    endpoint_id: relay.GlobalID | None
    last_error: str | None = strawberry.field(description="Without the recipient's address.")
    last_status_code: int | None
    last_duration_ms: int | None = strawberry.field(description="Response time of the last try.")
    created_at: datetime.datetime
    next_attempt_at: datetime.datetime
    sent_at: datetime.datetime | None

    @classmethod
    def of(cls, row: models.OutboxMessage) -> Self:
        return cls(
            id=_gid("OutboxMessage", row.id),
            channel=v.Channel(row.channel),
            event_type=v.EventType(row.event_type),
            status=v.MessageStatus(row.status),
            attempts=row.attempts,
            endpoint_id=_gid("WebhookEndpoint", row.endpoint_id) if row.endpoint_id else None,
            last_error=row.last_error,
            last_status_code=row.last_status_code,
            last_duration_ms=row.last_duration_ms,
            created_at=row.created_at,
            next_attempt_at=row.next_attempt_at,
            sent_at=row.sent_at,
        )


@strawberry.type(description="A URL that receives the tenant's report events, signed.")
class WebhookEndpoint:
    id: relay.GlobalID
    url: str
    description: str
    event_types: list[EventType]
    active: bool = strawberry.field(description="False once switched off (or after failures).")
    consecutive_failures: int
    disabled_at: datetime.datetime | None
    created_at: datetime.datetime

    @classmethod
    def of(cls, row: models.WebhookEndpoint) -> Self:
        return cls(
            id=_gid("WebhookEndpoint", row.id),
            url=row.url,
            description=row.description,
            event_types=[v.EventType(e) for e in row.event_types],
            active=row.active,
            consecutive_failures=row.consecutive_failures,
            disabled_at=row.disabled_at,
            created_at=row.created_at,
        )


@strawberry.type(description="The tenant's channels; tokens are write-only.")
class ChannelSettings:
    email_enabled: bool
    email_from: str | None
    sms_url: str | None
    sms_sender: str | None
    has_sms_token: bool
    zalo_url: str | None
    has_zalo_token: bool
    zalo_template_ids: list[ZaloTemplate]

    @classmethod
    def of(cls, row: models.ChannelSettings) -> Self:
        return cls(
            email_enabled=row.email_enabled,
            email_from=row.email_from,
            sms_url=row.sms_url,
            sms_sender=row.sms_sender,
            has_sms_token=bool(row.sms_token),
            zalo_url=row.zalo_url,
            has_zalo_token=bool(row.zalo_token),
            zalo_template_ids=[
                ZaloTemplate(event_type=v.EventType(e), template_id=t)
                for e, t in sorted((row.zalo_templates or {}).items())
            ],
        )


@strawberry.type
class ZaloTemplate:
    event_type: EventType
    template_id: str


@strawberry.type(description="The tenant's own wording of one message (placeholders: {code}).")
class MessageTemplate:
    event_type: EventType
    channel: Channel
    language: Language
    subject: str
    body: str

    @classmethod
    def of(cls, row: models.MessageTemplate) -> Self:
        return cls(
            event_type=v.EventType(row.event_type),
            channel=v.Channel(row.channel),
            language=v.Language(row.language),
            subject=row.subject,
            body=row.body,
        )


@strawberry.type
class OutboxQuery:
    @strawberry.field(
        extensions=requires(Action.TENANT_MANAGE),
        description="The newest outgoing messages of the tenant (at most 100).",
    )
    async def outbox_messages(
        self,
        info: Info,
        status: MessageStatus | None = None,
        endpoint_id: relay.GlobalID | None = None,
        first: int = 50,
    ) -> list[OutboxMessage]:
        endpoint = decode_optional(endpoint_id, "WebhookEndpoint", "endpointId")
        rows = await service.messages(info.context.scope, status, endpoint, first)
        return [OutboxMessage.of(r) for r in rows]

    @strawberry.field(extensions=requires(Action.TENANT_MANAGE))
    async def webhook_endpoints(self, info: Info) -> list[WebhookEndpoint]:
        return [WebhookEndpoint.of(r) for r in await service.endpoints(info.context.scope)]

    @strawberry.field(extensions=requires(Action.TENANT_MANAGE))
    async def channel_settings(self, info: Info) -> ChannelSettings:
        return ChannelSettings.of(await service.channel_settings(info.context.scope))

    @strawberry.field(
        extensions=requires(Action.TENANT_MANAGE),
        description="The tenant's own templates (the others use the defaults).",
    )
    async def message_templates(self, info: Info) -> list[MessageTemplate]:
        return [MessageTemplate.of(r) for r in await service.templates(info.context.scope)]


@strawberry.input
class CreateWebhookEndpointInput:
    url: str
    event_types: list[EventType]
    description: str = ""


@strawberry.type
class CreateWebhookEndpointPayload:
    endpoint: WebhookEndpoint | None
    secret: str | None = strawberry.field(
        description="The signing secret (whsec_…), answered this once: store it now."
    )
    errors: list[UserError]


@strawberry.input
class UpdateWebhookEndpointInput:
    id: relay.GlobalID
    url: str | None = None
    event_types: list[EventType] | None = None
    active: bool | None = strawberry.field(
        default=None, description="true switches a disabled endpoint back on."
    )


@strawberry.type
class WebhookEndpointPayload:
    endpoint: WebhookEndpoint | None
    errors: list[UserError]


@strawberry.input
class ReplayOutboxMessageInput:
    id: relay.GlobalID


@strawberry.type
class OutboxMessagePayload:
    message: OutboxMessage | None
    errors: list[UserError]


@strawberry.input
class ZaloTemplateInput:
    event_type: EventType
    template_id: str


@strawberry.input(description="Absent fields stay as they are; an empty string clears one.")
class UpdateChannelSettingsInput:
    email_enabled: bool | None = None
    email_from: str | None = None
    sms_url: str | None = None
    sms_token: str | None = None
    sms_sender: str | None = None
    zalo_url: str | None = None
    zalo_token: str | None = None
    zalo_template_ids: list[ZaloTemplateInput] | None = None


@strawberry.type
class ChannelSettingsPayload:
    settings: ChannelSettings | None
    errors: list[UserError]


@strawberry.input(description="An empty body goes back to the default wording.")
class SetMessageTemplateInput:
    event_type: EventType
    channel: Channel
    language: Language
    subject: str = ""
    body: str = ""


@strawberry.type
class MessageTemplatePayload:
    template: MessageTemplate | None
    errors: list[UserError]


@strawberry.input
class SetReminderEmailsInput:
    enabled: bool
    language: Language = v.Language.VI


@strawberry.type
class ReminderEmailsPayload:
    enabled: bool | None
    errors: list[UserError]


@strawberry.type
class OutboxMutation:
    @strawberry.mutation(
        extensions=requires(Action.TENANT_MANAGE),
        description="Register a URL for report events; the payload holds its secret, once.",
    )
    async def create_webhook_endpoint(
        self, info: Info, input: CreateWebhookEndpointInput
    ) -> CreateWebhookEndpointPayload:
        async def work() -> service.CreatedEndpoint:
            return await service.create_endpoint(
                info.context.scope, input.url, list(input.event_types), input.description
            )

        def payload(
            made: service.CreatedEndpoint | None, errors: list[UserError]
        ) -> CreateWebhookEndpointPayload:
            endpoint = WebhookEndpoint.of(made.endpoint) if made else None
            return CreateWebhookEndpointPayload(
                endpoint=endpoint, secret=made.secret if made else None, errors=errors
            )

        return await run_mutation(info, work, payload)

    @strawberry.mutation(extensions=requires(Action.TENANT_MANAGE))
    async def update_webhook_endpoint(
        self, info: Info, input: UpdateWebhookEndpointInput
    ) -> WebhookEndpointPayload:
        async def work() -> models.WebhookEndpoint:
            return await service.update_endpoint(
                info.context.scope,
                decode(input.id, "WebhookEndpoint", "id"),
                url=input.url,
                event_types=list(input.event_types) if input.event_types is not None else None,
                active=input.active,
            )

        return await run_mutation(
            info,
            work,
            lambda r, e: WebhookEndpointPayload(
                endpoint=WebhookEndpoint.of(r) if r else None, errors=e
            ),
        )

    @strawberry.mutation(
        extensions=requires(Action.TENANT_MANAGE),
        description="Deliver a message again, now, under the same id.",
    )
    async def replay_outbox_message(
        self, info: Info, input: ReplayOutboxMessageInput
    ) -> OutboxMessagePayload:
        async def work() -> models.OutboxMessage:
            return await service.replay(info.context.scope, decode(input.id, "OutboxMessage", "id"))

        return await run_mutation(
            info,
            work,
            lambda r, e: OutboxMessagePayload(message=OutboxMessage.of(r) if r else None, errors=e),
        )

    @strawberry.mutation(extensions=requires(Action.TENANT_MANAGE))
    async def update_channel_settings(
        self, info: Info, input: UpdateChannelSettingsInput
    ) -> ChannelSettingsPayload:
        templates = input.zalo_template_ids
        change = service.SettingsChange(
            email_enabled=input.email_enabled,
            email_from=input.email_from,
            sms_url=input.sms_url,
            sms_token=input.sms_token,
            sms_sender=input.sms_sender,
            zalo_url=input.zalo_url,
            zalo_token=input.zalo_token,
            zalo_templates=(
                {t.event_type: t.template_id for t in templates} if templates is not None else None
            ),
        )

        async def work() -> models.ChannelSettings:
            return await service.update_settings(info.context.scope, change)

        return await run_mutation(
            info,
            work,
            lambda r, e: ChannelSettingsPayload(
                settings=ChannelSettings.of(r) if r else None, errors=e
            ),
        )

    @strawberry.mutation(extensions=requires(Action.TENANT_MANAGE))
    async def set_message_template(
        self, info: Info, input: SetMessageTemplateInput
    ) -> MessageTemplatePayload:
        async def work() -> models.MessageTemplate | None:
            return await service.set_template(
                info.context.scope, input.event_type, input.channel, input.language,
                input.subject, input.body,
            )  # fmt: skip

        return await run_mutation(
            info,
            work,
            lambda r, e: MessageTemplatePayload(
                template=MessageTemplate.of(r) if r else None, errors=e
            ),
        )

    @strawberry.mutation(
        extensions=login_required(),
        description="Receive one's own deadline reminders by e-mail too (staff, this tenant).",
    )
    async def set_reminder_emails(
        self, info: Info, input: SetReminderEmailsInput
    ) -> ReminderEmailsPayload:
        async def work() -> models.StaffPreference:
            return await service.set_reminder_emails(
                info.context.scope, input.enabled, input.language
            )

        return await run_mutation(
            info,
            work,
            lambda r, e: ReminderEmailsPayload(enabled=r.email_reminders if r else None, errors=e),
        )
