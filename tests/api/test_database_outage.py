"""The database goes away under a running process: every request gets a typed 503 with
Retry-After (never a 500 or a traceback), the process stays up, and it recovers by itself."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.database import DatabaseUrls
from tests.conftest import TEST_SECRET
from tests.support.pgproxy import PgRelay
from tests.support.server import ApiProcess

PUBLIC = "{ publicReports(first: 1) { edges { node { code } } } }"
LOGIN = """mutation($i: LoginInput!) { login(input: $i) { accessToken errors { code } } }"""


def through(url: str, relay_dir: Path) -> str:
    """The same DSN with its socket directory replaced by the relay's."""
    return re.sub(r"host=[^&]+", f"host={relay_dir}", url)


@pytest.fixture(scope="module")
async def outage(
    database: DatabaseUrls, pilot: dict[str, Any], tmp_path_factory: Any
) -> AsyncIterator[tuple[ApiProcess, PgRelay]]:
    server_dir = Path(re.search(r"host=([^&]+)", database.app).group(1))  # type: ignore[union-attr]
    relay_dir = Path("/tmp") / f"paht-relay-{id(database)}"
    relay = PgRelay(server_dir, relay_dir)
    await relay.start()
    api = ApiProcess(
        through(database.app, relay_dir),
        database.owner,
        tmp_path_factory.mktemp("outage"),
        TEST_SECRET,
    )
    await api.start()
    yield api, relay
    await api.stop()
    await relay.cut()


async def test_requests_get_503_while_the_database_is_down_and_recover(
    outage: tuple[ApiProcess, PgRelay], pilot: dict[str, Any]
) -> None:
    api, relay = outage
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as http:
        login = await http.post(
            "/graphql",
            json={"query": LOGIN, "variables": {"i": {"username": "sapa.admin",
                                                      "password": pilot["password"]}}},
        )  # fmt: skip
        token = login.json()["data"]["login"]["accessToken"]
        bearer = {"Authorization": f"Bearer {token}", "Accept-Language": "en"}
        me_query = {"query": "{ me { user { username } } }"}
        # Seen once, its session and Scope are cached: later it reaches GraphQL without the
        # database.
        assert (await http.post("/graphql", json=me_query, headers=bearer)).is_success
        anonymous = {"X-Paht-Tenant": "sa-pa", "Accept-Language": "vi"}
        assert (await http.post("/graphql", json={"query": PUBLIC}, headers=anonymous)).is_success

        await relay.cut()
        try:
            # The anonymous tenant lookup, before GraphQL runs.
            down = await http.post("/graphql", json={"query": PUBLIC}, headers=anonymous)
            assert down.status_code == 503
            assert down.headers["retry-after"] == "5"
            error = down.json()["errors"][0]
            assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            assert error["message"] == error["extensions"]["messageVi"]
            assert "Traceback" not in down.text and "asyncpg" not in down.text

            # An authenticated query whose Scope is cached fails inside GraphQL: same answer.
            me = await http.post("/graphql", json=me_query, headers=bearer)
            assert me.status_code == 503, me.text
            assert me.json()["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
            assert me.json()["errors"][0]["message"].startswith("The service is temporarily")

            assert (await http.get("/healthz")).status_code == 200  # the process is fine
            assert (await http.get("/readyz")).status_code == 503  # but not ready
        finally:
            await relay.restore()

        for _ in range(100):  # the pool reconnects on its own
            back = await http.post("/graphql", json={"query": PUBLIC}, headers=anonymous)
            if back.status_code == 200:
                break
            await asyncio.sleep(0.1)
        assert back.status_code == 200 and "errors" not in back.json(), back.text
        assert (await http.get("/readyz")).status_code == 200
    # An outage is a warning, not an application error.
    events = [json.loads(line) for line in api.log().splitlines() if line.startswith("{")]
    assert [e for e in events if e["level"] == "ERROR"] == []
    assert any(e["message"].startswith("database unavailable") for e in events)
