#!/usr/bin/env python3
"""In-process profile of one benchmark operation: no HTTP, no wrk; the GraphQL schema executed
N times in a row with the seeded operator's Scope (RLS transaction included), under cProfile.

  cd /work/main && DATABASE_URL=asyncpg://paht_app@/paht_bench?host=$PWD/.paht/bench/pgdata \
    .venv/bin/python bench/profile_ops.py --op a_list -n 300
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import random
import sys
import time
from pathlib import Path

import asyncpg

HERE = Path(__file__).resolve().parent
sys.path.insert(0, os.getcwd())


async def run(a) -> None:
    from strawberry.relay import to_base64
    from tortoise import Tortoise

    from api.database import tortoise_config
    from api.schema import schema
    from api.services import Services
    from api.settings import get_settings
    from core.graphql import Context
    from permissions.store import store

    url = os.environ["DATABASE_URL"]
    su = await asyncpg.connect(url.replace("asyncpg://paht_app", "postgresql://postgres", 1))
    row = await su.fetchrow(
        "SELECT t.id, m.user_id FROM tenant t JOIN membership m ON m.tenant_id = t.id"
        " AND m.role = $1 WHERE t.code = 'bench-007'",
        "centre_supervisor" if a.op == "c_dashboard" else "intake_operator",
    )
    ids = [
        r["id"]
        for r in await su.fetch(
            "SELECT id FROM report TABLESAMPLE SYSTEM (2) WHERE tenant_id = $1 LIMIT 200", row["id"]
        )
    ]
    fields = [
        r["id"] for r in await su.fetch("SELECT id FROM field WHERE tenant_id = $1", row["id"])
    ]
    await su.close()
    await Tortoise.init(config=tortoise_config(url, pool_max=4), _enable_global_fallback=True)
    services = Services.from_settings(get_settings())
    doc = (HERE / "ops" / f"{a.op}.graphql").read_text()

    def variables():
        if a.op == "a_list":
            return {"states": [random.choice(["SUBMITTED", "IN_PROGRESS", "CLOSED", "RESOLVED"])]}
        if a.op == "b_detail":
            return {"id": to_base64("Report", str(random.choice(ids)))}
        if a.op == "d_create":
            return {
                "input": {
                    "title": "Ổ gà trên đường Fansipan",
                    "description": "benchmark",
                    "fieldId": to_base64("Field", str(random.choice(fields))),
                    "latitude": 22.33,
                    "longitude": 103.84,
                    "onBehalf": True,
                }
            }
        return {}

    async def once():
        scope = await store.scope_for(row["user_id"], row["id"])
        ctx = Context(scope=scope, lang="vi", request=None, services=services)
        res = await schema.execute(doc, variable_values=variables(), context_value=ctx)
        assert not res.errors, res.errors

    for _ in range(20):
        await once()
    t0 = time.perf_counter()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(a.n):
        await once()
    prof.disable()
    per = (time.perf_counter() - t0) / a.n * 1000
    print(f"{a.op}: {per:.2f} ms per operation under cProfile ({a.n} runs, sequential)")
    t0 = time.perf_counter()
    for _ in range(a.n):
        await once()
    print(
        f"{a.op}: {(time.perf_counter() - t0) / a.n * 1000:.2f} ms per operation without profiler"
    )
    st = pstats.Stats(prof)
    st.sort_stats(a.sort).print_stats(a.top)
    await Tortoise.close_connections()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--op", default="a_list")
    ap.add_argument("-n", type=int, default=300)
    ap.add_argument("--top", type=int, default=30)
    ap.add_argument("--sort", default="tottime")
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
