"""The tenant administrator's use cases: webhook endpoints (the secret shown once), replaying a
message, the channel settings (gateway tokens write-only), templates; a staff member's own
reminder preference. Each takes the caller's Scope; RLS keeps every row inside its tenant."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from core import clock
from core.errors import NotFound, Validator
from core.glossary import Term
from outbox.models import (
    ChannelSettings,
    MessageTemplate,
    OutboxMessage,
    StaffPreference,
    WebhookEndpoint,
)
from outbox.signing import new_secret
from outbox.vocabulary import WEBHOOK_EVENT_TYPES, Channel, EventType, Language, MessageStatus
from permissions.actions import Action
from permissions.scope import Scope

PAGE = 100


def _check_url(v: Validator, field_name: str, url: str | None, required: bool = True) -> None:
    if not url:
        if required:
            v.add("REQUIRED", field_name, "Cần địa chỉ.", "An address is required.")
        return
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2000:
        v.add(
            "INVALID_URL",
            field_name,
            "Địa chỉ phải bắt đầu bằng «https://» (hoặc «http://»).",
            "The address must be an http(s) URL.",
        )


def _check_event_types(v: Validator, event_types: list[EventType]) -> None:
    if not event_types:
        v.add("REQUIRED", "eventTypes", "Cần chọn ít nhất một loại sự kiện.",
              "Choose at least one event type.")  # fmt: skip
    elif any(e not in WEBHOOK_EVENT_TYPES for e in event_types):
        v.add("INVALID", "eventTypes", "Chỉ đăng ký được sự kiện của phản ánh.",
              "Only report events can be subscribed to.")  # fmt: skip


@dataclass(frozen=True)
class CreatedEndpoint:
    endpoint: WebhookEndpoint
    secret: str  # shown once, at creation


def _admin_tenant(scope: Scope) -> uuid.UUID:
    """The tenant an administrator manages (the GraphQL fields declare the same permission;
    the services check it too, for every other caller)."""
    scope.require(Action.TENANT_MANAGE)
    return scope.require_tenant()


async def create_endpoint(
    scope: Scope, url: str, event_types: list[EventType], description: str = ""
) -> CreatedEndpoint:
    tenant_id = _admin_tenant(scope)
    v = Validator()
    url = (url or "").strip()
    _check_url(v, "url", url)
    _check_event_types(v, event_types)
    description = v.text("description", description, max_len=200, required=False) or ""
    v.check()
    secret = new_secret()
    endpoint = await WebhookEndpoint.create(
        tenant_id=tenant_id, url=url, description=description,
        event_types=sorted({e.value for e in event_types}), secret=secret,
        created_at=clock.now(),
    )  # fmt: skip
    return CreatedEndpoint(endpoint, secret)


async def _endpoint(scope: Scope, endpoint_id: uuid.UUID) -> WebhookEndpoint:
    endpoint = await WebhookEndpoint.get_or_none(tenant_id=_admin_tenant(scope), id=endpoint_id)
    if endpoint is None:
        raise NotFound(Term.WEBHOOK_ENDPOINT, "id")
    return endpoint


async def update_endpoint(
    scope: Scope,
    endpoint_id: uuid.UUID,
    *,
    url: str | None = None,
    event_types: list[EventType] | None = None,
    active: bool | None = None,
) -> WebhookEndpoint:
    """Change the address or the subscriptions; ``active=True`` switches a disabled endpoint
    back on (its failure count starts again)."""
    endpoint = await _endpoint(scope, endpoint_id)
    v = Validator()
    if url is not None:
        _check_url(v, "url", url.strip())
    if event_types is not None:
        _check_event_types(v, event_types)
    v.check()
    if url is not None:
        endpoint.url = url.strip()
    if event_types is not None:
        endpoint.event_types = sorted({e.value for e in event_types})
    if active is True and not endpoint.active:
        endpoint.active, endpoint.consecutive_failures, endpoint.disabled_at = True, 0, None
    elif active is False:
        endpoint.active, endpoint.disabled_at = False, clock.now()
    await endpoint.save()
    return endpoint


async def endpoints(scope: Scope) -> list[WebhookEndpoint]:
    return await WebhookEndpoint.filter(tenant_id=_admin_tenant(scope)).order_by("created_at")


async def messages(
    scope: Scope,
    status: MessageStatus | None = None,
    endpoint_id: uuid.UUID | None = None,
    first: int = 50,
) -> list[OutboxMessage]:
    """The newest messages of the tenant, optionally of one status or one endpoint."""
    rows = OutboxMessage.filter(tenant_id=_admin_tenant(scope))
    if status is not None:
        rows = rows.filter(status=status.value)
    if endpoint_id is not None:
        rows = rows.filter(endpoint_id=endpoint_id)
    return await rows.order_by("-created_at", "-id").limit(max(1, min(first, PAGE)))


async def replay(scope: Scope, message_id: uuid.UUID) -> OutboxMessage:
    """Deliver a message again, now, under the same id (the receiver de-duplicates)."""
    tenant_id = _admin_tenant(scope)
    message = await OutboxMessage.get_or_none(tenant_id=tenant_id, id=message_id)
    if message is None:
        raise NotFound(Term.OUTBOX_MESSAGE, "id")
    await OutboxMessage.filter(tenant_id=tenant_id, id=message_id).update(
        status=MessageStatus.PENDING.value, attempts=0, next_attempt_at=clock.now()
    )
    return await OutboxMessage.get(tenant_id=tenant_id, id=message_id)


@dataclass(frozen=True)
class SettingsChange:
    """``None`` leaves a value as it is; an empty string clears it."""

    email_enabled: bool | None = None
    email_from: str | None = None
    sms_url: str | None = None
    sms_token: str | None = None
    sms_sender: str | None = None
    zalo_url: str | None = None
    zalo_token: str | None = None
    zalo_templates: dict[EventType, str] | None = None


async def channel_settings(scope: Scope) -> ChannelSettings:
    tenant_id = _admin_tenant(scope)
    row = await ChannelSettings.get_or_none(tenant_id=tenant_id)
    return row or ChannelSettings(tenant_id=tenant_id, updated_at=clock.now())


async def update_settings(scope: Scope, change: SettingsChange) -> ChannelSettings:
    row = await channel_settings(scope)
    v = Validator()
    for name in ("sms_url", "zalo_url"):
        value = getattr(change, name)
        if value:
            _check_url(v, "smsUrl" if name == "sms_url" else "zaloUrl", value.strip())
    if change.email_from and (
        "@" not in change.email_from or any(c in change.email_from for c in "\r\n")
    ):
        v.add("INVALID_EMAIL", "emailFrom", "Email không hợp lệ.", "Invalid email.")
    v.check()
    # A gateway's stored token goes only to the address it was given for: a new address
    # without a new token clears it (whoever edits the address cannot collect the token).
    if change.sms_url is not None and change.sms_url.strip() != (row.sms_url or ""):
        row.sms_token = None if change.sms_token is None else row.sms_token
    if change.zalo_url is not None and change.zalo_url.strip() != (row.zalo_url or ""):
        row.zalo_token = None if change.zalo_token is None else row.zalo_token
    for name in ("email_from", "sms_url", "sms_token", "sms_sender", "zalo_url", "zalo_token"):
        value = getattr(change, name)
        if value is not None:
            setattr(row, name, value.strip() or None)
    if change.email_enabled is not None:
        row.email_enabled = change.email_enabled
    if change.zalo_templates is not None:
        row.zalo_templates = {e.value: t.strip() for e, t in change.zalo_templates.items()}
    row.updated_at = clock.now()
    await row.save()
    return row


async def set_template(
    scope: Scope,
    event_type: EventType,
    channel: Channel,
    language: Language,
    subject: str,
    body: str,
) -> MessageTemplate | None:
    """The tenant's own wording (placeholders such as ``{code}``); an empty body goes back to
    the default (None)."""
    tenant_id = _admin_tenant(scope)
    v = Validator()
    subject = v.text("subject", subject, max_len=300, required=False) or ""
    body = v.text("body", body, max_len=5000, required=False) or ""
    v.check()
    key: dict[str, Any] = {
        "tenant_id": tenant_id,
        "event_type": event_type.value,
        "channel": channel.value,
        "language": language.value,
    }
    if not body:
        await MessageTemplate.filter(**key).delete()
        return None
    row, _ = await MessageTemplate.update_or_create(
        defaults={"subject": subject, "body": body, "updated_at": clock.now()}, **key
    )
    return row


async def templates(scope: Scope) -> list[MessageTemplate]:
    return await MessageTemplate.filter(tenant_id=_admin_tenant(scope)).order_by(
        "event_type", "channel", "language"
    )


async def set_reminder_emails(scope: Scope, enabled: bool, language: Language) -> StaffPreference:
    """The caller's own choice, in the current tenant."""
    tenant_id, user_id = scope.require_tenant(), scope.require_user()
    row, _ = await StaffPreference.update_or_create(
        defaults={"email_reminders": enabled, "language": language.value,
                  "updated_at": clock.now()},
        tenant_id=tenant_id, user_id=user_id,
    )  # fmt: skip
    return row
