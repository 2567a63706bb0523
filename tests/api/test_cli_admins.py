"""`paht admins` in a subprocess, on a fresh database of its own: a new installation gets its
first provincial administrator without code, and a running API sees every change at once."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
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
async def api(fresh: DatabaseUrls, tmp_path_factory: Any) -> AsyncIterator[ApiProcess]:
    # The installation is empty: this replica applies the migrations (as `paht migrate` would).
    process = ApiProcess(
        fresh.app,
        fresh.owner,
        tmp_path_factory.mktemp("fresh"),
        TEST_SECRET,
        PAHT_MIGRATE_ON_START="true",
    )
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


@pytest.fixture(scope="module")
async def bootstrap(fresh: DatabaseUrls, tmp_path_factory: Any, api: ApiProcess) -> dict[str, Any]:
    """The first provincial administrator of an empty installation, as an operator makes it.
    Each test below starts from here (and only adds accounts of its own)."""
    tmp_path = tmp_path_factory.mktemp("bootstrap")
    outputs: dict[str, Any] = {"empty": paht(fresh, tmp_path, "list")}
    outputs["created"] = paht(
        fresh, tmp_path, "create", "tinh.boss", "--full-name", "Quản trị tỉnh", "--generate"
    )
    outputs["listed"] = paht(fresh, tmp_path, "list")
    (one_time,) = ONE_TIME.findall(outputs["created"].stdout)
    outputs["one_time"] = one_time
    outputs["first"] = await login(api, "tinh.boss", one_time)
    outputs["chosen"] = "cột-cờ-lũng-cú-biên-cương"
    session = await login(api, "tinh.boss", one_time, outputs["chosen"])
    outputs["session"] = session
    outputs["boss"] = session["accessToken"]
    return outputs


async def test_bootstrap_an_empty_installation(bootstrap: dict[str, Any], api: ApiProcess) -> None:
    empty, created, listed = bootstrap["empty"], bootstrap["created"], bootstrap["listed"]
    assert empty.returncode == 0, empty.stderr
    assert "No provincial administrator yet" in empty.stdout
    assert created.returncode == 0, created.stderr
    assert "Created provincial administrator tinh.boss." in created.stdout
    one_time = bootstrap["one_time"]
    assert created.stdout.count(one_time) == 1 and one_time not in created.stderr
    assert re.search(r"^tinh\.boss\s+active\s+Quản trị tỉnh$", listed.stdout, re.MULTILINE)
    # The first login must replace the printed password; then the administrator works.
    assert bootstrap["first"] == {
        "accessToken": None,
        "errors": [{"code": "PASSWORD_CHANGE_REQUIRED", "field": "newPassword"}],
    }
    assert bootstrap["session"]["errors"] == []
    response = await ask(api, ADMINS, bootstrap["boss"])
    assert {"username": "tinh.boss", "isActive": True} in response.json()["data"][
        "provincialAdmins"
    ]
    assert one_time not in api.log() and bootstrap["chosen"] not in api.log()


@pytest.fixture
async def deputy(
    fresh: DatabaseUrls, tmp_path: Path, api: ApiProcess, bootstrap: dict[str, Any]
) -> dict[str, Any]:
    """A second provincial administrator of the test's own, with a password typed twice."""
    username = f"tinh.deputy-{uuid.uuid4().hex[:6]}"
    password = "mùa-hoa-tam-giác-mạch"
    created = paht(fresh, tmp_path, "create", username, typed=f"{password}\n{password}\n")
    session = await login(api, username, password)  # chosen by its owner: not one-time
    return {"username": username, "password": password, "created": created,
            "session": session, "token": session["accessToken"]}  # fmt: skip


async def test_create_with_a_typed_password(deputy: dict[str, Any]) -> None:
    created = deputy["created"]
    assert created.returncode == 0, created.stderr
    assert f"Created provincial administrator {deputy['username']}." in created.stdout
    assert not ONE_TIME.search(created.stdout)
    password = deputy["password"]
    assert password not in created.stdout and password not in created.stderr
    assert deputy["session"]["errors"] == []


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
    bootstrap: dict[str, Any],
    args: list[str],
    typed: str | None,
    expected: str,
) -> None:
    before = (await ask(api, ADMINS, bootstrap["boss"])).json()["data"]
    result = paht(fresh, tmp_path, *args, typed=typed)
    assert result.returncode == 1, result.stdout
    assert expected in result.stderr
    assert not ONE_TIME.search(result.stdout)
    assert (await ask(api, ADMINS, bootstrap["boss"])).json()["data"] == before


async def test_reset_password_ends_the_sessions_of_a_running_api(
    fresh: DatabaseUrls, tmp_path: Path, api: ApiProcess, deputy: dict[str, Any]
) -> None:
    username, password, token = deputy["username"], deputy["password"], deputy["token"]
    assert (await ask(api, ADMINS, token)).status_code == 200  # the control
    reset = paht(fresh, tmp_path, "reset-password", username)
    assert reset.returncode == 0, reset.stderr
    (one_time,) = ONE_TIME.findall(reset.stdout)

    assert (await ask(api, ADMINS, token)).status_code == 401  # another process: at once
    assert (await login(api, username, password))["errors"] == [
        {"code": "INVALID_CREDENTIALS", "field": None}
    ]
    assert (await login(api, username, one_time))["errors"] == [
        {"code": "PASSWORD_CHANGE_REQUIRED", "field": "newPassword"}
    ]
    session = await login(api, username, one_time, "nắng-vàng-trên-bản-lác")
    assert session["errors"] == []


async def test_deactivate(
    fresh: DatabaseUrls,
    tmp_path: Path,
    api: ApiProcess,
    bootstrap: dict[str, Any],
    deputy: dict[str, Any],
) -> None:
    username, password, token = deputy["username"], deputy["password"], deputy["token"]
    result = paht(fresh, tmp_path, "deactivate", username)
    assert result.returncode == 0, result.stderr
    assert f"Deactivated {username}" in result.stdout

    assert (await ask(api, ADMINS, token)).status_code == 401
    assert (await login(api, username, password))["errors"] == [
        {"code": "INVALID_CREDENTIALS", "field": None}
    ]
    active = paht(fresh, tmp_path, "list").stdout
    everyone = paht(fresh, tmp_path, "list", "--all").stdout
    assert username not in active and "tinh.boss" in active
    assert re.search(rf"^{re.escape(username)}\s+deactivated\s", everyone, re.MULTILINE)
    response = await ask(api, ADMINS, bootstrap["boss"])
    assert {"username": username, "isActive": False} in response.json()["data"]["provincialAdmins"]
