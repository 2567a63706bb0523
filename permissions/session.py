"""Database session glue for row-level security.

Every unit of work runs in one transaction whose first statement sets the transaction-local
settings the RLS policies read (``set_config(..., true)``; never session-level settings, which
survive on pooled connections and through PgBouncer)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from permissions.scope import Scope

log = logging.getLogger("paht.audit")

SET_SCOPE_SQL = (
    "SELECT set_config('app.tenant_id', $1, true), set_config('app.tenant_ids', $2, true), "
    "set_config('app.province', $3, true)"
)


def scope_settings(scope: Scope) -> list[str]:
    tenant = str(scope.tenant_id) if scope.tenant_id else ""
    others = scope.readable_tenant_ids - ({scope.tenant_id} if scope.tenant_id else set())
    tenants = "{" + ",".join(sorted(str(t) for t in others)) + "}" if others else ""
    return [tenant, tenants, "on" if scope.provincial else ""]


async def apply_scope(conn: BaseDBAsyncClient, scope: Scope) -> None:
    settings = scope_settings(scope)
    if settings[1]:
        # The provincial (cross-tenant) read path is explicit and audited.
        log.info(
            "cross-tenant read",
            extra={"user_id": str(scope.user_id), "tenants": settings[1]},
        )
    await conn.execute_query(SET_SCOPE_SQL, settings)


@asynccontextmanager
async def scoped_transaction(scope: Scope) -> AsyncIterator[BaseDBAsyncClient]:
    """A transaction in which RLS sees exactly what ``scope`` may see."""
    async with in_transaction() as conn:
        await apply_scope(conn, scope)
        yield conn


@asynccontextmanager
async def tenant_transaction(tenant_id: object) -> AsyncIterator[BaseDBAsyncClient]:
    """A transaction bound to one tenant, for system work (onboarding, loading policies).

    Nested in a request's transaction it is a savepoint; transaction-local settings outlive a
    released savepoint, so the caller's settings are put back on the way out."""
    async with in_transaction() as conn:
        _, rows = await conn.execute_query(
            "SELECT current_setting('app.tenant_id', true) AS t, "
            "current_setting('app.tenant_ids', true) AS ts, "
            "current_setting('app.province', true) AS p"
        )
        previous = [rows[0]["t"] or "", rows[0]["ts"] or "", rows[0]["p"] or ""]
        await conn.execute_query(SET_SCOPE_SQL, [str(tenant_id), "", ""])
        yield conn
        await conn.execute_query(SET_SCOPE_SQL, previous)


def root_client() -> BaseDBAsyncClient:
    """The pooled client itself, even when called inside a transaction."""
    client = connections.get("default")
    while hasattr(client, "_parent"):
        client = client._parent
    return client
