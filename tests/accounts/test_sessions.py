"""Sessions: login, refresh-token rotation with reuse detection, logout, memberships and
deactivated accounts."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import pytest

from accounts.models import RefreshToken, User
from accounts.service import NewUser, create_user
from api.settings import Settings
from permissions.service import grant_role_unchecked
from permissions.session import tenant_transaction
from tests.conftest import GraphQLClient, unique

SESSION = "accessToken refreshToken expiresIn user { username } errors { code message field }"
LOGIN = f"mutation($i: LoginInput!) {{ login(input: $i) {{ {SESSION} }} }}"
REFRESH = f"mutation($i: RefreshTokenInput!) {{ refreshToken(input: $i) {{ {SESSION} }} }}"
LOGOUT = "mutation($i: RefreshTokenInput!) { logout(input: $i) { ok errors { code } } }"
ME = "{ me { user { username } tenant { code } roles } }"


async def login(
    gql: GraphQLClient, username: str, password: str, tenant: str | None = None
) -> dict[str, Any]:
    data = await gql.ok(
        LOGIN, {"i": {"username": username, "password": password, "tenantCode": tenant}}
    )
    return data["login"]


async def refresh(gql: GraphQLClient, token: str) -> dict[str, Any]:
    return (await gql.ok(REFRESH, {"i": {"refreshToken": token}}))["refreshToken"]


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


def sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@pytest.fixture
async def session(gql: GraphQLClient, pilot: dict[str, Any]) -> dict[str, Any]:
    payload = await login(gql, "sapa.admin", pilot["password"])
    assert payload["errors"] == [], payload
    return payload


async def test_login_returns_a_session(
    gql: GraphQLClient, session: dict[str, Any], settings: Settings
) -> None:
    assert session["accessToken"] and session["refreshToken"]
    assert session["accessToken"] != session["refreshToken"]
    assert session["expiresIn"] == settings.access_token_ttl_seconds
    assert session["user"]["username"] == "sapa.admin"
    me = await gql.ok(ME, token=session["accessToken"])
    assert me["me"]["tenant"]["code"] == "sa-pa"


async def test_refresh_tokens_are_stored_hashed(session: dict[str, Any]) -> None:
    token = session["refreshToken"]
    assert not await RefreshToken.exists(token_hash=token)
    row = await RefreshToken.get(token_hash=sha256(token))
    assert row.token_hash != token
    assert len(row.token_hash) == 64
    user = await User.get(username="sapa.admin")
    assert row.user_id == user.id  # type: ignore[attr-defined]
    assert row.used_at is None and row.revoked_at is None


async def test_refresh_rotates(gql: GraphQLClient, session: dict[str, Any]) -> None:
    old = session["refreshToken"]
    rotated = await refresh(gql, old)
    assert rotated["errors"] == []
    assert rotated["refreshToken"] and rotated["refreshToken"] != old
    assert rotated["accessToken"] and rotated["accessToken"] != session["accessToken"]
    assert rotated["user"]["username"] == "sapa.admin"

    old_row = await RefreshToken.get(token_hash=sha256(old))
    new_row = await RefreshToken.get(token_hash=sha256(rotated["refreshToken"]))
    assert old_row.used_at is not None and old_row.revoked_at is None
    assert new_row.used_at is None and new_row.revoked_at is None
    assert new_row.family_id == old_row.family_id
    assert new_row.tenant_id == old_row.tenant_id

    me = await gql.ok(ME, token=rotated["accessToken"])
    assert me["me"]["user"]["username"] == "sapa.admin"
    assert me["me"]["tenant"]["code"] == "sa-pa"  # the tenant survives the rotation


async def test_reusing_a_rotated_token_revokes_the_family(
    gql: GraphQLClient, session: dict[str, Any]
) -> None:
    old = session["refreshToken"]
    rotated = await refresh(gql, old)
    assert rotated["errors"] == []
    newer = rotated["refreshToken"]

    reused = await refresh(gql, old)
    assert codes(reused) == ["REFRESH_TOKEN_REUSED"]
    assert reused["errors"][0]["field"] == "refreshToken"
    assert reused["accessToken"] is None and reused["refreshToken"] is None

    family = await RefreshToken.filter(
        family_id=(await RefreshToken.get(token_hash=sha256(old))).family_id
    )
    assert len(family) == 2
    assert all(row.revoked_at is not None for row in family)

    after = await refresh(gql, newer)
    assert codes(after) == ["INVALID_REFRESH_TOKEN"]
    assert after["refreshToken"] is None


async def test_reuse_leaves_other_sessions_alone(gql: GraphQLClient, pilot: dict[str, Any]) -> None:
    first = await login(gql, "sapa.admin", pilot["password"])
    second = await login(gql, "sapa.admin", pilot["password"])
    assert (await refresh(gql, first["refreshToken"]))["errors"] == []
    assert codes(await refresh(gql, first["refreshToken"])) == ["REFRESH_TOKEN_REUSED"]
    assert (await refresh(gql, second["refreshToken"]))["errors"] == []


async def test_logout_revokes(gql: GraphQLClient, session: dict[str, Any]) -> None:
    rotated = await refresh(gql, session["refreshToken"])
    assert rotated["errors"] == []
    out = await gql.ok(LOGOUT, {"i": {"refreshToken": rotated["refreshToken"]}})
    assert out["logout"] == {"ok": True, "errors": []}

    row = await RefreshToken.get(token_hash=sha256(rotated["refreshToken"]))
    assert row.revoked_at is not None
    assert codes(await refresh(gql, rotated["refreshToken"])) == ["INVALID_REFRESH_TOKEN"]
    # A revoked family is not "reuse": the old token is simply invalid now.
    assert codes(await refresh(gql, session["refreshToken"])) == ["INVALID_REFRESH_TOKEN"]


async def test_unknown_refresh_token_is_invalid(gql: GraphQLClient) -> None:
    payload = await refresh(gql, "not-a-refresh-token-we-ever-issued")
    assert codes(payload) == ["INVALID_REFRESH_TOKEN"]
    assert payload["errors"][0]["field"] == "refreshToken"
    assert payload["accessToken"] is None and payload["refreshToken"] is None
    # Logging out with an unknown token is harmless.
    out = await gql.ok(LOGOUT, {"i": {"refreshToken": "not-a-refresh-token-we-ever-issued"}})
    assert out["logout"]["ok"] is True


async def test_login_to_a_tenant_without_membership(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    own = await login(gql, "sapa.admin", pilot["password"], tenant="sa-pa")
    assert own["errors"] == [] and own["accessToken"]

    other = await login(gql, "sapa.admin", pilot["password"], tenant="lao-cai")
    assert codes(other) == ["NO_MEMBERSHIP"]
    assert other["errors"][0]["field"] == "tenantCode"
    assert other["accessToken"] is None and other["refreshToken"] is None

    missing = await login(gql, "sapa.admin", pilot["password"], tenant="no-such-tenant")
    assert codes(missing) == ["NOT_FOUND"]


async def test_province_admin_logs_in_without_tenant(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    payload = await login(gql, "tinh.admin", pilot["password"])
    assert payload["errors"] == [], payload
    data = await gql.ok(
        "{ me { tenant { code } roles } myPermissions { action } }",
        token=payload["accessToken"],
    )
    assert data["me"]["tenant"] is None
    assert data["me"]["roles"]
    assert "tenant:onboard" in [p["action"] for p in data["myPermissions"]]

    # A tenant admin cannot onboard tenants.
    sapa = await gql.login("sapa.admin", pilot["password"])
    data = await gql.ok("{ myPermissions { action } }", token=sapa)
    actions = [p["action"] for p in data["myPermissions"]]
    assert "tenant:manage" in actions and "tenant:onboard" not in actions


async def test_deactivated_user_cannot_log_in(gql: GraphQLClient, pilot: dict[str, Any]) -> None:
    tenant = pilot["tenants"]["sa-pa"]
    password = "a-long-enough-password"
    user = await create_user(NewUser(unique("staff"), password, "Staff"), tenant.id)
    async with tenant_transaction(tenant.id):
        await grant_role_unchecked(tenant.id, user.id, "locality_leader")

    active = await login(gql, user.username, password)
    assert active["errors"] == [], active  # the control: this account can log in

    await User.filter(id=user.id).update(is_active=False)
    refused = await login(gql, user.username, password)
    assert codes(refused) == ["INVALID_CREDENTIALS"]
    assert refused["accessToken"] is None
    unknown = await login(gql, unique("nobody"), password)
    assert refused["errors"] == unknown["errors"]  # indistinguishable from an unknown user

    # Its existing refresh token no longer opens a session either.
    assert codes(await refresh(gql, active["refreshToken"])) == ["INVALID_REFRESH_TOKEN"]


async def test_concurrent_refreshes_only_one_wins(
    gql: GraphQLClient, session: dict[str, Any]
) -> None:
    token = session["refreshToken"]
    results = await asyncio.gather(*(refresh(gql, token) for _ in range(2)))
    winners = [r for r in results if not r["errors"]]
    losers = [r for r in results if r["errors"]]
    assert len(winners) == 1 and len(losers) == 1, results
    assert winners[0]["refreshToken"] and winners[0]["refreshToken"] != token
    # The loser either lost the race to claim the row or arrived after the winner rotated it
    # (which is reuse): never a second session.
    assert codes(losers[0]) in (["INVALID_REFRESH_TOKEN"], ["REFRESH_TOKEN_REUSED"])
    row = await RefreshToken.get(token_hash=sha256(token))
    assert await RefreshToken.filter(family_id=row.family_id).count() == 2
