"""Regression tests for the security review fixes on the API side: WebSocket operations re-read
the caller's Scope, a suspended tenant is refused at once, grants only reach the tenant's own
accounts, offboarding (deactivation and refresh after every role is revoked), SLA amounts capped."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import websockets

from tests.conftest import GraphQLClient
from tests.factories import user_named
from tests.support.admin import (
    GRANT_ROLE,
    PASSWORD,
    create_user,
    field_ids,
    grant,
    post,
)
from tests.support.workflow import gid

SAPA_POINT = (22.332, 103.842)

UPDATE_USER = """mutation($i: UpdateUserInput!) { updateUser(input: $i) {
  user { id isActive } errors { code field } } }"""
REVOKE_ROLE = """mutation($i: RevokeRoleInput!) { revokeRole(input: $i) {
  ok errors { code field } } }"""
LOGIN = """mutation($i: LoginInput!) { login(input: $i) {
  accessToken refreshToken errors { code field } } }"""
REFRESH = """mutation($i: RefreshTokenInput!) { refreshToken(input: $i) {
  accessToken refreshToken errors { code field } } }"""
ONBOARD = """mutation($i: OnboardTenantInput!) { onboardTenant(input: $i) {
  tenant { id code status } errors { code field } } }"""
SET_STATUS = """mutation($i: SetTenantStatusInput!) { setTenantStatus(input: $i) {
  tenant { code status } errors { code field } } }"""
UPDATE_SLA = """mutation($i: UpdateSlaRulesInput!) { updateSlaRules(input: $i) {
  regulation { slaVersion } errors { code field } } }"""
PUBLIC_REPORTS = "{ publicReports(first: 1) { edges { node { code } } } }"
REPORTS = "{ reports(first: 1) { edges { node { id } } } }"
SUBMIT = """mutation($i: SubmitReportInput!) { submitReport(input: $i) {
  report { id code state version } errors { code field } } }"""
REJECT = """mutation($i: RejectReportInput!) { rejectReport(input: $i) {
  report { id state version } errors { code field } } }"""
REPORT_STATE = "query($id: ID!) { report(id: $id) { id state version } }"


# --- helpers ----------------------------------------------------------------------------------


async def revoke(gql: GraphQLClient, admin: str, membership_id: str) -> None:
    data = await gql.ok(REVOKE_ROLE, {"i": {"membershipId": membership_id}}, admin)
    assert data["revokeRole"] == {"ok": True, "errors": []}, data


async def login_session(gql: GraphQLClient, username: str) -> dict[str, Any]:
    """Access and refresh token of a fresh login."""
    data = await gql.ok(LOGIN, {"i": {"username": username, "password": PASSWORD}})
    assert data["login"]["errors"] == [], data
    return data["login"]


async def onboard_tenant(gql: GraphQLClient, province: str) -> dict[str, Any]:
    """A fresh tenant (so that suspending it or editing its SLA disturbs nobody else)."""
    code = f"rv-{uuid.uuid4().hex[:6]}"
    data = await gql.ok(
        ONBOARD,
        {
            "i": {
                "code": code,
                "reportPrefix": "RV",
                "nameVi": "UBND Kiểm thử hồi quy",
                "nameEn": "Regression test",
                "admin": {"username": f"{code}.admin", "fullName": "Admin", "password": PASSWORD},
                "agencies": [{"code": "van-phong", "nameVi": "Văn phòng", "nameEn": "Office"}],
                "fields": [
                    {
                        "code": "ha-tang",
                        "nameVi": "Hạ tầng",
                        "nameEn": "Infrastructure",
                        "defaultAgencyCode": "van-phong",
                    }
                ],
            }
        },
        token=province,
    )
    assert data["onboardTenant"]["errors"] == [], data
    return data["onboardTenant"]["tenant"]


# --- WebSocket (graphql-transport-ws) ---------------------------------------------------------


@pytest.fixture(scope="module")
async def server(ws_server: str) -> str:
    return ws_server


@contextlib.asynccontextmanager
async def socket(url: str, token: str) -> AsyncIterator[Any]:
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        params = {"Authorization": f"Bearer {token}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": params}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert ack["type"] == "connection_ack", ack
        yield ws


_ids = itertools.count(1)


async def over_socket(ws: Any, query: str, variables: dict[str, Any] | None = None) -> Any:
    """Run a query or mutation over the socket (a "subscribe" message); returns the result as
    {"data": ..., "errors": [...]} whether it came as "next" or as an "error" message."""
    op = str(next(_ids))
    payload = {"query": query, "variables": variables or {}}
    await ws.send(json.dumps({"id": op, "type": "subscribe", "payload": payload}))
    result: dict[str, Any] = {}
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if message.get("id") != op:
            continue
        if message["type"] == "next":
            result = message["payload"]
        elif message["type"] == "error":
            return {"data": None, "errors": message["payload"]}
        elif message["type"] == "complete":
            return result


def refused(result: dict[str, Any]) -> bool:
    codes = {e.get("extensions", {}).get("code") for e in result.get("errors") or []}
    return not result.get("data") and bool(codes & {"FORBIDDEN", "UNAUTHENTICATED"})


async def test_websocket_operations_see_a_revoked_grant_at_once(
    server: str, gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    password = pilot["password"]
    admin = await gql.login("sapa.admin", password)
    citizen = await gql.login("sapa.citizen", password)
    operator = await gql.login("sapa.intake-operator", password)
    user_id, username = await create_user(gql, admin, "ws-op")
    membership = await grant(gql, admin, user_id, "intake_operator")
    token = await gql.login(username, PASSWORD)
    # A SUBMITTED report the operator could reject (while still an operator).
    fields = await field_ids(gql, citizen)
    submitted = await gql.ok(
        SUBMIT,
        {
            "i": {
                "title": "Hàng rong lấn chiếm vỉa hè",
                "description": "Cần kiểm tra.",
                "fieldId": fields["ve-sinh-attp"],
                "latitude": SAPA_POINT[0],
                "longitude": SAPA_POINT[1],
                "idempotencyKey": uuid.uuid4().hex,
            }
        },
        token=citizen,
    )
    report = submitted["submitReport"]["report"]
    assert report["state"] == "SUBMITTED", submitted

    async with socket(server, token) as ws:
        before = await over_socket(ws, REPORTS)
        assert "errors" not in before, before
        assert before["data"]["reports"]["edges"], before

        await revoke(gql, admin, membership)  # over HTTP, while the socket stays open

        after = await over_socket(ws, REPORTS)
        assert refused(after), after
        variables = {
            "i": {
                "id": report["id"],
                "version": report["version"],
                "reason": "OUT_OF_SCOPE",
                "comment": "Không thuộc phạm vi.",
            }
        }
        rejected = await over_socket(ws, REJECT, variables)
        assert refused(rejected), rejected
    unchanged = (await gql.ok(REPORT_STATE, {"id": report["id"]}, token=operator))["report"]
    assert unchanged == {"id": report["id"], "state": "SUBMITTED", "version": report["version"]}


# --- a suspended tenant -----------------------------------------------------------------------


async def test_a_suspended_tenant_is_refused_at_once(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    province = await gql.login("tinh.admin", pilot["password"])
    tenant = await onboard_tenant(gql, province)
    response = await post(gql, PUBLIC_REPORTS, tenant=tenant["code"])
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"publicReports": {"edges": []}}}

    data = await gql.ok(SET_STATUS, {"i": {"id": tenant["id"], "status": "SUSPENDED"}}, province)
    assert data["setTenantStatus"] == {
        "tenant": {"code": tenant["code"], "status": "SUSPENDED"},
        "errors": [],
    }
    response = await post(gql, PUBLIC_REPORTS, tenant=tenant["code"])
    assert response.status_code == 401, response.text
    body = response.json()
    assert "data" not in body or body["data"] is None, body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNKNOWN_TENANT"]


# --- SLA amounts ------------------------------------------------------------------------------


def sla_rules(amount: int, unit: str) -> list[dict[str, Any]]:
    """A complete table whose normal RESOLVE rule is ``amount`` ``unit``."""
    rules = []
    for stage in ("SCREEN", "ACCEPT", "RESOLVE", "REVIEW"):
        for urgency in ("URGENT", "NORMAL", "COMPLEX"):
            rule = {"stage": stage, "urgency": urgency, "amount": 2, "unit": "WORKING_DAYS"}
            if urgency == "URGENT":
                rule.update(amount=60, unit="CALENDAR_MINUTES")
            if (stage, urgency) == ("RESOLVE", "NORMAL"):
                rule.update(amount=amount, unit=unit)
            rules.append(rule)
    return rules


async def test_an_absurd_sla_amount_is_refused(gql: GraphQLClient, pilot: dict[str, Any]) -> None:
    province = await gql.login("tinh.admin", pilot["password"])
    tenant = await onboard_tenant(gql, province)
    admin = await gql.login(f"{tenant['code']}.admin", PASSWORD)
    version = (await gql.ok("{ regulation { slaVersion } }", token=admin))["regulation"]
    data = await gql.ok(UPDATE_SLA, {"i": {"rules": sla_rules(5_000_000, "WORKING_DAYS")}}, admin)
    assert data["updateSlaRules"]["regulation"] is None, data
    assert [e["code"] for e in data["updateSlaRules"]["errors"]] == ["INVALID_SLA"], data
    after = (await gql.ok("{ regulation { slaVersion } }", token=admin))["regulation"]
    assert after == version  # nothing stored
    # The caps themselves are accepted: 120 working days is still a valid rule.
    data = await gql.ok(UPDATE_SLA, {"i": {"rules": sla_rules(120, "WORKING_DAYS")}}, admin)
    assert data["updateSlaRules"]["errors"] == [], data


# --- grants reach only the tenant's own accounts ----------------------------------------------


async def test_no_grant_to_another_tenants_account(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    admin = await gql.login("sapa.admin", pilot["password"])
    other = await user_named("laocai.admin")
    data = await gql.ok(
        GRANT_ROLE, {"i": {"userId": gid("User", other.id), "role": "intake_operator"}}, admin
    )
    assert data["grantRole"] == {
        "membership": None,
        "errors": [{"code": "NOT_FOUND", "field": "userId"}],
    }
    memberships = await gql.ok(
        "query($u: ID) { memberships(userId: $u) { id } }", {"u": gid("User", other.id)}, admin
    )
    assert memberships["memberships"] == []


# --- offboarding ------------------------------------------------------------------------------


async def test_an_account_without_roles_can_still_be_deactivated(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    admin = await gql.login("sapa.admin", pilot["password"])
    user_id, username = await create_user(gql, admin, "leaver")
    membership = await grant(gql, admin, user_id, "intake_operator")
    session = await login_session(gql, username)
    await revoke(gql, admin, membership)

    data = await gql.ok(UPDATE_USER, {"i": {"id": user_id, "active": False}}, admin)
    assert data["updateUser"] == {"user": {"id": user_id, "isActive": False}, "errors": []}
    # Locked out: no new login, no new session from the old refresh token.
    login = await gql.ok(LOGIN, {"i": {"username": username, "password": PASSWORD}})
    assert login["login"]["accessToken"] is None and login["login"]["errors"], login
    refreshed = await gql.ok(REFRESH, {"i": {"refreshToken": session["refreshToken"]}})
    assert refreshed["refreshToken"]["accessToken"] is None, refreshed


async def test_refresh_ends_once_every_role_is_revoked(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    admin = await gql.login("sapa.admin", pilot["password"])
    user_id, username = await create_user(gql, admin, "revoked")
    membership = await grant(gql, admin, user_id, "intake_operator")
    session = await login_session(gql, username)
    # While the grant stands the refresh token works (and rotates).
    rotated = await gql.ok(REFRESH, {"i": {"refreshToken": session["refreshToken"]}})
    assert rotated["refreshToken"]["errors"] == [], rotated
    refresh_token = rotated["refreshToken"]["refreshToken"]
    assert refresh_token

    await revoke(gql, admin, membership)
    data = await gql.ok(REFRESH, {"i": {"refreshToken": refresh_token}})
    assert data["refreshToken"] == {
        "accessToken": None,
        "refreshToken": None,
        "errors": [{"code": "INVALID_REFRESH_TOKEN", "field": "refreshToken"}],
    }
