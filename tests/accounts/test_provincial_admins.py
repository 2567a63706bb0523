"""Provincial administrators managed over GraphQL by provincial administrators."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from strawberry.relay import GlobalID

from accounts.models import AuthSession
from permissions.scope import Scope
from permissions.session import scoped_transaction, tenant_transaction
from tests.conftest import GraphQLClient, unique
from tests.factories import find_user

ADMINS = (
    "query($all: Boolean!) { provincialAdmins(includeInactive: $all) { id username isActive } }"
)
CREATE = """
mutation($i: CreateProvincialAdminInput!) {
  createProvincialAdmin(input: $i) {
    user { id username fullName email isActive } temporaryPassword errors { code field message }
  }
}"""
DEACTIVATE = """
mutation($i: DeactivateProvincialAdminInput!) {
  deactivateProvincialAdmin(input: $i) { user { id username isActive } errors { code field } }
}"""
LOGIN = """mutation($i: LoginInput!) {
  login(input: $i) { accessToken refreshToken errors { code field } } }"""
REFRESH = """mutation($i: RefreshTokenInput!) {
  refreshToken(input: $i) { accessToken errors { code } } }"""
ME = "{ me { user { id username } tenant { code } roles } myPermissions { action } }"


async def login(gql: GraphQLClient, username: str, password: str, **extra: Any) -> dict[str, Any]:
    variables = {"i": {"username": username, "password": password, **extra}}
    return (await gql.ok(LOGIN, variables))["login"]


async def admins(gql: GraphQLClient, token: str, include_inactive: bool = False) -> list[Any]:
    return (await gql.ok(ADMINS, {"all": include_inactive}, token=token))["provincialAdmins"]


@pytest.fixture
async def province(gql: GraphQLClient, pilot: dict[str, Any]) -> str:
    return await gql.login("tinh.admin", pilot["password"])


async def create(gql: GraphQLClient, token: str, username: str) -> dict[str, Any]:
    variables = {"i": {"username": username, "fullName": "Quản trị tỉnh", "email": "qt@laocai.vn"}}
    return (await gql.ok(CREATE, variables, token=token))["createProvincialAdmin"]


async def test_a_provincial_admin_adds_one_who_must_choose_a_password(
    gql: GraphQLClient, province: str
) -> None:
    assert "tinh.admin" in [a["username"] for a in await admins(gql, province)]
    username = unique("tinh")
    created = await create(gql, province, username)
    assert created["errors"] == []
    assert created["user"] == {
        "id": created["user"]["id"],
        "username": username,
        "fullName": "Quản trị tỉnh",
        "email": "qt@laocai.vn",
        "isActive": True,
    }
    temporary = created["temporaryPassword"]
    assert temporary and len(temporary) >= 16
    assert {"id": created["user"]["id"], "username": username, "isActive": True} in await admins(
        gql, province
    )

    first = await login(gql, username, temporary)
    assert first["errors"] == [{"code": "PASSWORD_CHANGE_REQUIRED", "field": "newPassword"}]
    assert first["accessToken"] is None
    session = await login(gql, username, temporary, newPassword="sông-hồng-chảy-qua-lào-cai")
    assert session["errors"] == []
    me = await gql.ok(ME, token=session["accessToken"])
    assert me["me"]["tenant"] is None and me["me"]["roles"] == ["provincial_admin"]
    assert "province:manage_admins" in [p["action"] for p in me["myPermissions"]]
    # The new administrator manages administrators too.
    assert username in [a["username"] for a in await admins(gql, session["accessToken"])]


async def test_deactivation_ends_every_session_at_once(
    gql: GraphQLClient, province: str, pilot: dict[str, Any]
) -> None:
    username = unique("tinh")
    temporary = (await create(gql, province, username))["temporaryPassword"]
    password = "bản-cát-cát-mùa-lúa-chín"
    provincial = await login(gql, username, temporary, newPassword=password)
    # A session inside a tenant carries that tenant: the provincial path alone cannot see it.
    in_sapa = await login(gql, username, password, tenantCode="sa-pa")
    assert provincial["errors"] == [] and in_sapa["errors"] == []
    assert (await gql.ok(ME, token=in_sapa["accessToken"]))["me"]["tenant"] == {"code": "sa-pa"}
    user_id = (await gql.ok(ME, token=provincial["accessToken"]))["me"]["user"]["id"]

    result = await gql.ok(DEACTIVATE, {"i": {"id": user_id}}, token=province)
    assert result["deactivateProvincialAdmin"] == {
        "user": {"id": user_id, "username": username, "isActive": False},
        "errors": [],
    }
    # Both sessions are ended (not only refused because the account is locked).
    uid = uuid.UUID(GlobalID.from_id(user_id).node_id)
    async with scoped_transaction(Scope(user_id=None, tenant_id=None, provincial=True)):
        ended = await AuthSession.filter(user_id=uid).values_list("revoked_reason", flat=True)
    async with tenant_transaction(pilot["tenants"]["sa-pa"].id):
        ended += await AuthSession.filter(user_id=uid).values_list("revoked_reason", flat=True)
    assert ended == ["deactivated", "deactivated"]
    for session in (provincial, in_sapa):
        response = await gql.raw(ME, token=session["accessToken"])
        assert response.status_code == 401
        refreshed = await gql.ok(REFRESH, {"i": {"refreshToken": session["refreshToken"]}})
        assert refreshed["refreshToken"]["errors"] == [{"code": "INVALID_REFRESH_TOKEN"}]
    assert (await login(gql, username, password))["errors"] == [
        {"code": "INVALID_CREDENTIALS", "field": None}
    ]
    assert username not in [a["username"] for a in await admins(gql, province)]
    listed = {a["username"]: a["isActive"] for a in await admins(gql, province, True)}
    assert listed[username] is False


async def test_an_admin_cannot_deactivate_themself(gql: GraphQLClient, province: str) -> None:
    own_id = (await gql.ok(ME, token=province))["me"]["user"]["id"]
    result = await gql.ok(DEACTIVATE, {"i": {"id": own_id}}, token=province)
    assert result["deactivateProvincialAdmin"] == {
        "user": None,
        "errors": [{"code": "CANNOT_DEACTIVATE_SELF", "field": "id"}],
    }
    assert (await gql.raw(ME, token=province)).status_code == 200
    assert "tinh.admin" in [a["username"] for a in await admins(gql, province)]


async def test_only_provincial_admins_are_reached(
    gql: GraphQLClient, province: str, pilot: dict[str, Any]
) -> None:
    sapa = await gql.login("sapa.admin", pilot["password"])
    tenant_admin_id = (await gql.ok(ME, token=sapa))["me"]["user"]["id"]
    result = await gql.ok(DEACTIVATE, {"i": {"id": tenant_admin_id}}, token=province)
    assert result["deactivateProvincialAdmin"]["errors"] == [{"code": "NOT_FOUND", "field": "id"}]
    assert (await gql.raw(ME, token=sapa)).status_code == 200  # untouched

    # A tenant administrator may do none of it.
    for query, variables in (
        (ADMINS, {"all": True}),
        (CREATE, {"i": {"username": unique("tinh"), "fullName": "X"}}),
        (DEACTIVATE, {"i": {"id": tenant_admin_id}}),
    ):
        body = await gql(query, variables, token=sapa)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", query


@pytest.mark.parametrize(
    ("username", "code"),
    [("tinh.admin", "DUPLICATE_USERNAME"), ("bad name", "INVALID_USERNAME"), ("ab", "REQUIRED")],
)
async def test_a_refused_creation_creates_nothing(
    gql: GraphQLClient, province: str, username: str, code: str
) -> None:
    before = await admins(gql, province, True)
    created = await create(gql, province, username)
    assert created["user"] is None and created["temporaryPassword"] is None
    assert [(e["code"], e["field"]) for e in created["errors"]] == [(code, "username")]
    assert await admins(gql, province, True) == before
    if code != "DUPLICATE_USERNAME":
        assert await find_user(username) is None
