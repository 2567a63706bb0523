"""Row-level security as the application role sees it: no query, however written, crosses tenants.

Raw SQL on the RLS-bound ``paht_app`` connection, with the transaction-local settings the API
sets (``set_rls_settings``). Lào Cai's rows are the target, Sa Pa's scope the attacker."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import pytest
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError, OperationalError
from tortoise.transactions import in_transaction

from core.db import root_client
from permissions.session import set_rls_settings, tenant_transaction
from tenants.models import Agency, Field
from tests.factories import user_named

TABLES = ["agency", "field", "tenant_settings", "membership", "role", "casbin_rule"]

# An update per table that would visibly change a row.
UPDATES = {
    "agency": "SET name_en = name_en || ' (hacked)'",
    "field": "SET name_en = name_en || ' (hacked)'",
    "tenant_settings": "SET sla_version = sla_version + 1",
    "membership": "SET active = NOT active",
    "role": "SET name_en = name_en || ' (hacked)'",
    "casbin_rule": "SET v5 = 'hacked'",
}

# A valid row of each table for tenant $1 ($2: an existing user, for membership).
INSERTS = {
    "agency": "INSERT INTO agency (id, tenant_id, code, name_vi, name_en, kind, created_at, "
    "updated_at) VALUES (gen_random_uuid(), $1, 'rls-probe', 'x', 'x', 'other', now(), now())",
    "field": "INSERT INTO field (id, tenant_id, code, name_vi, name_en, created_at, updated_at) "
    "VALUES (gen_random_uuid(), $1, 'rls-probe', 'x', 'x', now(), now())",
    "tenant_settings": "INSERT INTO tenant_settings (id, tenant_id, calendar, sla_rules, "
    "options, updated_at) VALUES (gen_random_uuid(), $1, '{}', '[]', '{}', now())",
    "membership": "INSERT INTO membership (id, tenant_id, user_id, role, created_at) "
    "VALUES (gen_random_uuid(), $1, $2, 'citizen', now())",
    "role": "INSERT INTO role (id, tenant_id, code, name_vi, name_en, created_at) "
    "VALUES (gen_random_uuid(), $1, 'rls_probe', 'x', 'x', now())",
    "casbin_rule": "INSERT INTO casbin_rule (id, tenant_id, ptype, v0, v1) "
    "VALUES (gen_random_uuid(), $1, 'p', 'rls_probe', 'x')",
}

PROVINCIAL_RULE = (
    "INSERT INTO casbin_rule (id, tenant_id, ptype, v0, v1, v2, v3, v4) "
    "VALUES (gen_random_uuid(), NULL, 'p', 'provincial_admin', '*', '*', '*', $1)"
)


class Rollback(Exception):
    """Raised to undo a probe transaction."""


@pytest.fixture(scope="module")
async def ids(pilot: dict[str, Any]) -> dict[str, Any]:
    lao_cai, sa_pa = pilot["tenants"]["lao-cai"].id, pilot["tenants"]["sa-pa"].id
    async with tenant_transaction(lao_cai):
        agency = await Agency.filter(tenant_id=lao_cai).order_by("code").first()
        field = await Field.filter(tenant_id=lao_cai).order_by("code").first()
    user = await user_named("laocai.admin")
    assert agency is not None and field is not None
    return {
        "lao_cai": str(lao_cai),
        "sa_pa": str(sa_pa),
        "lc_agency": str(agency.id),
        "lc_field": str(field.id),
        "user": str(user.id),
    }


@asynccontextmanager
async def scoped(
    tenant: str = "", tenants: str = "", province: str = ""
) -> AsyncIterator[BaseDBAsyncClient]:
    async with in_transaction() as conn:
        await set_rls_settings(conn, tenant, tenants, province)
        yield conn


async def rows_of(table: str, tenant: str) -> list[str]:
    """Every row of ``tenant`` in ``table`` as text, read in the tenant's own transaction."""
    async with tenant_transaction(tenant) as conn:
        _, rows = await conn.execute_query(
            f"SELECT t::text AS r FROM {table} t WHERE tenant_id = $1 ORDER BY id", [tenant]
        )
    return [row["r"] for row in rows]


async def count(conn: BaseDBAsyncClient, sql: str, values: list[Any] | None = None) -> int:
    _, rows = await conn.execute_query(sql, values or [])
    return int(rows[0]["n"])


async def inserted(conn: BaseDBAsyncClient, sql: str, values: list[Any]) -> int:
    """Rows an INSERT wrote (tortoise reads the OID of "INSERT 0 1" as the row count)."""
    return await count(
        conn, f"WITH ins AS ({sql} RETURNING 1) SELECT count(*) AS n FROM ins", values
    )


def assert_rls_violation(error: BaseException, table: str) -> None:
    assert isinstance(error.__cause__, asyncpg.InsufficientPrivilegeError), repr(error)
    message = str(error)
    assert "row-level security" in message, message
    assert table in message, message


# --- the role ---------------------------------------------------------------------------------


async def test_application_connects_as_rls_bound_role(database: Any) -> None:
    async with in_transaction() as conn:
        _, rows = await conn.execute_query(
            "SELECT current_user AS name, session_user AS session, r.rolsuper, r.rolbypassrls "
            "FROM pg_roles r WHERE r.rolname = current_user"
        )
    assert len(rows) == 1
    row = rows[0]
    assert row["name"] == "paht_app"
    assert row["session"] == "paht_app"
    assert row["rolsuper"] is False
    assert row["rolbypassrls"] is False


@pytest.mark.parametrize("table", TABLES)
async def test_tables_force_rls_and_are_not_owned_by_the_app(database: Any, table: str) -> None:
    async with in_transaction() as conn:
        _, rows = await conn.execute_query(
            "SELECT c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner) AS owner "
            "FROM pg_class c WHERE c.oid = $1::regclass",
            [table],
        )
    assert rows[0]["relrowsecurity"] is True
    assert rows[0]["relforcerowsecurity"] is True
    assert rows[0]["owner"] != "paht_app"


# --- reading ----------------------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
async def test_other_tenants_rows_are_invisible(ids: dict[str, Any], table: str) -> None:
    lao_cai_rows = await rows_of(table, ids["lao_cai"])
    assert lao_cai_rows, f"precondition: Lào Cai has {table} rows"
    _, lc_ids = await root_id_rows(table, ids["lao_cai"])  # never nested: settings would leak
    async with scoped(ids["sa_pa"]) as conn:
        assert await count(conn, f"SELECT count(*) AS n FROM {table}") > 0  # its own rows
        by_tenant = f"SELECT count(*) AS n FROM {table} WHERE tenant_id = $1"
        assert await count(conn, by_tenant, [ids["lao_cai"]]) == 0
        # Not even when the rows are named by their primary keys.
        _, rows = await conn.execute_query(
            f"SELECT id FROM {table} WHERE tenant_id = $1 ORDER BY id LIMIT 1", [ids["sa_pa"]]
        )
        assert rows
        by_id = f"SELECT count(*) AS n FROM {table} WHERE id = ANY($1::uuid[])"
        assert await count(conn, by_id, [lc_ids]) == 0
        everything = f"SELECT count(*) AS n FROM {table} WHERE tenant_id IS NOT NULL"
        mine = f"SELECT count(*) AS n FROM {table} WHERE tenant_id = $1"
        assert await count(conn, everything) == await count(conn, mine, [ids["sa_pa"]])


async def root_id_rows(table: str, tenant: str) -> tuple[int, list[str]]:
    async with tenant_transaction(tenant) as conn:
        _, rows = await conn.execute_query(
            f"SELECT id::text AS id FROM {table} WHERE tenant_id = $1", [tenant]
        )
    return len(rows), [r["id"] for r in rows]


@pytest.mark.parametrize("table", TABLES)
async def test_no_tenant_set_sees_no_tenant_rows(ids: dict[str, Any], table: str) -> None:
    assert await rows_of(table, ids["lao_cai"]), "precondition"
    sql = f"SELECT count(*) AS n FROM {table} WHERE tenant_id IS NOT NULL"
    async with in_transaction() as conn:  # nothing set at all
        assert await count(conn, sql) == 0
    async with scoped("", "", "") as conn:  # explicitly empty settings
        assert await count(conn, sql) == 0
    async with scoped("", "", "on") as conn:  # the province flag alone reads nothing either
        assert await count(conn, sql) == 0
    if table != "casbin_rule":
        async with in_transaction() as conn:
            assert await count(conn, f"SELECT count(*) AS n FROM {table}") == 0


async def test_settings_do_not_survive_the_transaction_on_a_pooled_connection(
    ids: dict[str, Any],
) -> None:
    async with root_client().acquire_connection() as con:
        async with con.transaction():
            await set_rls_settings(con, ids["lao_cai"])
            assert await con.fetchval("SELECT count(*) FROM agency") > 0
        # Same connection, next statement: the local setting is gone.
        assert await con.fetchval("SELECT count(*) FROM agency") == 0
        assert await con.fetchval("SELECT current_setting('app.tenant_id', true)") in ("", None)


# --- writing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
async def test_update_of_other_tenants_rows_changes_nothing(
    ids: dict[str, Any], table: str
) -> None:
    before = await rows_of(table, ids["lao_cai"])
    assert before
    _, lc_ids = await root_id_rows(table, ids["lao_cai"])
    async with scoped(ids["sa_pa"]) as conn:
        n, _ = await conn.execute_query(
            f"UPDATE {table} {UPDATES[table]} WHERE tenant_id = $1", [ids["lao_cai"]]
        )
        assert n == 0
        n, _ = await conn.execute_query(
            f"UPDATE {table} {UPDATES[table]} WHERE id = ANY($1::uuid[])", [lc_ids]
        )
        assert n == 0
        # Pulling the rows into the caller's own tenant does not reach them either.
        n, _ = await conn.execute_query(
            f"UPDATE {table} SET tenant_id = $2 WHERE tenant_id = $1",
            [ids["lao_cai"], ids["sa_pa"]],
        )
        assert n == 0
    assert await rows_of(table, ids["lao_cai"]) == before


@pytest.mark.parametrize("table", TABLES)
async def test_delete_of_other_tenants_rows_changes_nothing(
    ids: dict[str, Any], table: str
) -> None:
    before = await rows_of(table, ids["lao_cai"])
    assert before
    _, lc_ids = await root_id_rows(table, ids["lao_cai"])
    async with scoped(ids["sa_pa"]) as conn:
        n, _ = await conn.execute_query(f"DELETE FROM {table} WHERE id = ANY($1::uuid[])", [lc_ids])
        assert n == 0
        n, _ = await conn.execute_query(
            f"DELETE FROM {table} WHERE tenant_id = $1", [ids["lao_cai"]]
        )
        assert n == 0
    assert await rows_of(table, ids["lao_cai"]) == before


def insert_values(table: str, tenant: str, user: str) -> list[Any]:
    return [tenant, user] if table == "membership" else [tenant]


@pytest.mark.parametrize("table", TABLES)
async def test_insert_into_another_tenant_is_refused(ids: dict[str, Any], table: str) -> None:
    before = await rows_of(table, ids["lao_cai"])
    values = insert_values(table, ids["lao_cai"], ids["user"])
    with pytest.raises(OperationalError) as error:
        async with scoped(ids["sa_pa"]) as conn:
            await conn.execute_query(INSERTS[table], values)
    assert_rls_violation(error.value, table)
    # Neither with no tenant at all, nor with the other tenant only readable.
    for settings in (["", "", ""], ["", ids["lao_cai"].join("{}"), "on"]):
        with pytest.raises(OperationalError) as error:
            async with scoped(*settings) as conn:
                await conn.execute_query(INSERTS[table], values)
        assert_rls_violation(error.value, table)
    assert await rows_of(table, ids["lao_cai"]) == before


@pytest.mark.parametrize("table", TABLES)
async def test_the_probe_insert_works_in_its_own_tenant(ids: dict[str, Any], table: str) -> None:
    """Control for the test above: the same statement succeeds for the transaction's tenant
    (a scratch tenant, rolled back), so the refusal really is row-level security."""
    scratch = str(uuid.uuid4())
    with pytest.raises(Rollback):
        async with scoped(scratch) as conn:
            await conn.execute_query(
                "INSERT INTO tenant (id, code, report_prefix, name_vi, name_en, unit_codes, "
                "created_at, updated_at) VALUES ($1, $2, 'ZZ', 'x', 'x', '{}', now(), now())",
                [scratch, f"rls-{scratch[:8]}"],
            )
            values = insert_values(table, scratch, ids["user"])
            assert await inserted(conn, INSERTS[table], values) == 1
            by_tenant = f"SELECT count(*) AS n FROM {table} WHERE tenant_id = $1"
            assert await count(conn, by_tenant, [scratch]) == 1
            raise Rollback


# --- the provincial read path -----------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
async def test_provincial_read_path_reads_the_listed_tenants_only(
    ids: dict[str, Any], table: str
) -> None:
    expected = len(await rows_of(table, ids["lao_cai"]))
    by_tenant = f"SELECT count(*) AS n FROM {table} WHERE tenant_id = $1"
    async with scoped("", "{" + ids["lao_cai"] + "}", "on") as conn:
        assert await count(conn, by_tenant, [ids["lao_cai"]]) == expected
        assert await count(conn, by_tenant, [ids["sa_pa"]]) == 0


# A Lào Cai row nothing references (a DELETE of a referenced agency would stop at the FK).
UNREFERENCED = {
    "agency": "NOT EXISTS (SELECT 1 FROM field f WHERE f.default_agency_id = t.id) "
    "AND NOT EXISTS (SELECT 1 FROM membership m WHERE m.agency_id = t.id)",
    "field": "NOT EXISTS (SELECT 1 FROM membership m WHERE m.field_id = t.id)",
}


async def unreferenced_row(table: str, tenant: str) -> str:
    condition = UNREFERENCED.get(table, "true")
    async with tenant_transaction(tenant) as conn:
        _, rows = await conn.execute_query(
            f"SELECT t.id::text AS id FROM {table} t WHERE t.tenant_id = $1 AND {condition} "
            "ORDER BY t.id LIMIT 1",
            [tenant],
        )
    assert rows, f"precondition: an unreferenced {table} row"
    return rows[0]["id"]


@pytest.mark.parametrize("table", TABLES)
async def test_provincial_read_path_cannot_update_the_listed_tenants_in_place(
    ids: dict[str, Any], table: str
) -> None:
    before = await rows_of(table, ids["lao_cai"])
    # Write policies admit only app.tenant_id: the listed tenant's rows are invisible to UPDATE.
    async with scoped(ids["sa_pa"], "{" + ids["lao_cai"] + "}", "on") as conn:
        updated, _ = await conn.execute_query(
            f"UPDATE {table} {UPDATES[table]} WHERE tenant_id = $1", [ids["lao_cai"]]
        )
    assert updated == 0
    assert await rows_of(table, ids["lao_cai"]) == before


@pytest.mark.parametrize("table", TABLES)
async def test_provincial_read_path_cannot_delete_the_listed_tenants(
    ids: dict[str, Any], table: str
) -> None:
    row = await unreferenced_row(table, ids["lao_cai"])
    with pytest.raises(Rollback):  # never commit: should the policy regress, the row survives
        async with scoped(ids["sa_pa"], "{" + ids["lao_cai"] + "}", "on") as conn:
            deleted, _ = await conn.execute_query(f"DELETE FROM {table} WHERE id = $1", [row])
            assert deleted == 0
            raise Rollback


# --- provincial casbin rules ------------------------------------------------------------------


async def test_provincial_rules_are_readable_in_every_transaction(ids: dict[str, Any]) -> None:
    sql = "SELECT count(*) AS n FROM casbin_rule WHERE tenant_id IS NULL"
    counts = []
    for tenant in (ids["sa_pa"], ids["lao_cai"], ""):
        async with scoped(tenant) as conn:
            counts.append(await count(conn, sql))
    assert counts[0] > 0
    assert counts == [counts[0]] * 3
    async with scoped(ids["sa_pa"]) as conn:
        _, rows = await conn.execute_query(
            "SELECT DISTINCT v0 FROM casbin_rule WHERE tenant_id IS NULL AND ptype = 'p'"
        )
    assert {r["v0"] for r in rows} == {"provincial_admin"}


@pytest.mark.parametrize("tenant", ["sa_pa", "none"])
async def test_provincial_rule_insert_needs_the_province_flag(
    ids: dict[str, Any], tenant: str
) -> None:
    setting = ids.get(tenant, "")
    with pytest.raises(OperationalError) as error:
        async with scoped(setting) as conn:
            await conn.execute_query(PROVINCIAL_RULE, ["rls:probe"])
    assert_rls_violation(error.value, "casbin_rule")
    # With the flag (the audited provincial path) the same insert is accepted.
    with pytest.raises(Rollback):
        async with scoped(setting, "", "on") as conn:
            assert await inserted(conn, PROVINCIAL_RULE, ["rls:probe"]) == 1
            raise Rollback
    async with scoped(setting) as conn:
        probe = "SELECT count(*) AS n FROM casbin_rule WHERE v4 = 'rls:probe'"
        assert await count(conn, probe) == 0


async def test_provincial_rules_cannot_be_rewritten_from_a_tenant(ids: dict[str, Any]) -> None:
    probe = "SELECT count(*) AS n FROM casbin_rule WHERE tenant_id IS NULL AND v4 = 'rls:rewritten'"
    async with scoped(ids["sa_pa"]) as conn:
        updated, _ = await conn.execute_query(
            "UPDATE casbin_rule SET v4 = 'rls:rewritten' WHERE tenant_id IS NULL"
        )
    assert updated == 0  # the write policy does not even show provincial rows to a tenant
    async with scoped(ids["sa_pa"]) as conn:
        assert await count(conn, probe) == 0


PROVINCIAL_RULE_WRITES = {
    "delete": "DELETE FROM casbin_rule WHERE tenant_id IS NULL",
    "move": "UPDATE casbin_rule SET tenant_id = $1 WHERE tenant_id IS NULL",
}


@pytest.mark.parametrize("write", list(PROVINCIAL_RULE_WRITES))
async def test_provincial_rules_cannot_be_removed_from_a_tenant(
    ids: dict[str, Any], write: str
) -> None:
    sql = PROVINCIAL_RULE_WRITES[write]
    with pytest.raises(Rollback):  # never commit
        async with scoped(ids["sa_pa"]) as conn:
            n, _ = await conn.execute_query(sql, [ids["sa_pa"]] if "$1" in sql else [])
            assert n == 0
            raise Rollback


# --- composite foreign keys -------------------------------------------------------------------

CROSS_REFERENCES = {
    "membership.agency_id": (
        "INSERT INTO membership (id, tenant_id, role, agency_id, user_id, created_at) "
        "VALUES (gen_random_uuid(), $1, 'handler', $2, $3, now())",
        "lc_agency",
        "membership_agency_fk",
    ),
    "membership.field_id": (
        "INSERT INTO membership (id, tenant_id, role, field_id, user_id, created_at) "
        "VALUES (gen_random_uuid(), $1, 'handler', $2, $3, now())",
        "lc_field",
        "membership_field_fk",
    ),
    "field.default_agency_id": (
        "INSERT INTO field (id, tenant_id, code, name_vi, name_en, default_agency_id, "
        "created_at, updated_at) VALUES (gen_random_uuid(), $1, 'fk-probe', 'x', 'x', $2, "
        "now(), now())",
        "lc_agency",
        "field_default_agency_fk",
    ),
}


def reference_values(sql: str, tenant: str, target: str, user: str) -> list[str]:
    return [tenant, target, user] if "$3" in sql else [tenant, target]


@pytest.mark.parametrize("reference", list(CROSS_REFERENCES))
async def test_composite_foreign_keys_refuse_cross_tenant_references(
    ids: dict[str, Any], reference: str
) -> None:
    sql, target, constraint = CROSS_REFERENCES[reference]
    with pytest.raises(IntegrityError) as error:
        # Sa Pa's own transaction, so row-level security lets the row through: the foreign key
        # (checked without RLS) is what refuses it.
        async with scoped(ids["sa_pa"]) as conn:
            await conn.execute_query(
                sql, reference_values(sql, ids["sa_pa"], ids[target], ids["user"])
            )
    assert isinstance(error.value.__cause__, asyncpg.ForeignKeyViolationError)
    message = str(error.value)
    assert "foreign key" in message, message
    assert constraint in message, message
    assert "row-level security" not in message


async def test_composite_foreign_key_accepts_same_tenant_reference(ids: dict[str, Any]) -> None:
    """Control: the same membership pointing at a Lào Cai agency is fine inside Lào Cai."""
    sql = CROSS_REFERENCES["membership.agency_id"][0]
    with pytest.raises(Rollback):
        async with scoped(ids["lao_cai"]) as conn:
            values = reference_values(sql, ids["lao_cai"], ids["lc_agency"], ids["user"])
            assert await inserted(conn, sql, values) == 1
            raise Rollback
