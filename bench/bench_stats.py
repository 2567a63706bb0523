"""Benchmark (not a test): a tenant's monthly statistics at the API and the province comparison.

    .venv/bin/python bench/seed_paht.py --tenants 2 --reports 200000 --drop
    .venv/bin/python bench/seed_paht.py --add-supervisors
    .venv/bin/python -m bench.bench_stats [--runs 50]

Against the embedded bench database (.paht/bench, ``paht_bench``) or DATABASE_URL /
DATABASE_OWNER_URL. The seed's events mark every report for the statistics (the trigger of
migration 0016); the first step folds them (``stats.maintain.refresh_tenant``, timed: the
rebuild rate). Then, for the busiest month of the first bench tenant:

* ``statistics(period, groupBy: AGENCY)`` with ``previous`` and the stage times, posted to the
  real Starlette app in-process (httpx ASGITransport: JWT auth, Scope, RLS transaction, GraphQL),
  as its centre supervisor — p50 / p99 over ``--runs``;
* the documented ``ProvinceComparison`` (graphql/operations/province.graphql) for the same month
  over every bench tenant, and ``provinceStatistics`` with each tenant's stage times, posted
  the same way as a provincial administrator (``bench.province``, created here
  once) — p50 / p99; and through ``stats.queries.province_statistics`` with a provincial Scope
  (the service the resolver calls), to show what the API adds, and the service reading the day
  tables instead of the month roll-ups (``from_rollups=False``), interleaved.

The token's login session is written as the superuser of the embedded server
(``BENCH_SUPERUSER_URL`` otherwise). Prints the table sizes so the numbers can be scaled to 1,000,000 reports per tenant."""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import time
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from graphql import OperationDefinitionNode, parse, print_ast
from tortoise import Tortoise, connections

from api.app import create_app
from api.database import DatabaseUrls, migrate, start_embedded, tortoise_config
from api.services import Services
from api.settings import get_settings
from permissions.actions import Action
from permissions.scope import Reach, Scope
from permissions.session import scoped_transaction
from stats.maintain import refresh_tenant
from stats.queries import province_statistics
from stats.slicing import Period

QUERY = """query($p: PeriodInput!) { statistics(period: $p, groupBy: AGENCY) {
  total { received finished onTimeRate stageTimes { stage medianHours p90Hours } }
  groups { key figures { received finished onTimeRate } }
  previous { total { received onTimeRate } } } }"""

# The same answer with the stage times asked everywhere: the work every request did before they
# were read only when selected (stats/schema.py LazyStageTimes); interleaved with QUERY.
QUERY_ALL_TIMES = """query($p: PeriodInput!) { statistics(period: $p, groupBy: AGENCY) {
  total { received finished onTimeRate stageTimes { stage medianHours p90Hours } }
  groups { key figures { received finished onTimeRate stageTimes { stage medianHours } } }
  previous { total { received onTimeRate stageTimes { stage medianHours } } } } }"""

# What a province's comparison screen reads: each locality's headline figures and stage times.
PROVINCE_QUERY = """query($p: PeriodInput!) { provinceStatistics(period: $p) { tenantId
  figures { received finished onTimeRate openOverdue satisfiedShare rated
    stageTimes { stage medianHours p90Hours } } } }"""

_server: Any = None
ROOT = Path(__file__).resolve().parent.parent
SUPERUSER = f"postgresql://postgres@/paht_bench?host={ROOT / '.paht' / 'bench' / 'pgdata'}"


async def connect() -> DatabaseUrls:
    global _server
    if url := os.environ.get("DATABASE_URL"):
        urls = DatabaseUrls(app=url, owner=os.environ.get("DATABASE_OWNER_URL", url))
    else:
        _server, urls = start_embedded(Path(".paht/bench"), database="paht_bench")
    await migrate(urls.owner)
    await Tortoise.init(config=tortoise_config(urls.app, pool_max=5), _enable_global_fallback=True)
    return urls


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def show(name: str, samples: list[float]) -> None:
    print(
        f"{name:<44} p50 {pct(samples, 0.5) * 1000:7.1f} ms   p99 {pct(samples, 0.99) * 1000:7.1f}"
        f" ms   (n={len(samples)}, mean {statistics.mean(samples) * 1000:.1f} ms)"
    )


async def sizes(conn: Any) -> None:
    tables = ("report", "report_event", "stats_day", "stats_report", "stats_stage_time")
    for table in (*tables, "stats_month", "stats_stage_month"):
        rows = await conn.execute_query_dict(
            "SELECT reltuples::bigint AS n FROM pg_class WHERE relname = $1", [table]
        )
        print(f"  {table:<18} ~{rows[0]['n']:>12,} rows")


async def main(runs: int) -> None:
    urls = await connect()
    os.environ.setdefault("PAHT_JWT_SECRET", secrets.token_urlsafe(48))
    settings = get_settings()
    conn = connections.get("default")
    tenants = await conn.execute_query_dict(
        "SELECT id, code FROM tenant WHERE code LIKE 'bench-%' ORDER BY code"
    )
    if not tenants:
        raise SystemExit("no bench tenants: run bench/seed_paht.py first")
    for t in tenants:
        t0 = time.perf_counter()
        done = await refresh_tenant(t["id"], batch=2_000)
        took = time.perf_counter() - t0
        if done.reports:
            print(f"fold {t['code']}: {done.reports:,} reports in {took:.1f} s "
                  f"({done.reports / took:,.0f}/s)")  # fmt: skip
    await conn.execute_query(
        "ANALYZE stats_day, stats_report, stats_stage_time, stats_month, stats_stage_month"
    )
    await sizes(conn)
    first = tenants[0]["id"]
    # The busiest month of the first tenant (superuser-free: read in its own scope).
    async with scoped_transaction(Scope(None, first, frozenset({first}))) as c:
        row = await c.execute_query_dict(
            "SELECT date_trunc('month', day)::date AS m, sum(n) AS n FROM stats_day "
            "WHERE tenant_id = $1 AND flow = 'received' GROUP BY 1 ORDER BY 2 DESC LIMIT 1",
            [first],
        )
        supervisor = await c.execute_query_dict(
            "SELECT user_id FROM membership WHERE tenant_id = $1 AND role = 'centre_supervisor' "
            "AND active LIMIT 1",
            [first],
        )
    month: date = row[0]["m"]
    last = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    print(f"month {month:%Y-%m}: {int(row[0]['n']):,} received in {tenants[0]['code']}")
    if not supervisor:
        raise SystemExit("no centre supervisor: run bench/seed_paht.py --add-supervisors")
    token = await session_token(supervisor[0]["user_id"], first)
    app = create_app(settings, urls.app, manage_db=False)
    variables = {"p": {"first": str(month), "last": str(last)}}
    api: list[float] = []
    all_times: list[float] = []
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench"
    ) as http:
        headers = {"Authorization": f"Bearer {token}"}
        for i in range(runs + 3):
            for query, samples in ((QUERY, api), (QUERY_ALL_TIMES, all_times)):
                t0 = time.perf_counter()
                response = await http.post(
                    "/graphql", json={"query": query, "variables": variables}, headers=headers
                )
                took = time.perf_counter() - t0
                assert response.status_code == 200, response.text
                assert "errors" not in response.json(), response.text
                if i >= 3:  # warm-up
                    samples.append(took)
    total = response.json()["data"]["statistics"]["total"]
    print(f"  received {total['received']:,}, finished {total['finished']:,}")
    province = Scope(
        user_id=None,
        tenant_id=None,
        readable_tenant_ids=frozenset(t["id"] for t in tenants),
        reach={Action.STATS_VIEW.value: frozenset({Reach()})},
        provincial=True,
    )
    admin = await provincial_admin()
    documented = await post_many(
        app, admin, documented_operation("ProvinceComparison"), {"period": variables["p"]}, runs
    )
    province_api = await post_many(app, admin, PROVINCE_QUERY, variables, runs)
    for answer in (documented[1], province_api[1]):
        rows = answer["data"]["provinceStatistics"]
        assert len(rows) == len(tenants) and all(r["figures"]["received"] for r in rows), rows
    comparison: list[float] = []
    day_tables: list[float] = []  # the reference path the month roll-ups replace
    for i in range(runs + 3):
        for from_rollups, samples in ((True, comparison), (False, day_tables)):
            t0 = time.perf_counter()
            async with scoped_transaction(province):
                await province_statistics(province, Period(month, last), from_rollups=from_rollups)
            if i >= 3:
                samples.append(time.perf_counter() - t0)
    show("statistics(month, AGENCY) at the API", api)
    show("  the same, stage times asked everywhere", all_times)
    show(f"ProvinceComparison (documented), {len(tenants)} tenants", documented[0])
    show("provinceStatistics(month) with stage times", province_api[0])
    show("  the same, the service alone", comparison)
    show("  the service from the day tables", day_tables)
    await Tortoise.close_connections()


async def session_token(user_id: uuid.UUID, tenant_id: uuid.UUID | None) -> str:
    """A token with a live login session (sid), the session written as the superuser
    (auth_session is FORCE RLS)."""
    session_id = uuid.uuid4()
    su = await asyncpg.connect(os.environ.get("BENCH_SUPERUSER_URL", SUPERUSER))
    await su.execute(
        "INSERT INTO auth_session (id, user_id, tenant_id, created_at) VALUES ($1, $2, $3, now())",
        session_id, user_id, tenant_id,
    )  # fmt: skip
    await su.close()
    settings = get_settings()
    return Services.from_settings(settings).tokens.issue_access(user_id, tenant_id, session_id)[0]


async def provincial_admin() -> str:
    """A token of the provincial administrator ``bench.province`` (created on first use)."""
    from accounts.models import User
    from accounts.provincial import create_provincial_admin
    from accounts.service import NewUser
    from api.demo import SYSTEM_PROVINCE

    async with scoped_transaction(SYSTEM_PROVINCE):  # as `paht admins create` runs it
        user = await User.get_or_none(username="bench.province", default_tenant_id=None)
        if user is None:
            data = NewUser("bench.province", None, "Bench province", None)
            user = (await create_provincial_admin(SYSTEM_PROVINCE, data)).user
    return await session_token(user.id, None)


def documented_operation(name: str) -> str:
    """The operation ``name`` of graphql/operations/province.graphql, as a client sends it."""
    text = (ROOT / "graphql" / "operations" / "province.graphql").read_text(encoding="utf-8")
    document = parse(text)
    [operation] = [
        d
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode) and d.name and d.name.value == name
    ]
    return print_ast(operation)


async def post_many(
    app: Any,
    token: str,
    query: str,
    variables: dict[str, Any],
    runs: int,
) -> tuple[list[float], Any]:
    """``runs`` timed posts after 3 warm-ups; the last answer, checked for errors."""
    samples: list[float] = []
    body: Any = None
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://bench"
    ) as http:
        for i in range(runs + 3):
            t0 = time.perf_counter()
            response = await http.post(
                "/graphql",
                json={"query": query, "variables": variables},
                headers={"Authorization": f"Bearer {token}"},
            )
            took = time.perf_counter() - t0
            body = response.json()
            assert response.status_code == 200 and "errors" not in body, response.text
            if i >= 3:
                samples.append(took)
    return samples, body


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=50)
    asyncio.run(main(ap.parse_args().runs))
