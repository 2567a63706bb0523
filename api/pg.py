"""The PostgreSQL engine for Tortoise: asyncpg, without the per-release reset query.

asyncpg runs ``pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`` on every release of
a pooled connection: one more round trip per request. PAHT never uses session state on pooled
connections (settings are transaction-local, LISTEN runs on dedicated connections, the job
runner releases its advisory lock itself), so the only thing left to undo is a transaction left
open by a failure."""

from __future__ import annotations

from typing import Any

import asyncpg
from tortoise.backends.asyncpg.client import AsyncpgDBClient


async def _reset(connection: asyncpg.Connection) -> None:
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


class PahtAsyncpgClient(AsyncpgDBClient):
    async def create_pool(self, **kwargs: Any) -> asyncpg.Pool:
        return await asyncpg.create_pool(None, reset=_reset, **kwargs)


client_class = PahtAsyncpgClient
