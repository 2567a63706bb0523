"""A subscription ends with its token: when the token expires, and when its session is revoked
(logout, a reused refresh token, deactivation) — also when that happens in another process.
The connection is closed with 4403, so a client reconnects with a fresh token."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
import time_machine
import websockets
from websockets.exceptions import ConnectionClosed

from accounts.grants import grant_role_unchecked
from accounts.service import NewUser, create_user
from accounts.sessions import REFRESH_GRACE
from api.database import DatabaseUrls
from permissions.session import tenant_transaction
from tests.conftest import TEST_SECRET, GraphQLClient, unique
from tests.support.server import ApiProcess

SUBSCRIBE = "subscription { reportActivity { reportId code state action } }"
LOGIN = """mutation($i: LoginInput!) {
  login(input: $i) { accessToken refreshToken errors { code } } }"""


@pytest.fixture(scope="module")
async def other_process(
    database: DatabaseUrls, pilot: dict[str, Any], tmp_path_factory: Any
) -> AsyncIterator[ApiProcess]:
    process = ApiProcess(
        database.app, database.owner, tmp_path_factory.mktemp("sessions"), TEST_SECRET
    )
    await process.start()
    yield process
    await process.stop()


async def subscribe(url: str, token: str) -> Any:
    ws = await websockets.connect(url, subprotocols=["graphql-transport-ws"])
    await ws.send(
        json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
    )
    ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert ack["type"] == "connection_ack", ack
    await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
    return ws


async def closed_with(ws: Any, seconds: float) -> tuple[int, str]:
    """The close code and reason the server sent within ``seconds``."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), seconds)
    except ConnectionClosed as closed:
        assert closed.rcvd is not None, "the server did not close the connection"
        return closed.rcvd.code, closed.rcvd.reason


async def still_open(ws: Any, seconds: float) -> bool:
    try:
        await asyncio.wait_for(ws.recv(), seconds)
    except TimeoutError:
        return True
    except ConnectionClosed:
        return False
    return True


async def fresh_handler(pilot: dict[str, Any]) -> tuple[str, str]:
    tenant = pilot["tenants"]["sa-pa"]
    username, password = unique("ws-handler"), "a-long-enough-password"
    async with tenant_transaction(tenant.id):
        user = await create_user(NewUser(username, password, "Cán bộ"), tenant.id)
        await grant_role_unchecked(tenant.id, user.id, "centre_supervisor")
    return username, password


async def login(gql: GraphQLClient, username: str, password: str) -> dict[str, Any]:
    data = await gql.ok(LOGIN, {"i": {"username": username, "password": password}})
    assert data["login"]["errors"] == []
    return data["login"]


async def test_the_connection_closes_when_the_token_expires(
    ws_server: str, gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    session = await login(gql, *await fresh_handler(pilot))
    claims = jwt.decode(session["accessToken"], options={"verify_signature": False})
    claims["exp"] = int(time.time()) + 2  # the same session, a token about to expire
    short = jwt.encode(claims, TEST_SECRET, algorithm="HS256")
    ws = await subscribe(ws_server, short)
    assert await still_open(ws, 1.0)  # the control: it works while the token is valid
    assert await closed_with(ws, 10) == (4403, "Token expired")

    # A long-lived token of the same session keeps its connection.
    ws = await subscribe(ws_server, session["accessToken"])
    assert await still_open(ws, 3.0)
    await ws.close()


async def test_logout_in_another_process_ends_the_subscription(
    other_process: ApiProcess, gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    session = await login(gql, *await fresh_handler(pilot))
    url = other_process.base_url.replace("http", "ws") + "/graphql"
    ws = await subscribe(url, session["accessToken"])
    assert await still_open(ws, 0.5)

    await gql.ok(
        "mutation($i: RefreshTokenInput!) { logout(input: $i) { ok } }",
        {"i": {"refreshToken": session["refreshToken"]}},
    )  # handled by this test's process: the other one hears it through NOTIFY
    assert await closed_with(ws, 5) == (4403, "Session revoked")


async def test_a_reused_refresh_token_ends_the_subscription(
    other_process: ApiProcess, gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    session = await login(gql, *await fresh_handler(pilot))
    rotated = await gql.ok(
        "mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { accessToken } }",
        {"i": {"refreshToken": session["refreshToken"]}},
    )
    url = other_process.base_url.replace("http", "ws") + "/graphql"
    ws = await subscribe(url, rotated["refreshToken"]["accessToken"])
    assert await still_open(ws, 0.5)

    with time_machine.travel(datetime.now(UTC) + REFRESH_GRACE + timedelta(seconds=1)):
        reused = await gql.ok(
            "mutation($i: RefreshTokenInput!) { refreshToken(input: $i) { errors { code } } }",
            {"i": {"refreshToken": session["refreshToken"]}},
        )
    assert reused["refreshToken"]["errors"] == [{"code": "REFRESH_TOKEN_REUSED"}]
    assert await closed_with(ws, 5) == (4403, "Session revoked")


async def test_deactivation_ends_the_subscription(
    ws_server: str, gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    username, password = await fresh_handler(pilot)
    session = await login(gql, username, password)
    ws = await subscribe(ws_server, session["accessToken"])
    assert await still_open(ws, 0.5)

    admin = await gql.login("sapa.admin", pilot["password"])
    me = await gql.ok("{ me { user { id } } }", token=session["accessToken"])
    result = await gql.ok(
        "mutation($i: UpdateUserInput!) { updateUser(input: $i) { errors { code } } }",
        {"i": {"id": me["me"]["user"]["id"], "active": False}},
        token=admin,
    )
    assert result["updateUser"]["errors"] == []
    assert await closed_with(ws, 5) == (4403, "Session revoked")
