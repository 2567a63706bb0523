"""Connections for work that must not run in the caller's transaction.

A request holds one pooled connection for its transaction. Work it needs done outside that
transaction (attempt counters that must survive its rollback, credential and policy lookups,
the job runner's lock) takes a connection from a small pool of its own: from the request pool
it could wait forever for a connection that every concurrent request is holding."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient

_side_pool: asyncpg.Pool | None = None


def root_client() -> BaseDBAsyncClient:
    """The pooled client itself, even when called inside a transaction."""
    client = connections.get("default")
    while hasattr(client, "_parent"):
        client = client._parent
    return client


async def _rollback_if_open(connection: asyncpg.Connection) -> None:
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


async def open_side_pool(dsn: str, size: int = 4) -> bool:
    """At start-up (the app's lifespan, the test session); False if one is open already.
    Without it, side work falls back to the request pool, enough for one-off commands."""
    global _side_pool
    if _side_pool is not None:
        return False
    _side_pool = await asyncpg.create_pool(
        dsn.replace("asyncpg://", "postgresql://", 1),
        min_size=1,
        max_size=size,
        reset=_rollback_if_open,  # no session state is ever left on these connections
        server_settings={"application_name": "paht-side"},
    )
    return True


async def close_side_pool() -> None:
    global _side_pool
    if _side_pool is not None:
        pool, _side_pool = _side_pool, None
        await pool.close()


@asynccontextmanager
async def side_connection() -> AsyncIterator[Any]:
    """An asyncpg connection outside any transaction of the caller."""
    if _side_pool is not None:
        async with _side_pool.acquire() as con:
            yield con
    else:
        async with root_client().acquire_connection() as con:
            yield con
