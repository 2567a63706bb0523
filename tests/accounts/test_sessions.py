"""Sessions: login, refresh-token rotation with reuse detection, logout, memberships and
deactivated accounts."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from accounts import credentials
from accounts.grants import grant_role_unchecked
from accounts.models import AuthSession, RefreshToken, User
from accounts.service import NewUser, create_user
from accounts.sessions import REFRESH_GRACE
from api.settings import Settings
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


def after_grace() -> time_machine.travel:
    """A rotated token presented again after the grace window is reuse, not a second tab."""
    return time_machine.travel(datetime.now(UTC) + REFRESH_GRACE + timedelta(seconds=1))


@pytest.fixture
def sapa(pilot: dict[str, Any]) -> Any:
    """Reads of the row-level secured session tables, as Sa Pa's requests would see them."""
    return tenant_transaction(pilot["tenants"]["sa-pa"].id)


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


async def test_refresh_tokens_are_stored_hashed(session: dict[str, Any], sapa: Any) -> None:
    token = session["refreshToken"]
    async with sapa:
        assert not await RefreshToken.exists(token_hash=token)
        row = await RefreshToken.get(token_hash=sha256(token))
        user = await User.get(username="sapa.admin")
    assert row.token_hash != token
    assert len(row.token_hash) == 64
    assert row.user_id == user.id  # type: ignore[attr-defined]
    assert row.used_at is None and row.revoked_at is None


async def test_refresh_rotates(gql: GraphQLClient, session: dict[str, Any], sapa: Any) -> None:
    old = session["refreshToken"]
    rotated = await refresh(gql, old)
    assert rotated["errors"] == []
    assert rotated["refreshToken"] and rotated["refreshToken"] != old
    assert rotated["accessToken"] and rotated["accessToken"] != session["accessToken"]
    assert rotated["user"]["username"] == "sapa.admin"

    async with sapa:
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
    gql: GraphQLClient, session: dict[str, Any], sapa: Any
) -> None:
    old = session["refreshToken"]
    rotated = await refresh(gql, old)
    assert rotated["errors"] == []
    newer = rotated["refreshToken"]

    with after_grace():
        reused = await refresh(gql, old)
    assert codes(reused) == ["REFRESH_TOKEN_REUSED"]
    assert reused["errors"][0]["field"] == "refreshToken"
    assert reused["accessToken"] is None and reused["refreshToken"] is None

    async with sapa:
        family_id = (await RefreshToken.get(token_hash=sha256(old))).family_id
        family = await RefreshToken.filter(family_id=family_id)
        login_session = await AuthSession.get(id=family_id)
    assert len(family) == 2
    assert all(row.revoked_at is not None for row in family)
    assert login_session.revoked_at is not None and login_session.revoked_reason == "reuse"

    after = await refresh(gql, newer)
    assert codes(after) == ["INVALID_REFRESH_TOKEN"]
    assert after["refreshToken"] is None
    # The access tokens of the session stop at once too, not when they expire.
    refused = await gql.raw(ME, token=rotated["accessToken"])
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["extensions"]["code"] == "INVALID_TOKEN"


async def test_a_second_tab_refreshing_within_the_grace_gets_the_same_pair(
    gql: GraphQLClient, session: dict[str, Any]
) -> None:
    old = session["refreshToken"]
    first = await refresh(gql, old)
    again = await refresh(gql, old)  # the other tab, a moment later
    assert first["errors"] == [] and again["errors"] == []
    assert (again["accessToken"], again["refreshToken"]) == (
        first["accessToken"],
        first["refreshToken"],
    )
    # Both tabs hold a working session, and it rotates on as one.
    assert (await refresh(gql, again["refreshToken"]))["errors"] == []


async def test_reuse_leaves_other_sessions_alone(gql: GraphQLClient, pilot: dict[str, Any]) -> None:
    first = await login(gql, "sapa.admin", pilot["password"])
    second = await login(gql, "sapa.admin", pilot["password"])
    assert (await refresh(gql, first["refreshToken"]))["errors"] == []
    with after_grace():
        assert codes(await refresh(gql, first["refreshToken"])) == ["REFRESH_TOKEN_REUSED"]
    assert (await refresh(gql, second["refreshToken"]))["errors"] == []
    me = await gql.ok(ME, token=second["accessToken"])
    assert me["me"]["user"]["username"] == "sapa.admin"


async def test_logout_revokes(gql: GraphQLClient, session: dict[str, Any], sapa: Any) -> None:
    rotated = await refresh(gql, session["refreshToken"])
    assert rotated["errors"] == []
    assert (await gql.raw(ME, token=rotated["accessToken"])).status_code == 200
    out = await gql.ok(LOGOUT, {"i": {"refreshToken": rotated["refreshToken"]}})
    assert out["logout"] == {"ok": True, "errors": []}

    async with sapa:
        row = await RefreshToken.get(token_hash=sha256(rotated["refreshToken"]))
    assert row.revoked_at is not None
    # Both access tokens of the session are refused at once, not in 15 minutes.
    for token in (session["accessToken"], rotated["accessToken"]):
        assert (await gql.raw(ME, token=token)).status_code == 401
    assert codes(await refresh(gql, rotated["refreshToken"])) == ["INVALID_REFRESH_TOKEN"]
    # A revoked family is not "reuse": the old token is simply invalid now.
    assert codes(await refresh(gql, session["refreshToken"])) == ["INVALID_REFRESH_TOKEN"]


async def test_an_expired_refresh_token_is_refused(
    gql: GraphQLClient, session: dict[str, Any], settings: Settings, sapa: Any
) -> None:
    """Never used, never revoked, but past its lifetime: the session cannot be renewed."""
    token = session["refreshToken"]
    expired = datetime.now(UTC) + timedelta(seconds=settings.refresh_token_ttl_seconds + 1)
    with time_machine.travel(expired):
        payload = await refresh(gql, token)
    assert codes(payload) == ["INVALID_REFRESH_TOKEN"]
    assert payload["accessToken"] is None and payload["refreshToken"] is None
    async with sapa:
        row = await RefreshToken.get(token_hash=sha256(token))
    assert row.used_at is None  # not rotated into a new pair either


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

    # Usernames belong to their home tenant: in Lào Cai, Sa Pa's admin is an unknown user.
    other = await login(gql, "sapa.admin", pilot["password"], tenant="lao-cai")
    unknown = await login(gql, unique("nobody"), pilot["password"], tenant="lao-cai")
    assert codes(other) == ["INVALID_CREDENTIALS"] and other["errors"] == unknown["errors"]
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
    async with tenant_transaction(tenant.id):
        user = await create_user(NewUser(unique("staff"), password, "Staff"), tenant.id)
        await grant_role_unchecked(tenant.id, user.id, "locality_leader")

    active = await login(gql, user.username, password)
    assert active["errors"] == [], active  # the control: this account can log in

    async with tenant_transaction(tenant.id):
        await User.filter(id=user.id).update(is_active=False)
    refused = await login(gql, user.username, password)
    assert codes(refused) == ["INVALID_CREDENTIALS"]
    assert refused["accessToken"] is None
    unknown = await login(gql, unique("nobody"), password)
    assert refused["errors"] == unknown["errors"]  # indistinguishable from an unknown user

    # Its existing refresh token no longer opens a session either.
    assert codes(await refresh(gql, active["refreshToken"])) == ["INVALID_REFRESH_TOKEN"]


async def test_an_account_without_a_role_cannot_log_in(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    """A right password is not enough: an account no role was granted to opens no session."""
    tenant = pilot["tenants"]["sa-pa"]
    password = "a-long-enough-password"
    async with tenant_transaction(tenant.id):
        user = await create_user(NewUser(unique("staff"), password, "Staff"), tenant.id)

    refused = await login(gql, user.username, password)
    assert codes(refused) == ["INVALID_CREDENTIALS"]
    assert refused["accessToken"] is None and refused["refreshToken"] is None
    named = await login(gql, user.username, password, tenant="sa-pa")
    assert codes(named) == ["NO_MEMBERSHIP"] and named["errors"][0]["field"] == "tenantCode"
    assert named["accessToken"] is None and named["refreshToken"] is None


async def test_concurrent_refreshes_rotate_once(
    gql: GraphQLClient, session: dict[str, Any], sapa: Any
) -> None:
    """Two tabs refreshing at the same moment: one rotation, and both get its pair (before the
    grace window, the loser of the race logged the user out)."""
    token = session["refreshToken"]
    results = await asyncio.gather(*(refresh(gql, token) for _ in range(2)))
    assert [r["errors"] for r in results] == [[], []], results
    pairs = {(r["accessToken"], r["refreshToken"]) for r in results}
    assert len(pairs) == 1 and results[0]["refreshToken"] != token
    async with sapa:
        row = await RefreshToken.get(token_hash=sha256(token))
        assert await RefreshToken.filter(family_id=row.family_id).count() == 2


async def test_refreshes_that_read_the_token_together_rotate_once(
    gql: GraphQLClient, session: dict[str, Any], sapa: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race itself, not left to timing: both tabs read the unused token before either claims
    it. The loser waits on the row, finds it claimed and replays the winner's pair."""
    token = session["refreshToken"]
    lookup = credentials.refresh_row
    both_read = asyncio.Barrier(2)
    reads = 0

    async def read_together(token_hash: str) -> credentials.RefreshRow | None:
        nonlocal reads
        row = await lookup(token_hash)
        reads += 1
        if reads <= 2:  # the first read of each refresh, not the loser's second look
            await asyncio.wait_for(both_read.wait(), 60)
        return row

    monkeypatch.setattr(credentials, "refresh_row", read_together)
    results = await asyncio.gather(*(refresh(gql, token) for _ in range(2)))
    assert [r["errors"] for r in results] == [[], []], results
    assert {(r["accessToken"], r["refreshToken"]) for r in results} == {
        (results[0]["accessToken"], results[0]["refreshToken"])
    }
    async with sapa:
        row = await RefreshToken.get(token_hash=sha256(token))
        assert await RefreshToken.filter(family_id=row.family_id).count() == 2
