"""Background work the regulation asks for, safe with several API processes.

- a RESOLVED report is closed when its rating window (7 days) passes without a rating;
- a report waiting for information (NEED_INFO) is rejected when the reporter has not answered
  within the tenant's reply window (default 7 days);
- reminders at 50 % and 80 % of a running deadline and at its breach (reports.reminders);
- escalation of breached reports to the locality's leadership, then the province
  (reports.escalation);
- delivering the outbox (outbox.runner), in passes of their own, more often.

One runner at a time: each pass holds a PostgreSQL advisory lock, so with several processes the
others skip. Each tenant is handled in its own tenant-scoped transaction (RLS applies)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from core import clock, throttle
from core.db import side_connection
from outbox.runner import DeliveryStats, Outbox, deliver_due
from permissions.session import tenant_transaction
from reports.escalation import escalate_overdue
from reports.models import Report, ReportEvent
from reports.reminders import send_reminders
from reports.retention import anonymise_expired_contacts
from reports.transitions import system_transition
from reports.workflow import RATING_WINDOW, ReportState, WorkflowAction
from tenants.models import Tenant, TenantStatus
from tenants.regulation import tenant_options

log = logging.getLogger(__name__)

JOBS_LOCK = 7_305_001  # advisory lock key of the job runner
OUTBOX_LOCK = 7_305_003  # advisory lock key of the outbox delivery (api/database: 7_305_002)
BATCH = 200


@dataclass
class JobStats:
    closed: int = 0
    rejected: int = 0
    reminded: int = 0
    escalated: int = 0
    anonymised: int = 0
    tenants: int = 0
    skipped: bool = False
    errors: list[str] = field(default_factory=list)


async def _reply_window(tenant_id: object) -> timedelta:
    return timedelta(days=(await tenant_options(tenant_id)).reply_window_days)


async def _close_unrated(tenant: Tenant, now: datetime, stats: JobStats) -> None:
    async with tenant_transaction(tenant.id):
        due = await Report.filter(
            tenant_id=tenant.id,
            state=ReportState.RESOLVED.value,
            resolved_at__lt=now - RATING_WINDOW,
        ).limit(BATCH)
        for report in due:
            if await system_transition(
                tenant.id, report, WorkflowAction.CLOSE, comment="Hết thời hạn đánh giá.", now=now
            ):
                stats.closed += 1


async def _reject_unanswered(tenant: Tenant, now: datetime, stats: JobStats) -> None:
    async with tenant_transaction(tenant.id):
        window = await _reply_window(tenant.id)
        waiting = await Report.filter(
            tenant_id=tenant.id, state=ReportState.NEED_INFO.value, updated_at__lt=now - window
        ).limit(BATCH)
        for report in waiting:
            asked = (
                await ReportEvent.filter(
                    tenant_id=tenant.id, report_id=report.id, to_state=ReportState.NEED_INFO.value
                )
                .order_by("-created_at")
                .first()
            )
            if asked is not None and asked.created_at > now - window:
                continue
            if await system_transition(
                tenant.id,
                report,
                WorkflowAction.REJECT,
                reason_code="INSUFFICIENT_INFO",
                comment="Người phản ánh không bổ sung thông tin trong thời hạn.",
                now=now,
            ):
                stats.rejected += 1


async def _remind(tenant: Tenant, now: datetime, stats: JobStats) -> None:
    async with tenant_transaction(tenant.id):
        stats.reminded += await send_reminders(tenant.id, now)


async def _escalate(tenant: Tenant, now: datetime, stats: JobStats) -> None:
    async with tenant_transaction(tenant.id):
        stats.escalated += await escalate_overdue(tenant.id, now)


@asynccontextmanager
async def _single_runner(lock_id: int) -> AsyncIterator[bool]:
    """Whether this process may run the pass ``lock_id`` names (one process at a time)."""
    async with side_connection() as lock_conn:
        try:
            yield bool(await lock_conn.fetchval("SELECT pg_try_advisory_lock($1)", lock_id))
        finally:
            # Released however the pass ends (even if cancelled while taking the lock): pooled
            # connections are not reset on release.
            await lock_conn.execute("SELECT pg_advisory_unlock_all()")


async def _active_tenants(tenant_codes: Collection[str] | None) -> list[Tenant]:
    tenants = Tenant.filter(status=TenantStatus.ACTIVE)
    if tenant_codes is not None:
        tenants = tenants.filter(code__in=list(tenant_codes))
    return await tenants.order_by("code")


async def run_once(
    now: datetime | None = None, tenant_codes: Collection[str] | None = None
) -> JobStats:
    """One pass over the active tenants (all, or those named), if no other process is running
    one. The whole pass happens at one instant ``now`` (default: the clock)."""
    now = now or clock.now()
    stats = JobStats()
    async with _single_runner(JOBS_LOCK) as ours:
        if not ours:
            stats.skipped = True
            return stats
        for tenant in await _active_tenants(tenant_codes):
            stats.tenants += 1
            for job in (_close_unrated, _reject_unanswered, _remind, _escalate):
                try:
                    await job(tenant, now, stats)
                except Exception as exc:  # one tenant's failure must not stop the others
                    log.exception("job %s failed for tenant %s", job.__name__, tenant.code)
                    stats.errors.append(f"{tenant.code}: {job.__name__}: {exc}")
        try:  # every tenant that still holds reports, read-only ones included
            stats.anonymised = await anonymise_expired_contacts(now, tenant_codes)
        except Exception as exc:
            log.exception("contact retention failed")
            stats.errors.append(f"retention: {exc}")
        if tenant_codes is None:
            # Attempt counters nobody touched for a day (and not locking anyone out).
            await throttle.forget_idle(now - timedelta(days=1))
    return stats


@dataclass
class OutboxStats:
    tenants: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: bool = False
    errors: list[str] = field(default_factory=list)

    def add(self, stats: DeliveryStats) -> None:
        self.sent += stats.sent
        self.retried += stats.retried
        self.failed += stats.failed


async def deliver_once(
    outbox: Outbox, now: datetime | None = None, tenant_codes: Collection[str] | None = None
) -> OutboxStats:
    """One delivery pass over the active tenants, if no other process is delivering: what
    committed transactions put in the outbox and is due at ``now`` (default: the clock)."""
    now = now or clock.now()
    stats = OutboxStats()
    async with _single_runner(OUTBOX_LOCK) as ours:
        if not ours:
            stats.skipped = True
            return stats
        for tenant in await _active_tenants(tenant_codes):
            stats.tenants += 1
            try:
                stats.add(await deliver_due(tenant.id, now, outbox.senders, outbox.policy))
            except Exception as exc:  # one tenant's failure must not stop the others
                log.exception("outbox delivery failed for tenant %s", tenant.code)
                stats.errors.append(f"{tenant.code}: {exc}")
    return stats


_REPORTED = ("closed", "rejected", "reminded", "escalated", "sent", "retried", "failed", "errors")


async def _every(interval_seconds: float, work: Callable[[], Awaitable[Any]], name: str) -> None:
    while True:
        try:
            stats = await work()
            if any(getattr(stats, k, 0) for k in _REPORTED):
                log.info("%s: %s", name, stats)
        except Exception:  # the database may be away for a moment: try again next time
            log.exception("%s pass failed", name)
        await asyncio.sleep(interval_seconds)


async def run_forever(
    interval_seconds: float, outbox: Outbox | None = None, outbox_interval_seconds: float = 0
) -> None:
    """The jobs pass every ``interval_seconds``; the outbox every ``outbox_interval_seconds``
    (0: right after each jobs pass)."""
    if outbox is None:
        await _every(interval_seconds, run_once, "jobs")
        return
    if outbox_interval_seconds <= 0:

        async def both() -> JobStats:
            stats = await run_once()
            await deliver_once(outbox)
            return stats

        await _every(interval_seconds, both, "jobs")
        return
    await asyncio.gather(
        _every(interval_seconds, run_once, "jobs"),
        _every(outbox_interval_seconds, lambda: deliver_once(outbox), "outbox"),
    )
