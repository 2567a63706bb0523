"""The shared account tables as the application role sees them: password hashes are out of
reach, and accounts and sessions of another tenant are invisible and untouchable.

Raw SQL on the RLS-bound ``paht_app`` connection with the settings the API sets. Lào Cai's
accounts are the target, Sa Pa's settings the attacker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import OperationalError
from tortoise.transactions import in_transaction

from permissions.session import set_rls_settings
from tests.conftest import GraphQLClient, unique
from tests.factories import user_named


class Rollback(Exception):
    pass


@asynccontextmanager
async def as_app(
    tenant: str = "", user: str = "", province: str = ""
) -> AsyncIterator[BaseDBAsyncClient]:
    """A transaction with the request settings; always rolled back."""
    try:
        async with in_transaction() as conn:
            await set_rls_settings(conn, tenant, "", province, user)
            yield conn
            raise Rollback
    except Rollback:
        pass


async def scalar(conn: BaseDBAsyncClient, sql: str, values: list[Any] | None = None) -> Any:
    _, rows = await conn.execute_query(sql, values or [])
    return next(iter(rows[0].values())) if rows else None


@pytest.fixture(scope="module")
async def world(gql: GraphQLClient, pilot: dict[str, Any]) -> dict[str, str]:
    await gql.login("laocai.admin", pilot["password"])  # a Lào Cai session to aim at
    lao_cai_admin = await user_named("laocai.admin")
    return {
        "lao_cai": str(pilot["tenants"]["lao-cai"].id),
        "sa_pa": str(pilot["tenants"]["sa-pa"].id),
        "lc_user": str(lao_cai_admin.id),
        "sp_user": str((await user_named("sapa.admin")).id),
    }


async def test_password_hashes_are_not_readable_at_all(world: dict[str, str]) -> None:
    async with as_app(world["sa_pa"]) as conn:
        columns = await scalar(
            conn,
            "SELECT count(*) FROM information_schema.columns "
            "WHERE table_name = 'app_user' AND column_name = 'password_hash'",
        )
        assert columns == 0
    with pytest.raises(OperationalError, match="permission denied"):
        async with as_app(world["sa_pa"], world["sp_user"]) as conn:
            await conn.execute_query("SELECT password_hash FROM user_credential")


async def test_another_tenants_accounts_are_invisible_and_unchanged(
    world: dict[str, str],
) -> None:
    async with as_app(world["sa_pa"]) as conn:
        seen = await scalar(conn, "SELECT count(*) FROM app_user WHERE id = $1", [world["lc_user"]])
        changed, _ = await conn.execute_query(
            "UPDATE app_user SET full_name = 'hacked' WHERE id = $1", [world["lc_user"]]
        )
        own = await scalar(conn, "SELECT count(*) FROM app_user WHERE id = $1", [world["sp_user"]])
    assert (seen, changed, own) == (0, 0, 1)
    async with as_app(world["lao_cai"]) as conn:  # the control: Lào Cai sees its own account
        assert await scalar(conn, "SELECT count(*) FROM app_user WHERE id = $1", [world["lc_user"]])
    async with as_app() as conn:  # no settings: nothing at all
        assert await scalar(conn, "SELECT count(*) FROM app_user") == 0


async def test_no_account_can_be_created_in_another_tenant(world: dict[str, str]) -> None:
    with pytest.raises(OperationalError, match="row-level security"):
        async with as_app(world["sa_pa"]) as conn:
            await conn.execute_query(
                "INSERT INTO app_user (id, username, default_tenant_id, created_at, updated_at) "
                "VALUES (gen_random_uuid(), $1, $2, now(), now())",
                [unique("intruder"), world["lao_cai"]],
            )


@pytest.mark.parametrize("table", ["auth_session", "refresh_token"])
async def test_another_tenants_sessions_are_invisible_and_unrevocable(
    world: dict[str, str], table: str
) -> None:
    async with as_app(world["lao_cai"]) as conn:  # the control
        theirs = await scalar(
            conn, f"SELECT count(*) FROM {table} WHERE user_id = $1", [world["lc_user"]]
        )
    assert theirs >= 1
    async with as_app(world["sa_pa"], world["sp_user"]) as conn:
        seen = await scalar(
            conn, f"SELECT count(*) FROM {table} WHERE user_id = $1", [world["lc_user"]]
        )
        revoked, _ = await conn.execute_query(
            f"UPDATE {table} SET revoked_at = now() WHERE user_id = $1", [world["lc_user"]]
        )
    assert (seen, revoked) == (0, 0)
    async with as_app() as conn:
        assert await scalar(conn, f"SELECT count(*) FROM {table}") == 0


async def test_passwords_are_set_only_within_the_callers_reach(world: dict[str, str]) -> None:
    with pytest.raises(OperationalError, match="outside the caller"):
        async with as_app(world["sa_pa"], world["sp_user"]) as conn:
            await conn.execute_query("SELECT paht_set_password($1, 'x', false)", [world["lc_user"]])
    async with as_app(world["lao_cai"]) as conn:  # the control: its own tenant may
        await conn.execute_query("SELECT paht_set_password($1, 'x', false)", [world["lc_user"]])


async def test_sessions_are_ended_only_within_the_callers_reach(world: dict[str, str]) -> None:
    end = "SELECT count(*) FROM paht_revoke_user_sessions($1, 'admin', NULL, now())"
    for settings in ((world["sa_pa"], world["sp_user"], ""), ("", world["sp_user"], "on")):
        with pytest.raises(OperationalError, match="outside the caller"):
            async with as_app(*settings) as conn:
                await conn.execute_query(end, [world["lc_user"]])
    async with as_app(world["lao_cai"]) as conn:  # the control: its own tenant may
        assert await scalar(conn, end, [world["lc_user"]]) >= 1


async def test_only_the_callers_own_hash_can_be_read(world: dict[str, str]) -> None:
    own = "SELECT count(*) FROM paht_own_credential()"
    async with as_app(world["sa_pa"], world["sp_user"]) as conn:
        assert await scalar(conn, own) == 1
        hashed = await scalar(conn, "SELECT password_hash FROM paht_own_credential()")
        assert hashed.startswith("$argon2id$")
    async with as_app(world["lao_cai"], "", "on") as conn:  # no user: nobody's hash
        assert await scalar(conn, own) == 0


# --- usernames per tenant ---------------------------------------------------------------------

CREATE_USER = """mutation($i: CreateUserInput!) {
  createUser(input: $i) { user { id username } errors { code field } } }"""
GRANT = """mutation($i: GrantRoleInput!) { grantRole(input: $i) { errors { code } } }"""
LOGIN = """mutation($i: LoginInput!) { login(input: $i) {
  accessToken user { username } errors { code } } }"""


async def test_a_username_taken_in_another_tenant_is_free_here(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    """Sa Pa's admin learns nothing of Lào Cai's usernames: the same name is simply free."""
    admin = await gql.login("sapa.admin", pilot["password"])
    created = await gql.ok(
        CREATE_USER,
        {
            "i": {
                "username": "laocai.admin",
                "fullName": "Trùng tên",
                "password": "sa-pa-password-1",
            }
        },
        token=admin,
    )
    assert created["createUser"]["errors"] == []
    user_id = created["createUser"]["user"]["id"]
    grant = {"i": {"userId": user_id, "role": "locality_leader"}}
    granted = await gql.ok(GRANT, grant, token=admin)
    assert granted["grantRole"]["errors"] == []
    taken_here = await gql.ok(
        CREATE_USER,
        {"i": {"username": "laocai.admin", "fullName": "Lần hai", "password": "sa-pa-password-1"}},
        token=admin,
    )
    assert taken_here["createUser"]["errors"] == [
        {"code": "DUPLICATE_USERNAME", "field": "username"}
    ]

    async def login(password: str, tenant: str | None) -> dict[str, Any]:
        i = {"username": "laocai.admin", "password": password, "tenantCode": tenant}
        return (await gql.ok(LOGIN, {"i": i}))["login"]

    # Each account logs in with its tenant named, and even without: the password tells them apart.
    assert (await login(pilot["password"], "lao-cai"))["accessToken"]
    assert (await login(pilot["password"], None))["accessToken"]
    assert (await login("sa-pa-password-1", None))["errors"] == []
    assert (await login("sa-pa-password-1", "sa-pa"))["errors"] == []
    assert (await login("sa-pa-password-1", "lao-cai"))["errors"] == [
        {"code": "INVALID_CREDENTIALS"}
    ]


# --- a provincial admin inside one tenant sees only that tenant's configuration -------------

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


async def test_provincial_staff_in_one_tenant_do_not_resolve_anothers_nodes(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    from strawberry import relay

    from permissions.session import tenant_transaction
    from tenants.models import Agency, Field

    lao_cai = pilot["tenants"]["lao-cai"].id
    async with tenant_transaction(lao_cai):
        agency = await Agency.filter(tenant_id=lao_cai).first()
        field = await Field.filter(tenant_id=lao_cai).first()
    assert agency and field
    token = await gql.login("tinh.admin", pilot["password"])
    for kind, row in (("Agency", agency), ("Field", field)):
        node_id = str(relay.GlobalID(kind, str(row.id)))
        inside_sapa = await gql.http.post(
            "/graphql",
            json={"query": NODE, "variables": {"id": node_id}},
            headers={"Authorization": f"Bearer {token}", "X-Paht-Tenant": "sa-pa"},
        )
        assert inside_sapa.json()["data"]["node"] is None
        inside_lao_cai = await gql.http.post(
            "/graphql",
            json={"query": NODE, "variables": {"id": node_id}},
            headers={"Authorization": f"Bearer {token}", "X-Paht-Tenant": "lao-cai"},
        )
        assert inside_lao_cai.json()["data"]["node"] == {"__typename": kind, "id": node_id}
