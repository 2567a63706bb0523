"""`paht admins` in a subprocess, on a fresh database of its own: a new installation gets its
first provincial administrator without code, and a running API sees every change at once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.database import DatabaseUrls, drop_database, ensure_roles_and_database, start_embedded
from tests.conftest import TEST_SECRET
from tests.support.server import ApiProcess

ROOT = Path(__file__).resolve().parents[2]
ONE_TIME = re.compile(r"^One-time password \(shown once; [^)]*\): (\S+)$", re.MULTILINE)
LOGIN = """mutation($i: LoginInput!) {
  login(input: $i) { accessToken errors { code field } } }"""
ADMINS = "{ provincialAdmins(includeInactive: true) { username isActive } }"


@pytest.fixture(scope="module")
def fresh(database_urls: DatabaseUrls) -> Iterator[DatabaseUrls]:
    """An empty database beside the test one (the session's database has the demo province)."""
    if os.environ.get("DATABASE_URL"):
        pytest.skip("a database of its own needs the embedded PostgreSQL")
    server, _ = start_embedded(ROOT / ".paht" / "test")
    name = f"paht_test_{os.getpid()}_fresh"
    drop_database(server, name)
    ensure_roles_and_database(server, name)
    host = Path(server.pgdata).resolve()
    yield DatabaseUrls(
        app=f"asyncpg://paht_app@/{name}?host={host}",
        owner=f"asyncpg://paht_owner@/{name}?host={host}",
    )
    drop_database(server, name)


def paht(
    fresh: DatabaseUrls, tmp_path: Path, *args: str, typed: str | None = None
) -> subprocess.CompletedProcess[str]:
    """``typed`` is what a person types at the prompts. A session of its own has no terminal:
    the hidden prompt then reads standard input."""
    env = dict(
        os.environ,
        DATABASE_URL=fresh.app,
        DATABASE_OWNER_URL=fresh.owner,
        PAHT_DATA_DIR=str(tmp_path),
    )
    return subprocess.run(
        [sys.executable, "-m", "api.cli", "admins", *args],
        cwd=ROOT,
        env=env,
        input=typed or "",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        start_new_session=True,
    )


@pytest.fixture(scope="module")
def state(fresh: DatabaseUrls) -> dict[str, Any]:
    return {}


@pytest.fixture(scope="module")
async def api(fresh: DatabaseUrls, tmp_path_factory: Any) -> AsyncIterator[ApiProcess]:
    process = ApiProcess(fresh.app, fresh.owner, tmp_path_factory.mktemp("fresh"), TEST_SECRET)
    await process.start()
    yield process
    await process.stop()


async def login(api: ApiProcess, username: str, password: str, new: str | None = None) -> Any:
    variables = {"i": {"username": username, "password": password, "newPassword": new}}
    async with httpx.AsyncClient(base_url=api.base_url) as http:
        response = await http.post("/graphql", json={"query": LOGIN, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()["data"]["login"]


async def ask(api: ApiProcess, query: str, token: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=api.base_url) as http:
        return await http.post(
            "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
        )


async def test_bootstrap_an_empty_installation(
    fresh: DatabaseUrls, tmp_path: Path, api: ApiProcess, state: dict[str, Any]
) -> None:
    empty = paht(fresh, tmp_path, "list")
    assert empty.returncode == 0, empty.stderr
    assert "No provincial administrator yet" in empty.stdout

    created = paht(
        fresh, tmp_path, "create", "tinh.boss", "--full-name", "Quản trị tỉnh", "--generate"
    )
    assert created.returncode == 0, created.stderr
    assert "Created provincial administrator tinh.boss." in created.stdout
    (one_time,) = ONE_TIME.findall(created.stdout)
    assert created.stdout.count(one_time) == 1 and one_time not in created.stderr

    listed = paht(fresh, tmp_path, "list")
    assert re.search(r"^tinh\.boss\s+active\s+Quản trị tỉnh$", listed.stdout, re.MULTILINE)

    # The first login must replace the printed password; then the administrator works.
    first = await login(api, "tinh.boss", one_time)
    assert first == {
        "accessToken": None,
        "errors": [{"code": "PASSWORD_CHANGE_REQUIRED", "field": "newPassword"}],
    }
    chosen = "cột-cờ-lũng-cú-biên-cương"
    session = await login(api, "tinh.boss", one_time, chosen)
    assert session["errors"] == []
    response = await ask(api, ADMINS, session["accessToken"])
    assert response.json()["data"]["provincialAdmins"] == [
        {"username": "tinh.boss", "isActive": True}
    ]
    assert one_time not in api.log() and chosen not in api.log()
    state["boss"] = session["accessToken"]


async def test_create_with_a_typed_password(
    fresh: DatabaseUrls, tmp_path: Path, api: ApiProcess, state: dict[str, Any]
) -> None:
    password = "mùa-hoa-tam-giác-mạch"
    created = paht(fresh, tmp_path, "create", "tinh.deputy", typed=f"{password}\n{password}\n")
    assert created.returncode == 0, created.stderr
    assert "Created provincial administrator tinh.deputy." in created.stdout
    assert not ONE_TIME.search(created.stdout)
    assert password not in created.stdout and password not in created.stderr
    session = await login(api, "tinh.deputy", password)  # chosen by its owner: not one-time
    assert session["errors"] == []
    state["deputy"] = (password, session["accessToken"])


@pytest.mark.parametrize(
    ("args", "typed", "expected"),
    [
        (["create", "tinh.short"], "short\nshort\n", "PASSWORD_TOO_SHORT password:"),
        (["create", "tinh.common"], "1q2w3e4r5t\n1q2w3e4r5t\n", "PASSWORD_TOO_COMMON password:"),
        (["create", "tinh.mine"], "tinh.mine-2026\ntinh.mine-2026\n", "PASSWORD_CONTAINS_USERNAME"),
        (["create", "tinh.typo"], "mùa-hoa-tam-giác\nmùa-hoa-tam-giac\n", "do not match"),
        (["create", "bad name", "--generate"], None, "INVALID_USERNAME username:"),
        (["create", "tinh.boss", "--generate"], None, "DUPLICATE_USERNAME username:"),
        (["deactivate", "nobody"], None, "NOT_FOUND username:"),
        (["reset-password", "nobody"], None, "NOT_FOUND username:"),
    ],
)
async def test_refusals_change_nothing(
    fresh: DatabaseUrls,
    tmp_path: Path,
    api: ApiProcess,
    state: dict[str, Any],
    args: list[str],
    typed: str | None,
    expected: str,
) -> None:
    before = (await ask(api, ADMINS, state["boss"])).json()["data"]
    result = paht(fresh, tmp_path, *args, typed=typed)
    assert result.returncode == 1, result.stdout
    assert expected in result.stderr
    assert not ONE_TIME.search(result.stdout)
    assert (await ask(api, ADMINS, state["boss"])).json()["data"] == before


async def test_reset_password_ends_the_sessions_of_a_running_api(
    fresh: DatabaseUrls, tmp_path: Path, api: ApiProcess, state: dict[str, Any]
) -> None:
    password, token = state["deputy"]
    assert (await ask(api, ADMINS, token)).status_code == 200  # the control
    reset = paht(fresh, tmp_path, "reset-password", "tinh.deputy")
    assert reset.returncode == 0, reset.stderr
    (one_time,) = ONE_TIME.findall(reset.stdout)

    assert (await ask(api, ADMINS, token)).status_code == 401  # another process: at once
    assert (await login(api, "tinh.deputy", password))["errors"] == [
        {"code": "INVALID_CREDENTIALS", "field": None}
    ]
    assert (await login(api, "tinh.deputy", one_time))["errors"] == [
        {"code": "PASSWORD_CHANGE_REQUIRED", "field": "newPassword"}
    ]
    session = await login(api, "tinh.deputy", one_time, "nắng-vàng-trên-bản-lác")
    assert session["errors"] == []
    state["deputy"] = ("nắng-vàng-trên-bản-lác", session["accessToken"])


async def test_deactivate(
    fresh: DatabaseUrls, tmp_path: Path, api: ApiProcess, state: dict[str, Any]
) -> None:
    password, token = state["deputy"]
    result = paht(fresh, tmp_path, "deactivate", "tinh.deputy")
    assert result.returncode == 0, result.stderr
    assert "Deactivated tinh.deputy" in result.stdout

    assert (await ask(api, ADMINS, token)).status_code == 401
    assert (await login(api, "tinh.deputy", password))["errors"] == [
        {"code": "INVALID_CREDENTIALS", "field": None}
    ]
    active = paht(fresh, tmp_path, "list").stdout
    everyone = paht(fresh, tmp_path, "list", "--all").stdout
    assert "tinh.deputy" not in active and "tinh.boss" in active
    assert re.search(r"^tinh\.deputy\s+deactivated\s", everyone, re.MULTILINE)
    response = await ask(api, ADMINS, state["boss"])
    assert {"username": "tinh.deputy", "isActive": False} in response.json()["data"][
        "provincialAdmins"
    ]
