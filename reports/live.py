"""Live report events: one LISTEN connection per API process fans NOTIFYs out to subscribers.

The channel carries ids only; each subscriber loads the event in a short transaction scoped to
its own Scope (never a transaction held open for the subscription's lifetime)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from core.listen import listen_forever

log = logging.getLogger(__name__)

CHANNEL = "paht_report_event"


@dataclass(frozen=True)
class Notice:
    tenant_id: uuid.UUID
    report_id: uuid.UUID
    event_id: uuid.UUID


class ReportEventBus:
    def __init__(self, max_queue: int = 1000) -> None:
        self._subscribers: dict[uuid.UUID, set[asyncio.Queue[Notice]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._max_queue = max_queue
        self.listening = asyncio.Event()

    async def start(self, connect: Callable[[], Awaitable[Any]]) -> None:
        self._task = asyncio.create_task(self._listen(connect))

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
            self.listening.clear()

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            tenant, report, event = (uuid.UUID(part) for part in payload.split(":"))
        except ValueError:
            log.warning("malformed report event notification %r", payload)
            return
        notice = Notice(tenant, report, event)
        for queue in list(self._subscribers.get(tenant, ())):
            if queue.full():  # a stalled subscriber loses old notices, never blocks the rest
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(notice)

    async def _listen(self, connect: Callable[[], Awaitable[Any]]) -> None:
        await listen_forever(
            connect,
            CHANNEL,
            self._on_notify,
            on_connected=self.listening.set,
            on_lost=self.listening.clear,
        )

    @contextlib.asynccontextmanager
    async def subscribe(self, tenant_id: uuid.UUID) -> AsyncIterator[asyncio.Queue[Notice]]:
        queue: asyncio.Queue[Notice] = asyncio.Queue(self._max_queue)
        self._subscribers[tenant_id].add(queue)
        try:
            yield queue
        finally:
            self._subscribers[tenant_id].discard(queue)
            if not self._subscribers[tenant_id]:
                del self._subscribers[tenant_id]


bus = ReportEventBus()
