"""Writing messages to the outbox, in the caller's transaction: they exist exactly when the
change that caused them commits, and the runner delivers them afterwards.

Other features send through these functions, never through a channel directly:
``send_email`` / ``send_text`` for a ready-made message (an account's e-mail or SMS),
``notify`` for a templated one (a report's step, a reminder), ``publish_event`` for the
tenant's webhook subscribers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise import connections

from core import clock
from core.ids import new_id
from outbox.models import MessageTemplate, OutboxMessage, WebhookEndpoint
from outbox.templates import DEFAULTS, Wording, render, wording
from outbox.vocabulary import Channel, EventType, Language, MessageStatus


def _message(
    tenant_id: uuid.UUID,
    channel: Channel,
    event_type: EventType,
    at: datetime,
    **values: Any,
) -> OutboxMessage:
    """A pending message, not written yet (``_create`` writes it; a caller that writes several
    rows in one statement inserts it with them)."""
    return OutboxMessage(
        id=values.pop("id", None) or new_id(),
        tenant_id=tenant_id,
        channel=channel.value,
        event_type=event_type.value,
        status="PENDING",
        next_attempt_at=at,
        created_at=at,
        **values,
    )


async def _create(
    tenant_id: uuid.UUID,
    channel: Channel,
    event_type: EventType,
    at: datetime,
    **values: Any,
) -> OutboxMessage:
    message = _message(tenant_id, channel, event_type, at, **values)
    await message.save()
    return message


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
    message = notify_message(tenant_id, channel, recipient, event_type, lang, values, template, at)
    if message is None:
        return None
    await message.save()
    return message.id


def notify_message(
    tenant_id: uuid.UUID,
    channel: Channel,
    recipient: str,
    event_type: EventType,
    language: Language,
    values: dict[str, Any],
    template: Wording | None,
    at: datetime,
) -> OutboxMessage | None:
    """``notify``'s message, not written yet, from a template already looked up (``routes``)."""
    if template is None:
        return None
    text = render(template, values)
    payload = None
    if channel is Channel.ZALO:  # ZNS fills its own approved template from these values
        payload = {"template_data": {k: str(v) for k, v in values.items() if k in ZNS_KEYS}}
    return _message(
        tenant_id, channel, event_type, at, recipient=recipient, language=language.value,
        subject=text.subject, body=text.body, payload=payload,
    )  # fmt: skip


ZNS_KEYS = ("code", "title", "state", "tenant_name")


async def publish_event(
    tenant_id: uuid.UUID, event_type: EventType, data: dict[str, Any], *, at: datetime
) -> list[uuid.UUID]:
    """One message per active endpoint of the tenant subscribed to ``event_type`` (RLS: only the
    tenant's own endpoints are seen). ``data`` must hold ids and public data only."""
    endpoints = await WebhookEndpoint.filter(
        tenant_id=tenant_id, active=True, event_types__contains=[event_type.value]
    )
    messages = event_messages(tenant_id, event_type, data, [e.id for e in endpoints], at)
    for message in messages:
        await message.save()
    return [m.id for m in messages]


def event_messages(
    tenant_id: uuid.UUID,
    event_type: EventType,
    data: dict[str, Any],
    endpoint_ids: list[uuid.UUID],
    at: datetime,
) -> list[OutboxMessage]:
    """``publish_event``'s messages, not written yet, for endpoints already looked up."""
    messages = []
    for endpoint_id in endpoint_ids:
        # The payload names the message's own id too: a receiver may store the body alone.
        message_id = new_id()
        payload = {"id": str(message_id), "type": event_type.value, "timestamp": at.isoformat(),
                   "data": data}  # fmt: skip
        message = _message(
            tenant_id, Channel.WEBHOOK, event_type, at, id=message_id, endpoint_id=endpoint_id,
            payload=payload,
        )  # fmt: skip
        messages.append(message)
    return messages


@dataclass(frozen=True)
class Routes:
    """Where an event goes: the endpoints subscribed to it, and the wording of the message to
    one person (None: no such person, or nothing to say to them)."""

    endpoint_ids: list[uuid.UUID]
    template: Wording | None


_ROUTES_SQL = (
    f"SELECT ARRAY(SELECT e.id FROM {WebhookEndpoint._meta.db_table} e "
    "WHERE e.tenant_id = $1 AND e.active AND e.event_types @> ARRAY[$2::text] "
    "ORDER BY e.id) AS endpoints, t.subject, t.body "
    f"FROM (SELECT 1) one LEFT JOIN {MessageTemplate._meta.db_table} t "
    "ON t.tenant_id = $1 AND t.event_type = $2 AND t.channel = $3 AND t.language = $4"
)


async def routes(
    tenant_id: uuid.UUID, event_type: EventType, channel: Channel | None, language: Language
) -> Routes:
    """``publish_event``'s endpoints and ``notify``'s wording in one statement (RLS: the
    tenant's own rows)."""
    rows = await connections.get("default").execute_query_dict(
        _ROUTES_SQL, [tenant_id, event_type.value, channel.value if channel else "", language.value]
    )
    row = rows[0]
    if channel is None:
        template = None
    elif row["subject"] is not None:
        template = Wording(row["subject"], row["body"])
    else:
        template = DEFAULTS.get((event_type, language))
    return Routes(list(row["endpoints"]), template)


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
