"""graphql-transport-ws connections end with their token.

A connection authenticated with a token is closed (code 4403, as the protocol closes a
refused connection) when the token expires or its session is revoked, whichever comes first;
clients reconnect with a fresh token. Subscriptions also re-check the token before each event
they deliver (reports/schema/live.py), so nothing slips out between the two."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)

from accounts.revocations import revocations
from accounts.tokens import Caller

CLOSE_FORBIDDEN = 4403


class SessionBoundTransportWS(BaseGraphQLTransportWSHandler[Any, None]):
    _watchdog: asyncio.Task[None] | None = None

    async def handle_connection_init(self, message: Any) -> None:
        await super().handle_connection_init(message)
        caller: Caller | None = getattr(self.context, "caller", None)
        if self.connection_acknowledged and caller is not None and self._watchdog is None:
            self._watchdog = asyncio.create_task(self._close_when_over(caller))

    async def shutdown(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        await super().shutdown()

    async def _close_when_over(self, caller: Caller) -> None:
        revoked = asyncio.Event()
        watching = (
            revocations.watch(caller.session_id, revoked.set)
            if caller.session_id is not None
            else contextlib.nullcontext()
        )
        with watching:
            if caller.session_id is not None and await revocations.is_revoked(caller.session_id):
                revoked.set()  # revoked between the handshake and now
            remaining = None if caller.expires_at is None else caller.expires_at - time.time()
            try:
                await asyncio.wait_for(
                    revoked.wait(), None if remaining is None else max(remaining, 0)
                )
                reason = "Session revoked"
            except TimeoutError:
                reason = "Token expired"
        await self.websocket.close(code=CLOSE_FORBIDDEN, reason=reason)
