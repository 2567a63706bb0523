"""Writing messages to the outbox, in the caller's transaction: they exist exactly when the
change that caused them commits, and the runner delivers them afterwards.

Other features send through these functions, never through a channel directly:
``send_email`` / ``send_text`` for a ready-made message (an account's e-mail or SMS),
``notify`` for a templated one (a report's step, a reminder), ``publish_event`` for the
tenant's webhook subscribers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from core import clock
from core.ids import new_id
from outbox.models import OutboxMessage, WebhookEndpoint
from outbox.templates import render, wording
from outbox.vocabulary import Channel, EventType, Language, MessageStatus


async def _create(
    tenant_id: uuid.UUID,
    channel: Channel,
    event_type: EventType,
    at: datetime,
    **values: Any,
) -> OutboxMessage:
    return await OutboxMessage.create(
        id=values.pop("id", None) or new_id(),
        tenant_id=tenant_id,
        channel=channel.value,
        event_type=event_type.value,
        status="PENDING",
        next_attempt_at=at,
        created_at=at,
        **values,
    )


async def send_email(
    tenant_id: uuid.UUID,
    to: str,
    subject: str,
    body: str,
    *,
    language: Language | str = Language.VI,
    event_type: EventType = EventType.ACCOUNT_MESSAGE,
    at: datetime | None = None,
) -> uuid.UUID:
    """Queue one e-mail in the current transaction (it is sent after commit, at least once,
    with the returned id as its Message-ID). Must run where ``app.tenant_id`` is ``tenant_id``
    (a request's transaction, or ``permissions.session.tenant_transaction``)."""
    message = await _create(
        tenant_id, Channel.EMAIL, event_type, at or clock.now(),
        recipient=to.strip(), language=Language(language).value, subject=subject, body=body,
    )  # fmt: skip
    return message.id


async def send_text(
    tenant_id: uuid.UUID,
    to: str,
    body: str,
    *,
    language: Language | str = Language.VI,
    event_type: EventType = EventType.ACCOUNT_MESSAGE,
    at: datetime | None = None,
) -> uuid.UUID:
    """Queue one ready-made SMS through the tenant's gateway, like ``send_email`` (the gateway
    sends the subject: an SMS is one text)."""
    message = await _create(
        tenant_id, Channel.SMS, event_type, at or clock.now(),
        recipient=to.strip(), language=Language(language).value, subject=body, body=body,
    )  # fmt: skip
    return message.id


async def notify(
    tenant_id: uuid.UUID,
    channel: Channel,
    recipient: str,
    event_type: EventType,
    language: Language | str,
    values: dict[str, Any],
    *,
    at: datetime,
) -> uuid.UUID | None:
    """Queue the tenant's message for ``event_type`` to one person, worded in their language
    (the tenant's template or the default). None when there is nothing to say."""
    lang = Language(language)
    template = await wording(tenant_id, event_type, channel, lang)
    if template is None:
        return None
    text = render(template, values)
    payload = None
    if channel is Channel.ZALO:  # ZNS fills its own approved template from these values
        payload = {"template_data": {k: str(v) for k, v in values.items() if k in ZNS_KEYS}}
    message = await _create(
        tenant_id, channel, event_type, at, recipient=recipient, language=lang.value,
        subject=text.subject, body=text.body, payload=payload,
    )  # fmt: skip
    return message.id


ZNS_KEYS = ("code", "title", "state", "tenant_name")


async def publish_event(
    tenant_id: uuid.UUID, event_type: EventType, data: dict[str, Any], *, at: datetime
) -> list[uuid.UUID]:
    """One message per active endpoint of the tenant subscribed to ``event_type`` (RLS: only the
    tenant's own endpoints are seen). ``data`` must hold ids and public data only."""
    endpoints = await WebhookEndpoint.filter(
        tenant_id=tenant_id, active=True, event_types__contains=[event_type.value]
    )
    ids = []
    for endpoint in endpoints:
        # The payload names the message's own id too: a receiver may store the body alone.
        message_id = new_id()
        payload = {"id": str(message_id), "type": event_type.value, "timestamp": at.isoformat(),
                   "data": data}  # fmt: skip
        await _create(
            tenant_id, Channel.WEBHOOK, event_type, at, id=message_id, endpoint_id=endpoint.id,
            payload=payload,
        )  # fmt: skip
        ids.append(message_id)
    return ids


async def forget_recipient(tenant_id: uuid.UUID, addresses: list[str]) -> int:
    """A person's account is deleted: messages already sent (or given up) to their addresses
    keep their trace (channel, type, status, times) but lose the address and the text. Pending
    ones are left to be delivered or given up. The number of messages wiped."""
    if not addresses:
        return 0
    return await (
        OutboxMessage.filter(tenant_id=tenant_id, recipient__in=addresses)
        .exclude(status=MessageStatus.PENDING.value)
        .update(recipient=None, subject="", body="", payload=None)
    )
