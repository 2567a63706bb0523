"""The only ways into credentials and sessions before the caller is known.

Password hashes live in ``user_credential``, which the application role cannot read, and
``app_user``, ``auth_session`` and ``refresh_token`` are row-level secured. Login, refresh and
token checks call the SECURITY DEFINER functions of migration 0008, each of which answers one
narrow question (the candidates for one username, the row of one refresh-token hash, the
caller's own hash)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from tortoise import connections

from core.db import side_connection


@dataclass(frozen=True)
class LoginCandidate:
    user_id: uuid.UUID
    password_hash: str | None
    is_active: bool
    home_tenant_id: uuid.UUID | None
    must_change: bool


@dataclass(frozen=True)
class RefreshRow:
    id: uuid.UUID
    user_id: uuid.UUID
    tenant_id: uuid.UUID | None
    session_id: uuid.UUID
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None
    successor_sealed: bytes | None
    session_revoked: bool
    user_active: bool


async def login_candidates(username: str, tenant_id: uuid.UUID | None) -> list[LoginCandidate]:
    """The tenant's own account of that name first, then provincial ones (at most five)."""
    rows = await connections.get("default").execute_query_dict(
        "SELECT * FROM paht_login_candidates($1, $2)", [username, tenant_id]
    )
    return [
        LoginCandidate(
            r["user_id"], r["password_hash"], r["is_active"], r["default_tenant_id"],
            r["must_change"],
        )
        for r in rows
    ]  # fmt: skip


async def set_password_hash(user_id: uuid.UUID, password_hash: str, must_change: bool) -> None:
    """In the caller's transaction; refused by the database for accounts outside its scope."""
    await connections.get("default").execute_query(
        "SELECT paht_set_password($1, $2, $3)", [user_id, password_hash, must_change]
    )


async def own_password_hash() -> str | None:
    """The signed-in caller's own hash (``app.user_id``), to verify a current password."""
    rows = await connections.get("default").execute_query_dict(
        "SELECT password_hash FROM paht_own_credential()"
    )
    return rows[0]["password_hash"] if rows else None


async def refresh_row(token_hash: str) -> RefreshRow | None:
    rows = await connections.get("default").execute_query_dict(
        "SELECT * FROM paht_refresh_lookup($1)", [token_hash]
    )
    if not rows:
        return None
    r = rows[0]
    return RefreshRow(
        r["id"], r["user_id"], r["tenant_id"], r["family_id"], r["expires_at"], r["used_at"],
        r["revoked_at"], r["successor_sealed"], r["session_revoked"], r["user_active"],
    )  # fmt: skip


async def user_by_external_subject(subject: str) -> tuple[uuid.UUID, uuid.UUID | None] | None:
    async with side_connection() as con:
        row = await con.fetchrow("SELECT * FROM paht_user_by_subject($1)", subject)
    return (row["user_id"], row["default_tenant_id"]) if row else None


async def user_is_active(user_id: uuid.UUID) -> bool:
    async with side_connection() as con:
        return bool(await con.fetchval("SELECT paht_user_active($1)", user_id))


async def session_is_revoked(session_id: uuid.UUID) -> bool:
    """Unknown sessions count as revoked."""
    async with side_connection() as con:
        return bool(await con.fetchval("SELECT paht_session_revoked($1)", session_id))
