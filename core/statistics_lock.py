"""The lock on a tenant's statistics tables, for everyone who writes them.

The statistics pass (``stats.maintain``) folds one tenant at a time under it; a split or merge
(``tenants.split``, ``tenants.merge``), whose database functions write the same tables and
their month roll-ups directly, takes it for both tenants first. Two writers of one tenant's
roll-ups at once could deadlock or collide on a roll-up's key (migration 0033)."""

from __future__ import annotations

import uuid

from tortoise.backends.base.client import BaseDBAsyncClient

STATS_LOCK = 7_305_016  # advisory lock class of a tenant's statistics (with the tenant's hash)


async def lock_statistics(conn: BaseDBAsyncClient, *tenant_ids: uuid.UUID) -> None:
    """Until the transaction ends; several tenants in one order, so two callers cannot each
    hold one and wait for the other."""
    for tenant_id in sorted(set(tenant_ids)):
        await conn.execute_query(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))", [STATS_LOCK, str(tenant_id)]
        )
