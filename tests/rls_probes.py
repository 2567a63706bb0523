"""Row-level security probes built from the catalogue (``pg_catalog``), for
``tests/tenants/test_rls_catalogue.py``.

Everything runs on a raw asyncpg connection of the application role, inside a transaction the
caller rolls back: a probe row is found (or inserted, in its own tenant's scope) and every
attempt runs in a savepoint that is always rolled back, with its own transaction-local settings
(a rolled-back savepoint also undoes ``set_config``)."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

import asyncpg

from api.database import DatabaseUrls
from permissions.session import set_rls_settings

COMMANDS = ("SELECT", "INSERT", "UPDATE", "DELETE")


@dataclass(frozen=True)
class Table:
    name: str
    tenant_owned: bool
    rls: bool
    forced: bool
    owner: str
    app_is_owner: bool


@dataclass(frozen=True)
class Outcome:
    status: str | None  # e.g. "UPDATE 0"; None when refused
    error: asyncpg.PostgresError | None

    def __str__(self) -> str:
        return self.status or f"{type(self.error).__name__}: {self.error}"


async def connect_app(database: DatabaseUrls) -> asyncpg.Connection:
    """A connection of its own as the application role (never a pooled one)."""
    dsn = database.app.replace("asyncpg://", "postgresql://", 1)
    return await asyncpg.connect(dsn)


async def catalogue(conn: asyncpg.Connection) -> list[Table]:
    """Every ordinary or partitioned table of the application schema."""
    rows = await conn.fetch(
        """
        SELECT c.relname AS name, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced,
               pg_get_userbyid(c.relowner) AS owner,
               pg_has_role(current_user, c.relowner, 'MEMBER') AS app_is_owner,
               EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0
                       AND NOT a.attisdropped AND a.attname = 'tenant_id') AS tenant_owned
          FROM pg_class c
         WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
         ORDER BY c.relname
        """
    )
    return [Table(**dict(r)) for r in rows]


async def privileged(conn: asyncpg.Connection, table: str, command: str) -> bool:
    return await conn.fetchval("SELECT has_table_privilege(current_user, $1, $2)", table, command)


async def attempt(
    conn: asyncpg.Connection, scope: tuple[str, str, str], sql: str, *args: Any
) -> Outcome:
    """Run ``sql`` with the RLS settings ``scope`` (tenant, readable tenants, province flag) in a
    savepoint that is rolled back whatever happens."""
    savepoint = conn.transaction()
    await savepoint.start()
    try:
        await set_rls_settings(conn, *scope)
        return Outcome(await conn.execute(sql, *args), None)
    except asyncpg.PostgresError as error:
        return Outcome(None, error)
    finally:
        await savepoint.rollback()


async def count(conn: asyncpg.Connection, scope: tuple[str, str, str], sql: str, *args: Any) -> int:
    """The single number ``sql`` selects, read with the settings ``scope`` (rolled back)."""
    savepoint = conn.transaction()
    await savepoint.start()
    try:
        await set_rls_settings(conn, *scope)
        return int(await conn.fetchval(sql, *args))
    finally:
        await savepoint.rollback()


def rls_refusal(outcome: Outcome, table: str) -> bool:
    """Refused by a row-level security policy of ``table`` itself (not by a constraint or a
    trigger further on: RLS WITH CHECK runs before both)."""
    return isinstance(outcome.error, asyncpg.InsufficientPrivilegeError) and (
        f'row-level security policy for table "{table}"' in str(outcome.error)
    )


def privilege_refusal(outcome: Outcome, table: str) -> bool:
    return isinstance(outcome.error, asyncpg.InsufficientPrivilegeError) and (
        f"permission denied for table {table}" in str(outcome.error)
    )


_TEXT = re.compile(r"^(text|character varying.*|character.*)$")
_NUMBER = re.compile(r"^(smallint|integer|bigint|numeric.*|real|double precision)$")
_LITERAL = re.compile(r"'((?:[^']|'')*)'")


def _sample(table: str, column: str, sql_type: str) -> str:
    """A value (as text, cast on insert) for a NOT NULL column without default."""
    if sql_type.endswith("[]"):
        return "{}"
    if sql_type == "uuid":
        return str(uuid.uuid4())
    if _TEXT.match(sql_type):
        # Distinct per row: a unique text column (a token hash) must not collide across probes.
        length = re.search(r"\((\d+)\)", sql_type)
        value = f"rls-{uuid.uuid4().hex[:10]}"
        return value[: int(length.group(1))] if length else value
    if _NUMBER.match(sql_type):
        return "0"
    samples = {"boolean": "false", "jsonb": "{}", "json": "{}", "date": "today"}
    if sql_type in samples:
        return samples[sql_type]
    if sql_type.startswith("timestamp"):
        return "now"
    raise AssertionError(f"no probe value for {table}.{column} ({sql_type}): extend _sample")


class Probes:
    """One row per (table, tenant): an existing row of the tenant, or one inserted in the
    tenant's own scope, built from the catalogue. Rows are named by ``ctid`` (tables without a
    primary key are covered too); none of them is updated for good, so ctids stay valid."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self._rows: dict[tuple[str, str], str] = {}

    async def row(self, table: str, tenant: str) -> str:
        key = (table, tenant)
        if key not in self._rows:
            await set_rls_settings(self.conn, tenant)
            found = await self.conn.fetchval(
                f"SELECT ctid::text FROM {table} WHERE tenant_id = $1::uuid LIMIT 1", tenant
            )
            if found is None:
                async with self.conn.transaction():  # a savepoint: a failed build leaves no trace
                    found = await self._build(table, tenant)
            self._rows[key] = found
        return self._rows[key]

    async def copy(self, table: str, tenant: str) -> str:
        """The tenant's probe row as JSON with a fresh ``id``: a row claiming the tenant."""
        ctid = await self.row(table, tenant)
        await set_rls_settings(self.conn, tenant)
        record = json.loads(
            await self.conn.fetchval(
                f"SELECT to_jsonb(t)::text FROM {table} t WHERE ctid = $1::text::tid", ctid
            )
        )
        if "id" in record:
            record["id"] = str(uuid.uuid4())
        return json.dumps(record)

    async def insertable(self, table: str) -> list[str]:
        rows = await self.conn.fetch(
            "SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 "
            "AND NOT attisdropped AND attgenerated = '' AND attidentity <> 'a' ORDER BY attnum",
            table,
        )
        return [r["attname"] for r in rows]

    async def _build(self, table: str, tenant: str) -> str:
        conn = self.conn
        columns = await conn.fetch(
            "SELECT attname AS name, format_type(atttypid, atttypmod) AS type, "
            "attnotnull AND NOT atthasdef AND attgenerated = '' AND attidentity = '' AS required "
            "FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 "
            "AND NOT attisdropped ORDER BY attnum",
            table,
        )
        required = {c["name"]: c["type"] for c in columns if c["required"]}
        types = {c["name"]: c["type"] for c in columns}
        values: dict[str, str] = {"tenant_id": tenant}
        for fk in await _foreign_keys(conn, table):
            missing = [c for c in fk["cols"] if c not in values]
            if not any(c in required for c in missing):
                continue  # nullable reference: left NULL
            referenced = await self._referenced(fk["ref"], fk["ref_cols"], tenant)
            values.update(zip(fk["cols"], referenced, strict=True))
        literals = await _check_literals(conn, table)
        for name, sql_type in required.items():
            if name not in values:
                values[name] = literals.get(name) or _sample(table, name, sql_type)
        names = list(values)
        placeholders = ", ".join(f"CAST(${i}::text AS {types[n]})" for i, n in enumerate(names, 1))
        await set_rls_settings(conn, tenant)
        return await conn.fetchval(
            f"INSERT INTO {table} ({', '.join(names)}) VALUES ({placeholders}) "
            "RETURNING ctid::text",
            *(values[n] for n in names),
        )

    async def _referenced(self, table: str, columns: list[str], tenant: str) -> list[str]:
        select = ", ".join(f"{c}::text" for c in columns)
        has_tenant = await self.conn.fetchval(
            "SELECT EXISTS (SELECT FROM pg_attribute WHERE attrelid = $1::regclass "
            "AND attname = 'tenant_id' AND NOT attisdropped)",
            table,
        )
        if has_tenant:
            ctid = await self.row(table, tenant)
            await set_rls_settings(self.conn, tenant)
            row = await self.conn.fetchrow(
                f"SELECT {select} FROM {table} WHERE ctid = $1::text::tid", ctid
            )
        else:  # a shared registry (app_user): any row will do
            row = await self.conn.fetchrow(f"SELECT {select} FROM {table} LIMIT 1")
        assert row is not None, f"no {table} row to reference"
        return list(row.values())


async def _foreign_keys(conn: asyncpg.Connection, table: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """
        SELECT c.confrelid::regclass::text AS ref,
               ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n
                     ORDER BY k.i) AS cols,
               ARRAY(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)
                     JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n
                     ORDER BY k.i) AS ref_cols
          FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = $1::regclass
         ORDER BY array_length(c.conkey, 1) DESC, c.conname
        """,
        table,
    )
    return [dict(r) for r in rows]


async def _check_literals(conn: asyncpg.Connection, table: str) -> dict[str, str]:
    """For single-column CHECK constraints naming literals (``kind IN ('image', 'video')``),
    the first literal: a value the constraint accepts."""
    rows = await conn.fetch(
        "SELECT a.attname AS col, pg_get_constraintdef(c.oid) AS def FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "WHERE c.contype = 'c' AND c.conrelid = $1::regclass AND array_length(c.conkey, 1) = 1",
        table,
    )
    literals = {}
    for row in rows:
        if found := _LITERAL.search(row["def"]):
            literals[row["col"]] = found.group(1).replace("''", "'")
    return literals
