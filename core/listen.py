"""LISTEN on a dedicated PostgreSQL connection, reconnecting for as long as the process runs.

Used by the policy store (policy and configuration changes) and the live report events. A
dedicated direct connection: LISTEN does not work through a transaction-pooling proxy."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from core.errors import is_database_unavailable

log = logging.getLogger(__name__)

Notify = Callable[[Any, int, str, str], None]


async def listen_forever(
    connect: Callable[[], Awaitable[Any]],
    channel: str,
    on_notify: Notify,
    *,
    on_connected: Callable[[], None] | None = None,
    on_lost: Callable[[], None] | None = None,
    retry_seconds: float = 1.0,
) -> None:
    """``on_connected`` runs once listening (e.g. to drop caches that may have missed
    notifications), ``on_lost`` when the connection is gone, before a retry."""
    while True:
        conn = None
        try:
            conn = await connect()
            await conn.add_listener(channel, on_notify)
            if on_connected is not None:
                on_connected()
            closed = asyncio.Event()
            conn.add_termination_listener(lambda _conn, event=closed: event.set())
            await closed.wait()
        except asyncio.CancelledError:
            if conn is not None:
                await conn.close()
            raise
        except Exception as error:
            if is_database_unavailable(error):
                log.warning("listener on %s lost the database (%s); reconnecting", channel, error)
            else:
                log.exception("listener on %s failed; reconnecting", channel)
        if on_lost is not None:
            on_lost()
        await asyncio.sleep(retry_seconds)
