#!/usr/bin/env python3
"""Statements and milliseconds per submitReport, in process: the whole ASGI app driven by
httpx.ASGITransport on the embedded PostgreSQL with the demo data, an anonymous reporter (with a
contact) and a signed-in citizen, N submissions each after a warm-up. Statements are counted on
tortoise's DEBUG log (as tests/statements.py does; BEGIN/SAVEPOINT/COMMIT are not counted).
Wall-clock ms are only indicative on a shared box; the statement count is exact.

  .venv/bin/python bench/submit_statements.py -n 100
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

SUBMIT = """mutation($i: SubmitReportInput!) { submitReport(input: $i) {
  report { id code } trackingCode errors { code } } }"""
SAPA_POINT = (22.332, 103.842)  # inside Phường Sa Pa (unit 03001)
_STATEMENTS = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.n = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().lstrip().upper().startswith(_STATEMENTS):
            self.n += 1


def _distinct_clients(app: Any) -> Any:
    """Each request from another address: anonymous submissions are limited per address."""
    addresses = (f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}" for i in itertools.count(1))

    async def asgi(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope = {**scope, "client": (next(addresses), 50000)}
        await app(scope, receive, send)

    return asgi


async def run(a: argparse.Namespace) -> None:
    import httpx
    from tortoise import Tortoise

    from api.app import create_app
    from api.database import (
        drop_database,
        ensure_roles_and_database,
        migrate,
        start_embedded,
        tortoise_config,
    )
    from api.demo import DEMO_PASSWORD, load_demo
    from api.settings import Settings
    from core.db import close_side_pool, open_side_pool

    server, _ = start_embedded(ROOT / ".paht" / "submitbench")
    database = "paht_submitbench"
    drop_database(server, database)
    ensure_roles_and_database(server, database)
    host = Path(server.pgdata).resolve()  # noqa: ASYNC240 - once, at start-up
    app_url = f"asyncpg://paht_app@/{database}?host={host}"
    await migrate(f"asyncpg://paht_owner@/{database}?host={host}")
    await Tortoise.init(config=tortoise_config(app_url, pool_max=4), _enable_global_fallback=True)
    await open_side_pool(app_url)
    await load_demo()
    settings = Settings(jwt_secret="x" * 40, data_dir=ROOT / ".paht" / "submitbench", debug=False,
                        jobs_interval_seconds=0)  # fmt: skip
    app = _distinct_clients(create_app(settings, app_url, manage_db=False))
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x")

    async def post(query: str, variables: dict[str, Any], headers: dict[str, str]) -> Any:
        r = await http.post("/graphql", json={"query": query, "variables": variables},
                            headers=headers)  # fmt: skip
        assert r.status_code == 200 and "errors" not in r.json(), r.text
        return r.json()["data"]

    login = await post(
        "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
        {"i": {"username": "sapa.citizen", "password": DEMO_PASSWORD, "tenantCode": "sa-pa"}},
        {},
    )
    who = {
        "anonymous": {"X-Paht-Tenant": "sa-pa"},
        "citizen": {"Authorization": f"Bearer {login['login']['accessToken']}"},
    }
    fields = await post("{ fields { id code } }", {}, who["anonymous"])
    field_id = next(f["id"] for f in fields["fields"] if f["code"] == "ve-sinh-attp")

    async def submit(kind: str) -> None:
        extra = {"contact": {"name": "An", "email": "an@example.vn"}} if kind == "anonymous" else {}
        variables = {"i": {"title": "Rác thải trước chợ", "description": "Rác để qua đêm.",
                           "fieldId": field_id, "latitude": SAPA_POINT[0],
                           "longitude": SAPA_POINT[1], "idempotencyKey": uuid.uuid4().hex,
                           **extra}}  # fmt: skip
        data = await post(SUBMIT, variables, who[kind])
        assert data["submitReport"]["errors"] == [], data

    logger = logging.getLogger("tortoise.db_client")
    print(f"{'who':<10} {'statements':>10} {'median ms':>10} {'min ms':>8} {'cpu ms':>7}")
    for kind in who:
        for _ in range(5):
            await submit(kind)  # warm: policies, the tenant catalog, the locator's index
        counter = _Counter()
        logger.setLevel(logging.DEBUG)
        logger.addHandler(counter)
        walls = []
        cpu0 = time.process_time()
        for _ in range(a.n):
            t0 = time.perf_counter()
            await submit(kind)
            walls.append((time.perf_counter() - t0) * 1000)
        cpu = (time.process_time() - cpu0) / a.n * 1000
        logger.removeHandler(counter)
        logger.setLevel(logging.WARNING)
        print(f"{kind:<10} {counter.n / a.n:>10.1f} {statistics.median(walls):>10.2f} "
              f"{min(walls):>8.2f} {cpu:>7.2f}")  # fmt: skip
    await http.aclose()
    await close_side_pool()
    await Tortoise.close_connections()
    drop_database(server, database)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=100, help="submissions per reporter")
    os.environ.setdefault("PAHT_JWT_SECRET", "x" * 40)
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
