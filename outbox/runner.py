"""Delivering the outbox after commit: run by the background pass (reports/jobs.py), which
holds an advisory lock, so one process delivers at a time.

Each message is settled in its own short transaction right after its attempt. A process that
dies mid-batch leaves the messages it had not settled PENDING: the next pass (in whichever
process takes the lock) delivers them again, with the same id — at least once, never lost.
A failed attempt is retried with exponential back-off and jitter until ``max_attempts``; a
webhook endpoint that fails ``disable_after`` times in a row is switched off and the tenant's
administrators are told by e-mail."""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise.expressions import F

from outbox.admins import tell_admins_endpoint_disabled
from outbox.channels import Delivery, Senders, TenantChannels
from outbox.models import ChannelSettings, OutboxMessage, WebhookEndpoint
from outbox.vocabulary import Channel, EventType, MessageStatus
from permissions.session import tenant_transaction

log = logging.getLogger(__name__)

BATCH = 100
MAX_BATCHES = 20


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 30
    cap_seconds: float = 6 * 3600
    max_attempts: int = 8
    disable_after: int = 5  # consecutive failures of one webhook endpoint

    def delay(self, attempts: int, rng: random.Random | None = None) -> timedelta:
        """After ``attempts`` failed attempts: base·2^(n-1), capped, with "equal jitter" (half
        fixed, half random) so that retries of many messages spread out."""
        full = min(self.cap_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        jitter = (rng or random).uniform(0, full / 2)
        return timedelta(seconds=full / 2 + jitter)


@dataclass
class DeliveryStats:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    disabled_endpoints: list[uuid.UUID] = field(default_factory=list)


async def _due(tenant_id: uuid.UUID, now: datetime, limit: int) -> list[OutboxMessage]:
    async with tenant_transaction(tenant_id):
        return (
            await OutboxMessage.filter(
                tenant_id=tenant_id, status=MessageStatus.PENDING, next_attempt_at__lte=now
            )
            .order_by("next_attempt_at", "id")
            .limit(limit)
        )


async def _context(tenant_id: uuid.UUID, message: OutboxMessage) -> TenantChannels:
    async with tenant_transaction(tenant_id):
        settings = await ChannelSettings.get_or_none(tenant_id=tenant_id)
        endpoint = None
        if message.endpoint_id is not None:
            endpoint = await WebhookEndpoint.get_or_none(
                tenant_id=tenant_id, id=message.endpoint_id
            )
        return TenantChannels(settings, endpoint)


async def _settle(
    message: OutboxMessage,
    delivery: Delivery,
    now: datetime,
    policy: RetryPolicy,
    stats: DeliveryStats,
) -> None:
    tenant_id = message.tenant_id
    attempts = message.attempts + 1
    async with tenant_transaction(tenant_id):
        common = {
            "attempts": attempts,
            "last_status_code": delivery.status_code,
            "last_duration_ms": delivery.duration_ms,
            "last_error": delivery.error,
        }
        rows = OutboxMessage.filter(tenant_id=tenant_id, id=message.id)
        if message.event_type == EventType.ACCOUNT_MESSAGE.value and (
            delivery.ok or not (delivery.retry and attempts < policy.max_attempts)
        ):
            # Account messages carry one-time codes and tracking codes: once settled, only
            # the record that one was sent (to whom, when, how it went) is kept.
            common |= {"subject": "", "body": ""}
        if delivery.ok:
            await rows.update(status=MessageStatus.SENT, sent_at=now, **common)
            stats.sent += 1
        elif delivery.retry and attempts < policy.max_attempts:
            await rows.update(next_attempt_at=now + policy.delay(attempts), **common)
            stats.retried += 1
        else:
            await rows.update(status=MessageStatus.FAILED, **common)
            stats.failed += 1
        if message.endpoint_id is not None and delivery.retry:
            await _count_for_endpoint(tenant_id, message.endpoint_id, delivery, now, policy, stats)


async def _count_for_endpoint(
    tenant_id: uuid.UUID,
    endpoint_id: uuid.UUID,
    delivery: Delivery,
    now: datetime,
    policy: RetryPolicy,
    stats: DeliveryStats,
) -> None:
    endpoints = WebhookEndpoint.filter(tenant_id=tenant_id, id=endpoint_id)
    if delivery.ok:
        await endpoints.update(consecutive_failures=0)
        return
    await endpoints.update(consecutive_failures=F("consecutive_failures") + 1)
    endpoint = await WebhookEndpoint.get(tenant_id=tenant_id, id=endpoint_id)
    if endpoint.active and endpoint.consecutive_failures >= policy.disable_after:
        await endpoints.update(active=False, disabled_at=now)
        stats.disabled_endpoints.append(endpoint_id)
        log.warning("webhook endpoint %s disabled after %d failures", endpoint_id,
                    endpoint.consecutive_failures)  # fmt: skip
        await tell_admins_endpoint_disabled(endpoint, now)


async def deliver_due(
    tenant_id: uuid.UUID,
    now: datetime,
    senders: Senders,
    policy: RetryPolicy | None = None,
    limit: int = BATCH,
    max_batches: int = MAX_BATCHES,
) -> DeliveryStats:
    """Attempt every message of the tenant that is due at ``now``, oldest first, batch by batch
    (at most ``max_batches`` per pass; the next pass goes on). No transaction is open while a
    channel talks to the outside."""
    policy = policy or RetryPolicy()
    stats = DeliveryStats()
    for _ in range(max_batches):
        batch = await _due(tenant_id, now, limit)
        for message in batch:
            context = await _context(tenant_id, message)
            channel = Channel(message.channel)
            try:
                delivery = await senders.of(channel).send(message, context)
            except Exception as error:
                log.exception("outbox %s %s: the channel raised", message.id, channel.value)
                delivery = Delivery(False, error=f"unexpected: {type(error).__name__}")
            # Ids and outcomes only: recipients and bodies are personal data.
            log.info("outbox %s %s %s: %s", message.id, channel.value, message.event_type,
                     "sent" if delivery.ok else f"failed ({delivery.status_code})")  # fmt: skip
            await _settle(message, delivery, now, policy, stats)
        if len(batch) < limit:
            break
    return stats


@dataclass(frozen=True)
class Outbox:
    """What the background runner delivers with: the channels and the retry policy."""

    senders: Senders
    policy: RetryPolicy = field(default_factory=RetryPolicy)
