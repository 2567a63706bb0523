"""Row-level security driven by the catalogue: every table with a ``tenant_id`` column, found in
``pg_catalog`` at test time, so a table is covered the day its migration adds it.

For each such table: RLS is enabled and forced, the application role does not own it, and, as
the application role ``paht_app``, reading, inserting, updating and deleting across tenants is
refused or touches no row, command by command; a command the role holds no privilege for must be
refused outright. Lào Cai (A) is the victim, Sa Pa (B) the attacker.

Everything happens in one transaction of an application-role connection that is rolled back at
the end: the victim's rows are the demo's, or probe rows inserted in the victim's own scope first
(built from the catalogue, see ``tests/rls_probes.py``). Nothing is committed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from tests.rls_probes import (
    COMMANDS,
    Probes,
    attempt,
    catalogue,
    connect_app,
    count,
    privilege_refusal,
    privileged,
    rls_refusal,
)

# Tables without a tenant_id column, shared by every tenant and scoped by the API. Adding one is
# a conscious act: list it here with the reason.
SHARED = {
    "tenant": "the registry of tenants itself; the API exposes the caller's tenant only",
    "administrative_unit": "units move between tenants when localities merge (valid_from/to)",
    "app_user": "no tenant_id: a person's home is default_tenant_id; row-level secured by its "
    "own policies (migration 0008, tests/accounts/test_account_isolation.py)",
    "tortoise_migrations": "the owner's migration bookkeeping; the application has no grant",
    "user_credential": "password hashes: no privilege for the application role at all; read "
    "only by the SECURITY DEFINER functions of migration 0008",
    "auth_throttle": "attempt counters keyed by account and client address, across tenants",
    "province_calendar": "the province's day swaps, shared by all its tenants (written under "
    "tenant:onboard, tenants/regulation.py)",
}
# Tables with a tenant_id column but no row-level security yet. The test fails as soon as one of
# them gets RLS, so the exception leaves this list with the hardening.
KNOWN_EXCEPTIONS: dict[str, str] = {}

Scope = tuple[str, str, str]  # app.tenant_id, app.tenant_ids, app.province


@pytest.fixture
async def app_conn(database: Any) -> AsyncIterator[asyncpg.Connection]:
    conn = await connect_app(database)
    try:
        yield conn
    finally:
        await conn.close()


async def test_every_tenant_table_forces_rls_and_is_not_the_apps(
    app_conn: asyncpg.Connection,
) -> None:
    role = await app_conn.fetchrow(
        "SELECT current_user AS name, rolsuper, rolbypassrls FROM pg_roles "
        "WHERE rolname = current_user"
    )
    assert tuple(role.values()) == ("paht_app", False, False)
    tables = await catalogue(app_conn)
    assert {t.name for t in tables if not t.tenant_owned} == set(SHARED), (
        "a table without tenant_id must be listed in SHARED, with the reason"
    )
    unprotected = {t.name for t in tables if t.tenant_owned and not (t.rls and t.forced)}
    assert unprotected == set(KNOWN_EXCEPTIONS), (
        "every table with tenant_id needs ENABLE and FORCE ROW LEVEL SECURITY; "
        "an exception no longer needed must leave KNOWN_EXCEPTIONS"
    )
    # An owner (or a member of the owning role) can switch RLS off and rewrite the policies.
    owned_by_app = [t.name for t in tables if t.app_is_owner or t.owner == role["name"]]
    assert owned_by_app == [], "the application role must own no table"


@dataclass(frozen=True)
class Probe:
    conn: asyncpg.Connection  # the application role, inside the rolled-back transaction
    fresh: asyncpg.Connection  # the application role, never scoped
    rows: Probes
    a: str  # the victim tenant
    b: str  # the attacker tenant

    def attackers(self) -> dict[str, Scope]:
        """Scopes that must never write tenant A's rows."""
        return {
            "tenant B": (self.b, "", ""),
            "tenant B reading A on the provincial path": (self.b, "{" + self.a + "}", "on"),
            "no tenant": ("", "", ""),
            "the province flag alone": ("", "", "on"),
        }


@pytest.mark.parametrize("command", COMMANDS)
async def test_cross_tenant_command_is_refused(
    app_conn: asyncpg.Connection,
    database: Any,
    pilot: dict[str, Any],
    subtests: pytest.Subtests,
    command: str,
) -> None:
    tables = [
        t.name
        for t in await catalogue(app_conn)
        if t.tenant_owned and t.name not in KNOWN_EXCEPTIONS
    ]
    fresh = await connect_app(database)
    transaction = app_conn.transaction()
    await transaction.start()
    try:
        probe = Probe(
            app_conn,
            fresh,
            Probes(app_conn),
            a=str(pilot["tenants"]["lao-cai"].id),
            b=str(pilot["tenants"]["sa-pa"].id),
        )
        for table in tables:
            with subtests.test(msg=f"{command} {table}"):
                await probe.rows.row(table, probe.a)
                await probe.rows.row(table, probe.b)
                if await privileged(app_conn, table, command):
                    await CHECKS[command](probe, table)
                else:
                    await assert_denied(probe, table, command)
    finally:
        await transaction.rollback()  # probe rows included: nothing is left behind
        await fresh.close()


async def check_select(probe: Probe, table: str) -> None:
    conn, a, b = probe.conn, probe.a, probe.b
    row = await probe.rows.row(table, a)
    by_ctid = f"SELECT count(*) FROM {table} WHERE ctid = $1::text::tid"
    by_tenant = f"SELECT count(*) FROM {table} WHERE tenant_id = $1::uuid"
    assert await count(conn, (a, "", ""), by_ctid, row) == 1, "A sees its own probe row"
    assert await count(conn, (b, "", ""), by_ctid, row) == 0, "B sees A's row"
    assert await count(conn, (b, "", ""), by_tenant, a) == 0, "B sees A's rows"
    # The provincial read path reads the tenants it lists, and only those.
    elsewhere = (b, "{" + str(uuid.uuid4()) + "}", "on")
    assert await count(conn, elsewhere, by_ctid, row) == 0, "an unlisted tenant is read"
    tenant_rows = f"SELECT count(*) FROM {table} WHERE tenant_id IS NOT NULL"
    for unscoped in (("", "", ""), ("", "", "on")):
        assert await count(conn, unscoped, tenant_rows) == 0, f"unscoped {unscoped} sees rows"
    # Never set at all (current_setting is NULL, not ''): no committed tenant row either.
    assert await probe.fresh.fetchval(tenant_rows) == 0, "a fresh connection sees rows"


def _insert(table: str, columns: list[str]) -> str:
    names = ", ".join(columns)
    return (
        f"INSERT INTO {table} ({names}) "
        f"SELECT {names} FROM jsonb_populate_record(NULL::{table}, $1::jsonb)"
    )


async def check_insert(probe: Probe, table: str) -> None:
    insert = _insert(table, await probe.rows.insertable(table))
    claim_a = await probe.rows.copy(table, probe.a)  # a valid row of A's, under a fresh id
    for name, scope in probe.attackers().items():
        outcome = await attempt(probe.conn, scope, insert, claim_a)
        assert rls_refusal(outcome, table), f"{name} inserted a row claiming A: {outcome}"


async def check_update(probe: Probe, table: str) -> None:
    a_row, b_row = await probe.rows.row(table, probe.a), await probe.rows.row(table, probe.b)
    touch = f"UPDATE {table} SET tenant_id = tenant_id WHERE ctid = $1::text::tid"
    own = await attempt(probe.conn, (probe.b, "", ""), touch, b_row)
    assert own.status == "UPDATE 1", f"B cannot update its own row (a dead grant?): {own}"
    for name, scope in probe.attackers().items():
        outcome = await attempt(probe.conn, scope, touch, a_row)
        assert outcome.status == "UPDATE 0", f"{name} updated A's row: {outcome}"
    # Nor may B move its own row into A (the policy's WITH CHECK), not even on the provincial
    # read path, where A's rows pass the SELECT policy that otherwise also guards the new row.
    move = f"UPDATE {table} SET tenant_id = $2::uuid WHERE ctid = $1::text::tid"
    for scope in ((probe.b, "", ""), (probe.b, "{" + probe.a + "}", "on")):
        outcome = await attempt(probe.conn, scope, move, b_row, probe.a)
        assert rls_refusal(outcome, table), f"B moved its row into A with {scope}: {outcome}"


async def check_delete(probe: Probe, table: str) -> None:
    a_row = await probe.rows.row(table, probe.a)
    delete = f"DELETE FROM {table} WHERE ctid = $1::text::tid"
    for name, scope in probe.attackers().items():
        outcome = await attempt(probe.conn, scope, delete, a_row)
        assert outcome.status == "DELETE 0", f"{name} deleted A's row: {outcome}"


async def assert_denied(probe: Probe, table: str, command: str) -> None:
    """Without the privilege the command is refused, even on the tenant's own row."""
    row = await probe.rows.row(table, probe.a)
    statements: dict[str, tuple[Any, ...]] = {
        "SELECT": (f"SELECT count(*) FROM {table}",),
        "INSERT": (
            _insert(table, await probe.rows.insertable(table)),
            await probe.rows.copy(table, probe.a),
        ),
        "UPDATE": (f"UPDATE {table} SET tenant_id = tenant_id WHERE ctid = $1::text::tid", row),
        "DELETE": (f"DELETE FROM {table} WHERE ctid = $1::text::tid", row),
    }
    outcome = await attempt(probe.conn, (probe.a, "", ""), *statements[command])
    assert privilege_refusal(outcome, table), f"{command} without the privilege: {outcome}"


CHECKS: dict[str, Callable[[Probe, str], Awaitable[None]]] = {
    "SELECT": check_select,
    "INSERT": check_insert,
    "UPDATE": check_update,
    "DELETE": check_delete,
}
