"""Attacks sent to a real production-mode process (`paht serve`, DATABASE_URL set, debug off).

Each one must get a typed error, leave nothing behind, and never stall the process: /healthz
is polled throughout, and its slowest answer must stay under a generous bound (the point is
that the event loop is not blocked, not how fast anything is)."""

from __future__ import annotations

import asyncio
import json
import math
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from strawberry import relay

from accounts.grants import grant_role_unchecked
from accounts.service import NewUser, create_user
from api.database import DatabaseUrls
from permissions.session import tenant_transaction
from reports.models import Report
from tenants.models import Field
from tests.conftest import TEST_SECRET, unique
from tests.support.server import ApiProcess, max_health_latency

UNBLOCKED = 2.0  # seconds: /healthz keeps answering while an attack is handled
SAPA_POINT = (22.332, 103.842)


@pytest.fixture(scope="module")
async def api(
    database: DatabaseUrls, pilot: dict[str, Any], tmp_path_factory: Any
) -> AsyncIterator[ApiProcess]:
    process = ApiProcess(
        database.app, database.owner, tmp_path_factory.mktemp("hostile"), TEST_SECRET
    )
    await process.start()
    yield process
    await process.stop()


@pytest.fixture
async def http(api: ApiProcess) -> AsyncIterator[httpx.AsyncClient]:
    # Each test comes from its own address (the API trusts X-Forwarded-For from localhost, as
    # behind the reverse proxy), so per-address limits of one test do not reach the next.
    address = f"198.51.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"
    headers = {"Accept-Language": "en", "X-Forwarded-For": address}
    async with httpx.AsyncClient(base_url=api.base_url, headers=headers, timeout=60) as client:
        yield client


async def unblocked(api: ApiProcess, attack: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``attack`` while /healthz is polled; assert the process never stalled."""
    stop = asyncio.Event()
    poller = asyncio.create_task(max_health_latency(api.base_url, stop))
    await asyncio.sleep(0.1)
    try:
        result = await attack()
    finally:
        stop.set()
    slowest = await poller
    print(f"slowest /healthz during the attack: {slowest * 1000:.0f} ms")
    assert slowest < UNBLOCKED, f"/healthz took {slowest:.2f} s during the attack"
    return result


def error_code(body: dict[str, Any]) -> str:
    error = body["errors"][0]
    assert error["extensions"]["messageVi"] and error["extensions"]["messageEn"], error
    return str(error["extensions"]["code"])


# --- documents whose validation used to be exponential -----------------------------------------


def fan_out(n: int, field: str = "__typename") -> str:
    """Fragments that each spread the next one twice: 2^n expansions in 1-2 KB."""
    fragments = [f"fragment F{i} on Query {{ {field} ...F{i + 1} ...F{i + 1} }}" for i in range(n)]
    return "query { ...F0 } " + " ".join(fragments) + f" fragment F{n} on Query {{ {field} }}"


@pytest.mark.parametrize("n", [20, 30, 40])
async def test_fragment_fan_out_is_refused_without_stalling(
    api: ApiProcess, http: httpx.AsyncClient, n: int
) -> None:
    document = fan_out(n)
    assert len(document) < 3_000

    async def attack() -> httpx.Response:
        return await http.post("/graphql", json={"query": document})

    response = await unblocked(api, attack)
    assert response.status_code == 200
    assert error_code(response.json()) == "QUERY_TOO_COMPLEX"
    assert response.json()["data"] is None


async def test_aliased_fan_out_is_refused(api: ApiProcess, http: httpx.AsyncClient) -> None:
    document = fan_out(30, "a: __typename")

    async def attack() -> httpx.Response:
        return await http.post("/graphql", json={"query": document})

    response = await unblocked(api, attack)
    assert error_code(response.json()) == "TOO_MANY_ALIASES"


# --- oversized text, nested variables, malformed requests ---------------------------------------


async def test_a_55_mb_literal_is_refused_before_it_is_read(
    api: ApiProcess, http: httpx.AsyncClient
) -> None:
    body = json.dumps(
        {"query": '{ trackReport(trackingCode: "' + "A" * 55_000_000 + '") { code } }'}
    )

    async def attack() -> httpx.Response:
        return await http.post(
            "/graphql", content=body, headers={"Content-Type": "application/json"}
        )

    response = await unblocked(api, attack)
    assert response.status_code == 413
    assert error_code(response.json()) == "REQUEST_TOO_LARGE"


async def test_a_55_mb_comment_in_a_multipart_operation_is_refused(
    api: ApiProcess, http: httpx.AsyncClient
) -> None:
    operations = json.dumps({"query": "#" + "x" * 55_000_000 + "\n{ __typename }"})

    async def attack() -> httpx.Response:
        return await http.post(
            "/graphql",
            data={"operations": operations, "map": "{}"},
            files={"0": ("a.txt", b"x", "text/plain")},
        )

    response = await unblocked(api, attack)
    assert response.status_code == 413
    assert error_code(response.json()) == "REQUEST_TOO_LARGE"


async def test_an_overlong_query_is_refused_before_parsing(
    api: ApiProcess, http: httpx.AsyncClient
) -> None:
    document = "#" + "x" * 300_000 + "\n{ __typename }"

    async def attack() -> httpx.Response:
        return await http.post("/graphql", json={"query": document})

    response = await unblocked(api, attack)
    assert response.status_code == 200
    assert error_code(response.json()) == "QUERY_TOO_LARGE"


async def test_deeply_nested_variables_are_refused(
    api: ApiProcess, http: httpx.AsyncClient
) -> None:
    deep = "[" * 200_000 + "]" * 200_000
    body = '{"query": "query($v: [Int]) { __typename }", "variables": {"v": ' + deep + "}}"

    async def attack() -> httpx.Response:
        return await http.post(
            "/graphql", content=body, headers={"Content-Type": "application/json"}
        )

    response = await unblocked(api, attack)
    assert response.status_code == 400
    assert error_code(response.json()) == "VARIABLES_TOO_DEEP"

    # Deeper than any input type, though small enough to decode: refused by the limit.
    nested: Any = 1
    for _ in range(40):
        nested = [nested]
    shallow = await http.post(
        "/graphql", json={"query": "query($v: [Int]) { __typename }", "variables": {"v": nested}}
    )
    assert shallow.status_code == 200
    assert error_code(shallow.json()) == "VARIABLES_TOO_DEEP"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param(
            b'[{"query": "{ __typename }"}, {"query": "{ __typename }"}]',
            "BATCH_NOT_SUPPORTED",
            id="batch",
        ),
        pytest.param(b'{"query": ', "INVALID_JSON", id="truncated"),
        pytest.param(b'{"query": 42}', "BAD_REQUEST", id="query-not-a-string"),
    ],
)
async def test_malformed_requests_get_typed_json_errors(
    http: httpx.AsyncClient, body: bytes, code: str
) -> None:
    response = await http.post(
        "/graphql", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/json")
    assert error_code(response.json()) == code


SUBMIT = """mutation($i: SubmitReportInput!) {
  submitReport(input: $i) { report { id } errors { code } } }"""


@pytest.fixture(scope="module")
async def food_field(pilot: dict[str, Any]) -> str:
    tenant = pilot["tenants"]["sa-pa"]
    async with tenant_transaction(tenant.id):
        field = await Field.get(tenant_id=tenant.id, code="ve-sinh-attp")
    return str(relay.GlobalID("Field", str(field.id)))


@pytest.mark.parametrize(
    "files_map",
    [
        pytest.param({"0": ["variables.i.attachments.5"]}, id="index-out-of-range"),
        pytest.param({"7": ["variables.i.attachments.0"]}, id="file-not-sent"),
        pytest.param({"0": ["variables.nothing.here.0"]}, id="path-not-in-variables"),
        pytest.param({"0": "variables.i.attachments.0"}, id="paths-not-a-list"),
    ],
)
async def test_a_bad_multipart_map_is_refused_and_stores_nothing(
    api: ApiProcess, http: httpx.AsyncClient, food_field: str, pilot: dict[str, Any],
    files_map: dict[str, Any],
) -> None:  # fmt: skip
    title = unique("map")
    variables = {
        "i": {
            "title": title,
            "description": "Ảnh không khớp bảng map.",
            "fieldId": food_field,
            "latitude": SAPA_POINT[0],
            "longitude": SAPA_POINT[1],
            "idempotencyKey": uuid.uuid4().hex,
            "attachments": [None],
        }
    }
    media = Path(api.env["PAHT_DATA_DIR"]) / "media"
    before = sorted(media.rglob("*")) if media.exists() else []
    response = await http.post(
        "/graphql",
        data={"operations": json.dumps({"query": SUBMIT, "variables": variables}),
              "map": json.dumps(files_map)},
        files={"0": ("a.jpg", b"\xff\xd8\xff" + b"0" * 100, "image/jpeg")},
        headers={"X-Paht-Tenant": "sa-pa"},
    )  # fmt: skip
    assert response.status_code == 400, response.text
    assert error_code(response.json()) == "INVALID_MULTIPART"
    async with tenant_transaction(pilot["tenants"]["sa-pa"].id):
        assert not await Report.exists(title=title)
    assert (sorted(media.rglob("*")) if media.exists() else []) == before


# --- the schema is not for browsing in production -------------------------------------------


async def test_introspection_and_suggestions_are_off(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": "{ __schema { queryType { name } } }"})
    assert error_code(response.json()) == "GRAPHQL_VALIDATION_FAILED"
    assert "introspection" in response.json()["errors"][0]["message"]

    typo = await http.post("/graphql", json={"query": "{ publicReport { edges { cursor } } }"})
    message = typo.json()["errors"][0]["message"]
    assert "Cannot query field 'publicReport'" in message
    assert "Did you mean" not in message and "publicReports" not in message
    # __typename still answers: clients rely on it.
    assert (await http.post("/graphql", json={"query": "{ __typename }"})).json() == {
        "data": {"__typename": "Query"}
    }


# --- guessing passwords -----------------------------------------------------------------------

LOGIN = """mutation($i: LoginInput!) {
  login(input: $i) { accessToken errors { code field retryAfter } } }"""


@pytest.fixture
async def victim(pilot: dict[str, Any]) -> tuple[str, str]:
    tenant = pilot["tenants"]["sa-pa"]
    username, password = unique("victim"), "correct-horse-battery"
    async with tenant_transaction(tenant.id):
        user = await create_user(NewUser(username, password, "Nạn nhân"), tenant.id)
        await grant_role_unchecked(tenant.id, user.id, "handler")
    return username, password


async def login(
    http: httpx.AsyncClient, username: str, password: str, address: str | None = None
) -> dict[str, Any]:
    headers = {"X-Forwarded-For": address} if address else {}
    response = await http.post(
        "/graphql",
        json={"query": LOGIN, "variables": {"i": {"username": username, "password": password}}},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return response.json()["data"]["login"]


async def test_600_wrong_passwords_meet_a_growing_wait(
    api: ApiProcess, http: httpx.AsyncClient, victim: tuple[str, str]
) -> None:
    username, password = victim

    async def attack() -> list[dict[str, Any]]:
        # From 600 addresses, so that only the per-account back-off can stop them.
        results = []
        for batch in range(12):
            results += await asyncio.gather(
                *(
                    login(http, username, f"guess-{batch}-{i}", f"203.0.{batch}.{i + 1}")
                    for i in range(50)
                )
            )
        return results

    started = time.monotonic()
    results = await unblocked(api, attack)
    elapsed = time.monotonic() - started
    codes = [r["errors"][0]["code"] for r in results]
    print(f"600 guesses: {codes.count('INVALID_CREDENTIALS')} checked, the rest refused")
    assert all(r["accessToken"] is None for r in results)
    assert set(codes) == {"INVALID_CREDENTIALS", "TOO_MANY_ATTEMPTS"}
    # Five free failures, then a doubling wait (1 s, 2 s, 4 s …): in t seconds at most
    # 6 + log2(t + 1) guesses can be checked; a slow box only gets logarithmically more.
    bound = max(10, 6 + math.floor(math.log2(elapsed + 1)))
    assert codes.count("INVALID_CREDENTIALS") <= bound, (
        codes.count("INVALID_CREDENTIALS"),
        elapsed,
    )
    refused = [r["errors"][0] for r in results if r["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"]
    assert all(e["retryAfter"] >= 1 and e["field"] == "username" for e in refused)
    # While the wait lasts, even the right password is refused (and tells nothing).
    locked = await login(http, username, password, "203.0.99.1")
    assert locked["errors"][0]["code"] == "TOO_MANY_ATTEMPTS"

    # Every failed attempt is logged with the account, address and tenant, never the password.
    lines = [json.loads(line) for line in api.log().splitlines() if line.startswith("{")]
    failed = [e for e in lines if e["message"] == "login failed" and e.get("username") == username]
    refusals = [e for e in lines if e["message"].startswith("login refused")
                and e.get("username") == username]  # fmt: skip
    assert len(failed) == codes.count("INVALID_CREDENTIALS")
    assert len(refusals) >= codes.count("TOO_MANY_ATTEMPTS")
    assert {e["client"] for e in failed} <= {
        f"203.0.{b}.{i + 1}" for b in range(12) for i in range(50)
    }
    assert "guess-" not in api.log() and password not in api.log()


async def test_one_address_trying_many_accounts_is_stopped(http: httpx.AsyncClient) -> None:
    address = f"192.0.2.{uuid.uuid4().int % 250 + 1}"
    results = [await login(http, unique("nobody"), "wrong-password", address) for _ in range(35)]
    codes = [r["errors"][0]["code"] for r in results]
    assert codes[:30] == ["INVALID_CREDENTIALS"] * 30
    assert codes[30:] == ["TOO_MANY_ATTEMPTS"] * 5
    # Another address is unaffected.
    other = await login(http, unique("nobody"), "wrong-password", "192.0.2.254")
    assert other["errors"][0]["code"] == "INVALID_CREDENTIALS"


async def test_unknown_users_and_wrong_passwords_look_alike(
    http: httpx.AsyncClient, victim: tuple[str, str]
) -> None:
    wrong = await login(http, victim[0], "not-the-password")
    unknown = await login(http, unique("nobody"), "not-the-password")
    assert (
        wrong
        == unknown
        == {
            "accessToken": None,
            "errors": [{"code": "INVALID_CREDENTIALS", "field": None, "retryAfter": None}],
        }
    )


# --- a file that is a video to the sniffer and a web page to a browser --------------------------


async def test_a_polyglot_video_is_refused_and_stores_nothing(
    api: ApiProcess, http: httpx.AsyncClient, food_field: str, pilot: dict[str, Any]
) -> None:
    from tests.reports.video_samples import ftyp_html_polyglot

    title = unique("polyglot")
    variables = {
        "i": {
            "title": title,
            "description": "Một video không phải video.",
            "fieldId": food_field,
            "latitude": SAPA_POINT[0],
            "longitude": SAPA_POINT[1],
            "idempotencyKey": uuid.uuid4().hex,
            "attachments": [None],
        }
    }
    media = Path(api.env["PAHT_DATA_DIR"]) / "media"
    before = sorted(media.rglob("*")) if media.exists() else []

    async def attack() -> httpx.Response:
        return await http.post(
            "/graphql",
            data={"operations": json.dumps({"query": SUBMIT, "variables": variables}),
                  "map": json.dumps({"0": ["variables.i.attachments.0"]})},
            files={"0": ("clip.mp4", ftyp_html_polyglot(), "video/mp4")},
            headers={"X-Paht-Tenant": "sa-pa"},
        )  # fmt: skip

    response = await unblocked(api, attack)
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["submitReport"]
    assert payload["report"] is None
    assert [e["code"] for e in payload["errors"]] == ["MEDIA_CORRUPT"]
    async with tenant_transaction(pilot["tenants"]["sa-pa"].id):
        assert not await Report.exists(title=title)
    assert (sorted(media.rglob("*")) if media.exists() else []) == before
