"""Test fixtures: a real PostgreSQL (embedded unless DATABASE_URL is set), migrated as the
owner, with the application connecting as the RLS-bound application role."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import uuid
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine
from tortoise import Tortoise

from api.app import create_app
from api.database import (
    DatabaseUrls,
    drop_database,
    ensure_roles_and_database,
    migrate,
    start_embedded,
    tortoise_config,
)
from api.settings import Settings
from core.db import close_side_pool, open_side_pool
from permissions.store import store

ROOT = Path(__file__).resolve().parent.parent
TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
_SESSION_CLOCK = pytest.StashKey[time_machine.travel]()


def pytest_configure(config: pytest.Config) -> None:
    """``PAHT_TEST_NOW=2026-03-11T09:00+07:00`` starts the whole session's clock at that instant
    (it ticks on from there), to run the suite as if in Vietnamese office hours on any machine.
    Tests that stop the clock themselves still do; PostgreSQL's clock is not moved."""
    start = os.environ.get("PAHT_TEST_NOW")
    if not start:
        return
    try:
        instant = datetime.fromisoformat(start)
    except ValueError:
        raise pytest.UsageError(f"PAHT_TEST_NOW is not an ISO 8601 instant: {start!r}") from None
    if instant.utcoffset() is None:
        raise pytest.UsageError("PAHT_TEST_NOW needs a UTC offset, e.g. 2026-03-11T09:00+07:00")
    traveller = time_machine.travel(instant, tick=True)
    traveller.start()
    config.stash[_SESSION_CLOCK] = traveller


def pytest_unconfigure(config: pytest.Config) -> None:
    if traveller := config.stash.get(_SESSION_CLOCK, None):
        traveller.stop()


def pytest_report_header(config: pytest.Config) -> str | None:
    if _SESSION_CLOCK in config.stash:
        return f"clock: the session started at {os.environ['PAHT_TEST_NOW']} (PAHT_TEST_NOW)"
    return None


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Tests run in random order (pytest-randomly); ``-q`` hides its header, so say at the end
    which seed reproduces this order."""
    seed = getattr(config.option, "randomly_seed", None)
    if config.pluginmanager.has_plugin("randomly") and isinstance(seed, int):
        terminalreporter.write_line(f"random order: rerun with -p randomly --randomly-seed={seed}")


@pytest.fixture(scope="session")
def s3_server() -> Iterator[Any]:
    """A real S3-compatible server (moto in server mode) for the whole session."""
    from tests.support.s3 import run_s3_server

    yield from run_s3_server()


@pytest.fixture(scope="session")
def embedded_server() -> Any:
    """The embedded PostgreSQL of the test run; None when DATABASE_URL names another server
    (tests that need empty databases or extra roles skip then)."""
    if os.environ.get("DATABASE_URL"):
        return None
    server, _ = start_embedded(ROOT / ".paht" / "test")
    return server


@pytest.fixture(scope="session")
def database_urls(embedded_server: Any) -> DatabaseUrls:
    if url := os.environ.get("DATABASE_URL"):
        return DatabaseUrls(app=url, owner=os.environ.get("DATABASE_OWNER_URL", url))
    server = embedded_server
    database = f"paht_test_{os.getpid()}"
    drop_database(server, database)
    ensure_roles_and_database(server, database)
    host = Path(server.pgdata).resolve()
    yield DatabaseUrls(
        app=f"asyncpg://paht_app@/{database}?host={host}",
        owner=f"asyncpg://paht_owner@/{database}?host={host}",
    )
    drop_database(server, database)


@pytest.fixture(scope="session", autouse=True)
async def database(database_urls: DatabaseUrls) -> AsyncIterator[DatabaseUrls]:
    await migrate(database_urls.owner)
    await Tortoise.init(
        config=tortoise_config(database_urls.app, pool_max=5), _enable_global_fallback=True
    )
    store.invalidate()
    await open_side_pool(database_urls.app)
    yield database_urls
    await close_side_pool()
    await Tortoise.close_connections()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        jwt_secret=TEST_SECRET,
        data_dir=tmp_path_factory.mktemp("data"),
        debug=False,
        jobs_interval_seconds=0,  # tests run the job pass explicitly
    )


# Each test is a different client address, as separate citizens would be: the per-address
# limits (login, anonymous submissions) then never carry over from one test to the next.
# Tests of those limits pin the address with `client_address`.
_client_address: ContextVar[str] = ContextVar("client_address", default="127.0.0.1")


@pytest.fixture(autouse=True)
def client_address() -> Iterator[str]:
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    token = _client_address.set(address)
    yield address
    _client_address.reset(token)


@contextlib.contextmanager
def another_client() -> Iterator[str]:
    """Within the block, requests come from a fresh address: a test that plays many separate
    clients (each role, say) keeps each under the per-address limits, as real ones would be."""
    address = f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"
    token = _client_address.set(address)
    try:
        yield address
    finally:
        _client_address.reset(token)


def with_client_address(app: Any) -> Any:
    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "client": (_client_address.get(), 50000)}
        await app(scope, receive, send)

    return asgi


@pytest.fixture(scope="session")
async def client(settings: Settings, database: DatabaseUrls) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings, database.app, manage_db=False)
    transport = httpx.ASGITransport(app=with_client_address(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://paht.test") as http:
        yield http


class GraphQLClient:
    """Posts operations; ``token`` is sent as a bearer token."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def raw(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
        lang: str = "en",
    ) -> httpx.Response:
        headers = {"Accept-Language": lang}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        token: str | None = None,
        lang: str = "en",
    ) -> dict[str, Any]:
        response = await self.raw(query, variables, token, lang)
        assert response.status_code == 200, response.text
        return response.json()

    async def ok(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        body = await self(query, variables, token)
        assert "errors" not in body, body
        return body["data"]

    async def login(
        self,
        username: str,
        password: str,
        tenant: str | None = None,
        *,
        new_password: str | None = None,
    ) -> str:
        """``new_password`` replaces a one-time password (PASSWORD_CHANGE_REQUIRED otherwise)."""
        data = await self.ok(
            "mutation($i: LoginInput!) { login(input: $i) { accessToken errors { code } } }",
            {
                "i": {
                    "username": username,
                    "password": password,
                    "tenantCode": tenant,
                    "newPassword": new_password,
                }
            },
        )
        assert data["login"]["errors"] == [], data
        return data["login"]["accessToken"]


@pytest.fixture(scope="session")
def gql(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
async def pilot(database: DatabaseUrls) -> dict[str, Any]:
    """The demo pilot: province admin, Lào Cai and Sa Pa with one user per role."""
    from api.demo import DEMO_PASSWORD, load_demo
    from tenants.models import Tenant

    accounts = await load_demo()
    tenants = {t.code: t for t in await Tenant.filter(code__in=["lao-cai", "sa-pa"])}
    return {"accounts": accounts, "tenants": tenants, "password": DEMO_PASSWORD}


@pytest.fixture(scope="session", autouse=True)
async def demo_world(pilot: dict[str, Any]) -> dict[str, Any]:
    """The demo pilot exists before any test runs, whatever order they run in: a test that only
    names "sa-pa" in a header must not depend on an earlier test having loaded it."""
    return pilot


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """A real uvicorn server in this process for ``app`` (lifespan on: listeners run); yields
    its base URL."""
    import uvicorn

    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="on")
    srv = uvicorn.Server(config)
    task = asyncio.create_task(srv.serve())
    while not srv.started:  # noqa: ASYNC110 - uvicorn exposes only a flag
        await asyncio.sleep(0.02)
    port = srv.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        await task


@pytest.fixture(scope="module")
async def ws_server(settings: Settings, database: DatabaseUrls) -> AsyncIterator[str]:
    """A real uvicorn server with its lifespan (listeners on), for WebSocket tests; yields the
    graphql-transport-ws URL."""
    from reports.live import bus

    async with serving(create_app(settings, database.app, manage_db=False)) as url:
        await asyncio.wait_for(bus.listening.wait(), 10)
        yield url.replace("http", "ws", 1) + "/graphql"


@pytest.fixture
async def sapa(pilot: dict[str, Any]) -> dict[str, Any]:
    """Sa Pa's demo users as scopes, and the rows the report tests act on."""
    from tests.support.services import sapa_env  # here: the helpers import this module

    return await sapa_env(pilot)
