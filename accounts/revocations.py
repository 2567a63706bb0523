"""Which sessions are revoked, known in every API process within milliseconds.

Access tokens carry their session id (``sid``). A revocation (logout, refresh-token reuse,
deactivation, password change) sets ``auth_session.revoked_at`` and sends
``NOTIFY paht_session, '<session id>'`` in the same transaction. Each process caches the answer
per session (one indexed lookup the first time a session is seen), marks a session revoked when
the notification arrives, and tells whoever watches it (open WebSocket connections) at once.
Losing the listening connection drops the cache: anything may have been missed meanwhile."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient

from accounts.credentials import session_is_revoked
from accounts.tokens import Caller
from core.listen import listen_forever

log = logging.getLogger(__name__)

CHANNEL = "paht_session"


class SessionRevocations:
    def __init__(self, max_cached: int = 50_000) -> None:
        self._revoked: OrderedDict[uuid.UUID, bool] = OrderedDict()
        self._max = max_cached
        self._watchers: dict[uuid.UUID, set[Callable[[], None]]] = defaultdict(set)
        self._listener: asyncio.Task[None] | None = None
        self._epoch = 0  # bumped on every notification or reconnect (see is_revoked)

    async def is_revoked(self, session_id: uuid.UUID) -> bool:
        cached = self._revoked.get(session_id)
        if cached is not None:
            return cached
        epoch = self._epoch
        revoked = await session_is_revoked(session_id)
        # A notification that arrived during the lookup may postdate what it read.
        if self._epoch == epoch or revoked:
            self._remember(session_id, revoked)
        return revoked

    def _remember(self, session_id: uuid.UUID, revoked: bool) -> None:
        self._revoked[session_id] = revoked
        self._revoked.move_to_end(session_id)
        if len(self._revoked) > self._max:
            self._revoked.popitem(last=False)

    def revoked(self, session_id: uuid.UUID) -> None:
        """A revocation committed: remember it and tell the watchers."""
        self._epoch += 1
        self._remember(session_id, True)
        for notify in list(self._watchers.get(session_id, ())):
            notify()

    def forget(self) -> None:
        self._epoch += 1
        self._revoked.clear()

    @contextlib.contextmanager
    def watch(self, session_id: uuid.UUID, on_revoked: Callable[[], None]) -> Iterator[None]:
        self._watchers[session_id].add(on_revoked)
        try:
            yield
        finally:
            self._watchers[session_id].discard(on_revoked)
            if not self._watchers[session_id]:
                del self._watchers[session_id]

    # --- propagation ----------------------------------------------------------------------
    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            self.revoked(uuid.UUID(payload))
        except ValueError:
            log.warning("malformed session notification %r", payload)

    async def start_listening(self, connect: Callable[[], Awaitable[Any]]) -> None:
        self._listener = asyncio.create_task(
            listen_forever(
                connect, CHANNEL, self._on_notify, on_connected=self.forget, on_lost=self.forget
            )
        )

    async def stop_listening(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
            self._listener = None


async def still_valid(caller: Caller | None) -> bool:
    """Whether a long-lived connection's token is neither expired nor of a revoked session."""
    if caller is None:
        return True
    if caller.expires_at is not None and time.time() > caller.expires_at:
        return False
    return caller.session_id is None or not await revocations.is_revoked(caller.session_id)


async def announce_revoked(conn: BaseDBAsyncClient, session_ids: list[uuid.UUID]) -> None:
    """In the revoking transaction: every process hears of it when it commits."""
    for session_id in session_ids:
        await conn.execute_query("SELECT pg_notify($1, $2)", [CHANNEL, str(session_id)])


revocations = SessionRevocations()
