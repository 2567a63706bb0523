"""Database session glue for row-level security.

Every unit of work runs in one transaction whose first statement sets the transaction-local
settings the RLS policies read (``set_config(..., true)``; never session-level settings, which
survive on pooled connections and through PgBouncer)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from permissions.scope import Scope

log = logging.getLogger("paht.audit")

_SET_SCOPE_SQL = (
    "SELECT set_config('app.tenant_id', $1, true), set_config('app.tenant_ids', $2, true), "
    "set_config('app.province', $3, true), set_config('app.user_id', $4, true)"
)


async def set_rls_settings(
    conn: BaseDBAsyncClient | asyncpg.Connection,
    tenant: str = "",
    tenants: str = "",
    province: str = "",
    user: str = "",
) -> None:
    """Set the transaction-local settings the RLS policies read, on a tortoise or a raw asyncpg
    connection inside a transaction: the one place they are written. Requests use
    ``scoped_transaction`` / ``tenant_transaction``; this is for side connections and probes."""
    values = [tenant, tenants, province, user]
    if isinstance(conn, asyncpg.Connection):
        await conn.execute(_SET_SCOPE_SQL, *values)
    else:
        await conn.execute_query(_SET_SCOPE_SQL, values)


def scope_settings(scope: Scope) -> list[str]:
    """tenant, the other readable tenants (provincial path), the provincial flag, the user."""
    tenant = str(scope.tenant_id) if scope.tenant_id else ""
    others = scope.readable_tenant_ids - ({scope.tenant_id} if scope.tenant_id else set())
    tenants = "{" + ",".join(sorted(str(t) for t in others)) + "}" if others else ""
    user = str(scope.user_id) if scope.user_id else ""
    return [tenant, tenants, "on" if scope.provincial else "", user]


async def act_as_user(user_id: object) -> None:
    """Once a login or a refresh token has established who is calling, the rest of the
    transaction may see that user's own account and sessions (app.user_id)."""
    await connections.get("default").execute_query(
        "SELECT set_config('app.user_id', $1, true)", [str(user_id)]
    )


async def apply_scope(conn: BaseDBAsyncClient, scope: Scope) -> None:
    settings = scope_settings(scope)
    if settings[1]:
        # The provincial (cross-tenant) read path is explicit and audited.
        log.info(
            "cross-tenant read",
            extra={"user_id": str(scope.user_id), "tenants": settings[1]},
        )
    await set_rls_settings(conn, *settings)


async def rescope(scope: Scope) -> None:
    """Bind the rest of the current transaction to ``scope``. Only for an anonymous caller
    following a report that moved to another tenant (``trackReport``): it gets the scope it
    would have had by naming that tenant in its header, nothing more."""
    assert scope.user_id is None, "only anonymous callers are re-scoped"
    await apply_scope(connections.get("default"), scope)


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
            "current_setting('app.province', true) AS p, "
            "current_setting('app.user_id', true) AS u"
        )
        previous = [rows[0][k] or "" for k in ("t", "ts", "p", "u")]
        await set_rls_settings(conn, str(tenant_id))
        yield conn
        await set_rls_settings(conn, *previous)


async def lift_read_only_guard(conn: BaseDBAsyncClient, reason: str, **audit: object) -> None:
    """For the rest of this transaction, writes to tenants that are not active pass the guard
    of migration 0023 (app.lifecycle). Only the audited lifecycle operations call it (merging,
    anonymising an archived tenant's contacts); row-level security is unchanged."""
    log.info(
        "read-only guard lifted", extra={"reason": reason, **{k: str(v) for k, v in audit.items()}}
    )
    await conn.execute_query("SELECT set_config('app.lifecycle', 'on', true)")
