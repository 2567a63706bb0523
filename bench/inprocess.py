#!/usr/bin/env python3
"""CPU per request, in process: the whole ASGI app (token, context, GraphQL, JSON) driven by
httpx.ASGITransport, N requests in a row, measured with time.process_time (CPU of this process,
PostgreSQL's excluded), compiled operations off and on. Not a throughput benchmark: it holds on
a busy box, where wall-clock numbers do not.

  .venv/bin/python bench/inprocess.py -n 300            # embedded PostgreSQL, demo data
  .venv/bin/python bench/inprocess.py --profile a_list  # cProfile of the compiled path
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))


async def run(a: argparse.Namespace) -> None:
    import httpx
    from strawberry.relay import to_base64
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
    from permissions.session import tenant_transaction
    from reports.models import Report
    from tenants.models import Tenant

    server, _ = start_embedded(ROOT / ".paht" / "inprocess")
    database = "paht_inprocess"
    drop_database(server, database)
    ensure_roles_and_database(server, database)
    host = Path(server.pgdata).resolve()  # noqa: ASYNC240 - once, at start-up
    app_url = f"asyncpg://paht_app@/{database}?host={host}"
    await migrate(f"asyncpg://paht_owner@/{database}?host={host}")
    await Tortoise.init(config=tortoise_config(app_url, pool_max=4), _enable_global_fallback=True)
    await open_side_pool(app_url)
    await load_demo()
    sapa = await Tenant.get(code="sa-pa")
    async with tenant_transaction(sapa.id):
        report = await Report.filter(tenant_id=sapa.id).first()
    assert report is not None
    ops = {p.stem: p.read_text() for p in sorted((HERE / "ops").glob("*.graphql"))}
    variables = {
        "a_list": {"states": None},
        "b_detail": {"id": to_base64("Report", str(report.id))},
        "c_dashboard": {},
    }
    settings = Settings(jwt_secret="x" * 40, data_dir=ROOT / ".paht" / "inprocess", debug=False,
                        jobs_interval_seconds=0)  # fmt: skip
    clients: dict[bool, tuple[Any, dict[str, str]]] = {}
    for compiled in (False, True):
        app = create_app(
            settings.model_copy(update={"compiled_operations": compiled}), app_url, manage_db=False
        )
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x")
        login = await http.post(
            "/graphql",
            json={
                "query": "mutation($i: LoginInput!) { login(input: $i) { accessToken } }",
                "variables": {
                    "i": {
                        "username": "sapa.centre-supervisor",
                        "password": DEMO_PASSWORD,
                        "tenantCode": "sa-pa",
                    }
                },
            },
        )
        token = login.json()["data"]["login"]["accessToken"]
        clients[compiled] = (http, {"Authorization": f"Bearer {token}"})
    best: dict[tuple[str, bool], float] = {}
    for _ in range(a.rounds):  # interleaved; the minimum of the rounds is the least disturbed
        for compiled, (http, headers) in clients.items():
            for op in ("a_list", "b_detail", "c_dashboard"):
                body = {"query": ops[op], "variables": variables[op]}

                async def once(body: Any = body, http: Any = http, headers: Any = headers) -> None:
                    r = await http.post("/graphql", json=body, headers=headers)
                    assert r.status_code == 200 and "errors" not in r.json(), r.text

                for _ in range(20):
                    await once()
                profile = cProfile.Profile() if a.profile == op and compiled else None
                t0 = time.process_time()
                if profile:
                    profile.enable()
                for _ in range(a.n):
                    await once()
                if profile:
                    profile.disable()
                    pstats.Stats(profile).sort_stats("tottime").print_stats(25)
                per = (time.process_time() - t0) / a.n * 1000
                best[(op, compiled)] = min(per, best.get((op, compiled), per))
    print(f"CPU ms per request, min of {a.rounds} interleaved rounds of {a.n}")
    print(f"{'op':<12} {'strawberry':>10} {'compiled':>9}")
    for op in ("a_list", "b_detail", "c_dashboard"):
        print(f"{op:<12} {best[(op, False)]:>10.2f} {best[(op, True)]:>9.2f}")
    for http, _ in clients.values():
        await http.aclose()
    await close_side_pool()
    await Tortoise.close_connections()
    drop_database(server, database)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--profile", default="")
    os.environ.setdefault("PAHT_JWT_SECRET", "x" * 40)
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
