"""Password change and reset over GraphQL: a change keeps the caller's session and ends the
others; a reset gives a one-time password that must be replaced at the next login."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from accounts.grants import grant_role_unchecked
from accounts.models import AuthSession, User
from accounts.password_policy import MAX_CHARS
from accounts.service import NewUser, create_user
from permissions.session import tenant_transaction
from tests.clock import stop_clock
from tests.conftest import GraphQLClient, unique

SESSION = "accessToken refreshToken user { username } errors { code field message retryAfter }"
LOGIN = f"mutation($i: LoginInput!) {{ login(input: $i) {{ {SESSION} }} }}"
REFRESH = f"mutation($i: RefreshTokenInput!) {{ refreshToken(input: $i) {{ {SESSION} }} }}"
CHANGE = """
mutation($i: ChangePasswordInput!) {
  changePassword(input: $i) { ok endedSessions errors { code field message retryAfter } }
}"""
RESET = """
mutation($i: ResetUserPasswordInput!) {
  resetUserPassword(input: $i) {
    user { id username } temporaryPassword errors { code field message }
  }
}"""
ME = "{ me { user { id username } } }"
PASSWORD = "mây-trắng-hàm-rồng"


async def login(
    gql: GraphQLClient, username: str, password: str, new_password: str | None = None
) -> dict[str, Any]:
    variables = {"i": {"username": username, "password": password, "newPassword": new_password}}
    return (await gql.ok(LOGIN, variables))["login"]


async def refresh(gql: GraphQLClient, token: str) -> dict[str, Any]:
    return (await gql.ok(REFRESH, {"i": {"refreshToken": token}}))["refreshToken"]


async def change(gql: GraphQLClient, token: str, current: str, new: str) -> dict[str, Any]:
    variables = {"i": {"currentPassword": current, "newPassword": new}}
    return (await gql.ok(CHANGE, variables, token=token))["changePassword"]


def codes(payload: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def refused(gql: GraphQLClient, token: str) -> bool:
    response = await gql.raw(ME, token=token)
    if response.status_code == 200:
        return False
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "INVALID_TOKEN"
    return True


@pytest.fixture
async def staff(pilot: dict[str, Any]) -> User:
    """A Sa Pa account of its own (tests change its password)."""
    tenant = pilot["tenants"]["sa-pa"]
    async with tenant_transaction(tenant.id):
        user = await create_user(NewUser(unique("staff"), PASSWORD, "Cán bộ"), tenant.id)
        await grant_role_unchecked(tenant.id, user.id, "locality_leader")
    return user


async def sessions_of(user: User) -> list[AuthSession]:
    async with tenant_transaction(user.default_tenant_id):
        return await AuthSession.filter(user_id=user.id).order_by("created_at")


# --- changePassword ----------------------------------------------------------------------------


async def test_change_ends_the_other_sessions_and_keeps_this_one(
    gql: GraphQLClient, staff: User
) -> None:
    here = await login(gql, staff.username, PASSWORD)
    there = await login(gql, staff.username, PASSWORD)
    assert here["errors"] == [] and there["errors"] == []
    assert not await refused(gql, there["accessToken"])  # the control: both sessions work

    result = await change(gql, here["accessToken"], PASSWORD, "sương-sớm-trên-đỉnh-fansipan")
    assert result == {"ok": True, "endedSessions": 1, "errors": []}

    # The other session ends at once: its access token now, its refresh token too.
    assert await refused(gql, there["accessToken"])
    assert codes(await refresh(gql, there["refreshToken"])) == [
        ("INVALID_REFRESH_TOKEN", "refreshToken")
    ]
    # This one goes on, and keeps rotating.
    assert not await refused(gql, here["accessToken"])
    rotated = await refresh(gql, here["refreshToken"])
    assert rotated["errors"] == [] and not await refused(gql, rotated["accessToken"])

    assert codes(await login(gql, staff.username, PASSWORD)) == [("INVALID_CREDENTIALS", None)]
    assert (await login(gql, staff.username, "sương-sớm-trên-đỉnh-fansipan"))["errors"] == []
    kept, ended, *_ = await sessions_of(staff)
    assert (kept.revoked_at, ended.revoked_reason) == (None, "password")


@pytest.mark.parametrize(
    ("new", "code"),
    [
        ("short", "PASSWORD_TOO_SHORT"),
        ("z" * (MAX_CHARS + 1), "PASSWORD_TOO_LONG"),
        ("{username}!", "PASSWORD_CONTAINS_USERNAME"),
        ("1q2w3e4r5t6y", "PASSWORD_TOO_COMMON"),
        (PASSWORD, "PASSWORD_UNCHANGED"),
    ],
)
async def test_a_refused_change_changes_nothing(
    gql: GraphQLClient, staff: User, new: str, code: str
) -> None:
    here = await login(gql, staff.username, PASSWORD)
    there = await login(gql, staff.username, PASSWORD)
    result = await change(gql, here["accessToken"], PASSWORD, new.format(username=staff.username))
    assert result["ok"] is False and result["endedSessions"] is None
    assert codes(result) == [(code, "newPassword")]
    assert result["errors"][0]["message"]
    assert not await refused(gql, there["accessToken"])  # no session ended
    assert (await login(gql, staff.username, PASSWORD))["errors"] == []


async def test_a_wrong_current_password_is_refused_and_throttled(
    gql: GraphQLClient, staff: User, time_machine: time_machine.TimeMachineFixture
) -> None:
    token = (await login(gql, staff.username, PASSWORD))["accessToken"]
    other = (await login(gql, staff.username, PASSWORD))["accessToken"]
    stop_clock(time_machine, datetime.now(UTC))
    new = "đèo-ô-quy-hồ-mùa-mây"
    # Five free failures, and a sixth that starts the wait (as for logins).
    for _ in range(6):
        result = await change(gql, token, "not-the-password", new)
        assert codes(result) == [("WRONG_PASSWORD", "currentPassword")]
    # While the wait lasts even the right password is refused, and says so.
    locked = await change(gql, token, PASSWORD, new)
    assert codes(locked) == [("TOO_MANY_ATTEMPTS", "currentPassword")]
    assert locked["errors"][0]["retryAfter"] == 1
    assert not await refused(gql, other)  # nothing changed meanwhile
    assert (await login(gql, staff.username, PASSWORD))["errors"] == []

    time_machine.shift(timedelta(seconds=2))
    assert (await change(gql, token, PASSWORD, new))["ok"] is True


async def test_change_needs_a_login(gql: GraphQLClient) -> None:
    body = await gql(CHANGE, {"i": {"currentPassword": PASSWORD, "newPassword": "x" * 20}})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


# --- resetUserPassword and the forced change ------------------------------------------------------


async def test_reset_gives_a_one_time_password_that_login_must_replace(
    gql: GraphQLClient, pilot: dict[str, Any], staff: User, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    before = await login(gql, staff.username, PASSWORD)
    admin = await gql.login("sapa.admin", pilot["password"])
    user_id = (await gql.ok(ME, token=before["accessToken"]))["me"]["user"]["id"]

    reset = (await gql.ok(RESET, {"i": {"userId": user_id}}, token=admin))["resetUserPassword"]
    assert reset["errors"] == [] and reset["user"] == {"id": user_id, "username": staff.username}
    temporary = reset["temporaryPassword"]
    assert temporary and len(temporary) >= 16

    # Every session of the account ended; the old password opens nothing.
    assert await refused(gql, before["accessToken"])
    assert codes(await login(gql, staff.username, PASSWORD)) == [("INVALID_CREDENTIALS", None)]
    (ended,) = await sessions_of(staff)
    assert ended.revoked_reason == "admin"

    # The one-time password opens no session on its own …
    required = await login(gql, staff.username, temporary)
    assert codes(required) == [("PASSWORD_CHANGE_REQUIRED", "newPassword")]
    assert required["accessToken"] is None and required["refreshToken"] is None
    # … nor with a new password the rules refuse (and it stays one-time).
    weak = await login(gql, staff.username, temporary, "1234567890")
    assert codes(weak) == [("PASSWORD_TOO_COMMON", "newPassword")] and weak["accessToken"] is None
    same = await login(gql, staff.username, temporary, temporary)
    assert codes(same) == [("PASSWORD_UNCHANGED", "newPassword")]
    assert codes(await login(gql, staff.username, temporary)) == [
        ("PASSWORD_CHANGE_REQUIRED", "newPassword")
    ]

    chosen = "ruộng-bậc-thang-mường-hoa"
    changed = await login(gql, staff.username, temporary, chosen)
    assert changed["errors"] == [] and changed["user"] == {"username": staff.username}
    assert not await refused(gql, changed["accessToken"])
    assert codes(await login(gql, staff.username, temporary)) == [("INVALID_CREDENTIALS", None)]
    assert (await login(gql, staff.username, chosen))["errors"] == []  # no change required now
    for secret in (temporary, chosen, PASSWORD):
        assert secret not in caplog.text
    assert "password reset" in caplog.text


async def test_reset_reaches_only_the_callers_own_tenant(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    password = pilot["password"]
    admin = await gql.login("sapa.admin", password)
    ids = {
        name: (await gql.ok(ME, token=await gql.login(name, password)))["me"]["user"]["id"]
        for name in ("laocai.admin", "tinh.admin", "sapa.admin")
    }
    for name, code in (
        ("laocai.admin", "NOT_FOUND"),  # another tenant's account
        ("tinh.admin", "NOT_FOUND"),  # a provincial administrator
        ("sapa.admin", "CANNOT_RESET_SELF"),
    ):
        body = await gql.ok(RESET, {"i": {"userId": ids[name]}}, token=admin)
        payload = body["resetUserPassword"]
        assert codes(payload) == [(code, "userId")], name
        assert payload["temporaryPassword"] is None and payload["user"] is None
        assert (await login(gql, name, password))["errors"] == [], name  # unchanged

    handler = await gql.login("sapa.handler", password)
    body = await gql(RESET, {"i": {"userId": ids["sapa.admin"]}}, token=handler)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
