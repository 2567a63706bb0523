"""The RLS settings glue (permissions/session.py): which transaction-local settings a Scope
becomes, that they reach PostgreSQL, and that a nested tenant transaction gives the caller's
settings back."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from permissions.scope import ANONYMOUS, Scope, anonymous_in
from permissions.session import apply_scope, scope_settings, scoped_transaction, tenant_transaction
from tenants.models import Agency

T, U, V = (uuid.UUID(int=n) for n in (1, 2, 3))
USER = uuid.uuid4()


async def current_settings(conn: BaseDBAsyncClient) -> list[str]:
    _, rows = await conn.execute_query(
        "SELECT current_setting('app.tenant_id', true) AS t, "
        "current_setting('app.tenant_ids', true) AS ts, "
        "current_setting('app.province', true) AS p, "
        "current_setting('app.user_id', true) AS u"
    )
    return [rows[0][k] or "" for k in ("t", "ts", "p", "u")]


def test_a_tenant_scope_sets_its_tenant_only() -> None:
    scope = Scope(user_id=USER, tenant_id=T, readable_tenant_ids=frozenset({T}))
    assert scope_settings(scope) == [str(T), "", "", str(USER)]


def test_a_provincial_scope_lists_the_other_readable_tenants_and_the_flag() -> None:
    scope = Scope(
        user_id=USER, tenant_id=T, readable_tenant_ids=frozenset({V, T, U}), provincial=True
    )
    # Its own tenant is app.tenant_id; the others, sorted, form the uuid[] literal.
    assert scope_settings(scope) == [str(T), "{" + f"{U},{V}" + "}", "on", str(USER)]


def test_the_province_flag_follows_the_provincial_standing_not_the_tenant_list() -> None:
    reading = Scope(user_id=USER, tenant_id=T, readable_tenant_ids=frozenset({T, U}))
    assert scope_settings(reading) == [str(T), "{" + str(U) + "}", "", str(USER)]
    # A provincial admin acting outside any tenant: the flag, no tenant.
    province = Scope(user_id=USER, tenant_id=None, provincial=True)
    assert scope_settings(province) == ["", "", "on", str(USER)]


def test_anonymous_scopes() -> None:
    assert scope_settings(ANONYMOUS) == ["", "", "", ""]
    assert scope_settings(anonymous_in(T)) == [str(T), "", "", ""]


@pytest.mark.parametrize(
    "scope",
    [
        Scope(user_id=USER, tenant_id=T, readable_tenant_ids=frozenset({T})),
        Scope(user_id=USER, tenant_id=T, readable_tenant_ids=frozenset({T, U}), provincial=True),
        ANONYMOUS,
    ],
    ids=["tenant", "provincial", "anonymous"],
)
async def test_apply_scope_sets_exactly_those_settings(database: Any, scope: Scope) -> None:
    async with scoped_transaction(scope) as conn:
        assert await current_settings(conn) == scope_settings(scope)


async def test_only_the_cross_tenant_read_is_audited(
    database: Any, caplog: pytest.LogCaptureFixture
) -> None:
    provincial = Scope(
        user_id=USER, tenant_id=T, readable_tenant_ids=frozenset({T, U}), provincial=True
    )
    with caplog.at_level(logging.INFO, logger="paht.audit"):
        async with in_transaction() as conn:
            await apply_scope(conn, Scope(user_id=USER, tenant_id=T))
            await apply_scope(conn, provincial)
    audited = [r for r in caplog.records if r.name == "paht.audit"]
    assert [r.getMessage() for r in audited] == ["cross-tenant read"]
    assert (audited[0].user_id, audited[0].tenants) == (str(USER), "{" + str(U) + "}")


async def agency_tenants(conn: BaseDBAsyncClient) -> set[str]:
    _, rows = await conn.execute_query("SELECT DISTINCT tenant_id::text AS t FROM agency")
    return {r["t"] for r in rows}


async def test_tenant_transaction_gives_the_callers_settings_back(
    pilot: dict[str, Any],
) -> None:
    sa_pa, lao_cai = pilot["tenants"]["sa-pa"].id, pilot["tenants"]["lao-cai"].id
    caller = Scope(
        user_id=USER,
        tenant_id=sa_pa,
        readable_tenant_ids=frozenset({sa_pa, lao_cai}),
        provincial=True,
    )
    async with scoped_transaction(caller) as conn:
        before = await current_settings(conn)
        assert before == [str(sa_pa), "{" + str(lao_cai) + "}", "on", str(USER)]
        async with tenant_transaction(lao_cai) as inner:
            # System work for one tenant: that tenant only, no provincial reach.
            assert await current_settings(inner) == [str(lao_cai), "", "", ""]
            assert await agency_tenants(inner) == {str(lao_cai)}
            assert await Agency.filter(tenant_id=sa_pa).using_db(inner).count() == 0
        assert await current_settings(conn) == before
        assert await agency_tenants(conn) == {str(sa_pa), str(lao_cai)}


async def test_tenant_transaction_outside_a_request_leaves_nothing_set(
    pilot: dict[str, Any],
) -> None:
    lao_cai = pilot["tenants"]["lao-cai"].id
    async with tenant_transaction(lao_cai) as conn:
        assert await current_settings(conn) == [str(lao_cai), "", "", ""]
    async with in_transaction() as conn:
        assert await current_settings(conn) == ["", "", "", ""]
        assert await agency_tenants(conn) == set()
