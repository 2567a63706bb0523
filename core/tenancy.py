"""The tenant registry as every layer reads it: which tenant a code names, and whether it is
active. (The ``tenant`` table belongs to tenants/; its lifecycle is written only there.)

Looked up every time, not cached: a suspended tenant is refused at once, in every process.
One indexed read, on a side connection, so it works before any request transaction exists."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from core.db import side_connection

ACTIVE = "active"
MERGED = "merged"
_MAX_CODE = 40  # tenant_code_check in migration 0001


@dataclass(frozen=True)
class TenantRef:
    id: uuid.UUID
    code: str
    active: bool
    successor_id: uuid.UUID | None = None  # set once the tenant was merged into another


def _ref(row: Any) -> TenantRef | None:
    if row is None:
        return None
    merged = row["status"] == MERGED
    return TenantRef(
        row["id"], row["code"], row["status"] == ACTIVE, row["successor_id"] if merged else None
    )


async def tenant_by_code(code: str) -> TenantRef | None:
    code = code.strip().lower()
    if not code or len(code) > _MAX_CODE:
        return None
    async with side_connection() as con:
        row = await con.fetchrow(
            "SELECT id, code, status, successor_id FROM tenant WHERE code = $1", code
        )
    return _ref(row)


async def tenant_by_id(tenant_id: uuid.UUID) -> TenantRef | None:
    async with side_connection() as con:
        row = await con.fetchrow(
            "SELECT id, code, status, successor_id FROM tenant WHERE id = $1", tenant_id
        )
    return _ref(row)


async def all_tenant_ids() -> frozenset[uuid.UUID]:
    async with side_connection() as con:
        return frozenset(row["id"] for row in await con.fetch("SELECT id FROM tenant"))
