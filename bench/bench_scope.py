"""Benchmark: a tenant with 10,000 casbin policies — loading it, building Scopes, authorising.

    cd /work/main && .venv/bin/python -m bench.bench_scope

Runs against DATABASE_URL (application role) / DATABASE_OWNER_URL (migrations) when set,
otherwise against an embedded PostgreSQL in .paht/bench. Every run onboards a fresh tenant
(code ``bench-…``) with its agencies, fields, users and rules, and leaves it there."""

from __future__ import annotations

import asyncio
import os
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tortoise import Tortoise

from accounts.models import User
from api.database import DatabaseUrls, migrate, start_embedded, tortoise_config
from permissions.actions import Action
from permissions.models import CasbinRule
from permissions.session import tenant_transaction
from permissions.store import ANY, PolicyStore, _fetch_tenant_rules
from tenants.models import Agency, Field, Tenant

SEED = 20260101
N_AGENCIES = 40
N_FIELDS = 20
N_ROLES = 100
RULES_PER_ROLE = 70  # 7,000 p rules
ROLE_LINKS = 50  # g rows role → role
GRANTS_PER_USER = 2
N_USERS = 1_475  # 2,950 g rows user → role; 10,000 rules in all
RUNS = 1_000
LOAD_RUNS = 20
REPORTS = 20
ACTIONS = [a.value for a in Action if a is not Action.TENANT_ONBOARD]

_server: Any = None  # keeps the embedded PostgreSQL alive for the run


async def connect() -> None:
    global _server
    if url := os.environ.get("DATABASE_URL"):
        urls = DatabaseUrls(app=url, owner=os.environ.get("DATABASE_OWNER_URL", url))
        where = "DATABASE_URL"
    else:
        _server, urls = start_embedded(Path(".paht/bench"))
        where = "embedded PostgreSQL in .paht/bench"
    await migrate(urls.owner)
    await Tortoise.init(config=tortoise_config(urls.app, pool_max=5), _enable_global_fallback=True)
    print(f"database: {where}")


def make_rules(
    rng: random.Random, tenant: str, agencies: list[str], fields: list[str], users: list[str]
) -> list[CasbinRule]:
    tenant_id = uuid.UUID(tenant)
    roles = [f"bench_role_{i:03d}" for i in range(N_ROLES)]
    rules: list[CasbinRule] = []
    for role in roles:
        seen: set[tuple[str, str, str]] = set()
        while len(seen) < RULES_PER_ROLE:
            # most rules say "any field / any agency", as the templates do; some are narrowed
            field = rng.choice(fields) if rng.random() < 0.3 else ANY
            agency = rng.choice(agencies) if rng.random() < 0.3 else ANY
            seen.add((field, agency, rng.choice(ACTIONS)))
        rules += [
            CasbinRule(tenant_id=tenant_id, ptype="p", v0=role, v1=tenant, v2=f, v3=a, v4=act)
            for f, a, act in sorted(seen)
        ]
    links: set[tuple[str, str]] = set()
    while len(links) < ROLE_LINKS:
        child, parent = sorted(rng.sample(range(N_ROLES), 2), reverse=True)
        links.add((roles[child], roles[parent]))  # parents have lower numbers: no cycles
    rules += [
        CasbinRule(tenant_id=tenant_id, ptype="g", v0=child, v1=parent, v2=tenant)
        for child, parent in sorted(links)
    ]
    for user in users:
        for role in rng.sample(roles, GRANTS_PER_USER):
            narrowing = rng.random()
            agency = rng.choice(agencies) if narrowing < 0.4 else ANY
            field = rng.choice(fields) if 0.3 <= narrowing < 0.6 else ANY
            rules.append(
                CasbinRule(
                    tenant_id=tenant_id, ptype="g", v0=user, v1=role, v2=tenant, v3=agency, v4=field
                )
            )
    return rules


async def create_tenant(rng: random.Random) -> tuple[uuid.UUID, list[uuid.UUID], list, list]:
    tenant_id = uuid.uuid4()
    code = f"bench-{tenant_id.hex[:8]}"
    async with tenant_transaction(tenant_id):
        await Tenant.create(
            id=tenant_id, code=code, report_prefix="BN", name_vi="Bench", name_en="Bench"
        )
        agencies = [
            Agency(tenant_id=tenant_id, code=f"a{i:02d}", name_vi=f"CQ {i}", name_en=f"A {i}")
            for i in range(N_AGENCIES)
        ]
        fields = [
            Field(tenant_id=tenant_id, code=f"f{i:02d}", name_vi=f"LV {i}", name_en=f"F {i}")
            for i in range(N_FIELDS)
        ]
        await Agency.bulk_create(agencies)
        await Field.bulk_create(fields)
        users = [
            User(username=f"{code}-u{i:04d}", full_name="Bench", default_tenant_id=tenant_id)
            for i in range(N_USERS)
        ]
        await User.bulk_create(users, batch_size=1_000)
        rules = make_rules(
            rng,
            str(tenant_id),
            [str(a.id) for a in agencies],
            [str(f.id) for f in fields],
            [str(u.id) for u in users],
        )
        await CasbinRule.bulk_create(rules, batch_size=1_000)
        count = await CasbinRule.filter(tenant_id=tenant_id).count()
    p_count = sum(r.ptype == "p" for r in rules)
    print(
        f"tenant {code}: {count:,} rules in the database "
        f"({p_count:,} p over {N_ROLES} roles, {count - p_count:,} g: {ROLE_LINKS} role links "
        f"+ {N_USERS:,} users × {GRANTS_PER_USER} grants), {N_AGENCIES} agencies, "
        f"{N_FIELDS} fields"
    )
    return tenant_id, [u.id for u in users], [a.id for a in agencies], [f.id for f in fields]


async def mean_us(runs: int, work: Callable[[int], Awaitable[Any] | Any]) -> float:
    """Mean wall time of ``work(i)`` in µs (awaited when it returns an awaitable)."""
    samples = []
    for i in range(runs):
        started = time.perf_counter_ns()
        result = work(i)
        if asyncio.iscoroutine(result):
            await result
        samples.append(time.perf_counter_ns() - started)
    return statistics.fmean(samples) / 1_000


def line(label: str, value: float, unit: str = "µs") -> None:
    print(f"  {label:<62} {value:>10,.1f} {unit}")


async def main() -> None:
    rng = random.Random(SEED)
    await connect()
    tenant_id, users, agencies, fields = await create_tenant(rng)
    store = PolicyStore()

    # 1. loading the tenant's policy: fetch on its own connection, enforcer, indexes
    async def load(_: int) -> None:
        store.invalidate(tenant_id)
        await store.policy(tenant_id)

    await load(0)  # warm the connection pool
    print(f"load the tenant policy (mean of {LOAD_RUNS})")
    line(
        "PolicyStore.policy(tenant), cache invalidated", await mean_us(LOAD_RUNS, load) / 1000, "ms"
    )

    fetch = await mean_us(LOAD_RUNS, lambda _: _fetch_tenant_rules(tenant_id)) / 1000
    line("  of which reading the 10,000 rows (_fetch_tenant_rules)", fetch, "ms")

    policy = await store.policy(tenant_id)
    sample = [str(users[rng.randrange(len(users))]) for _ in range(RUNS)]
    print(f"build a Scope for a user (mean of {RUNS:,})")
    line(
        "TenantPolicy.compile(user), cold (no cache involved)",
        await mean_us(RUNS, lambda i: policy.compile(sample[i])),
    )

    def clear_scopes() -> None:
        store._scopes.clear()  # the Scope cache only; the tenant policy stays loaded

    async def cold_scope(i: int) -> None:
        clear_scopes()
        await store.scope_for(uuid.UUID(sample[i]), tenant_id)

    line("PolicyStore.scope_for, Scope cache cleared before each", await mean_us(RUNS, cold_scope))
    user = uuid.UUID(sample[0])
    await store.scope_for(user, tenant_id)
    line(
        "PolicyStore.scope_for, warm (cached Scope)",
        await mean_us(RUNS, lambda _: store.scope_for(user, tenant_id)),
    )

    # 3. authorising a list of 20 reports against one Scope
    scopes = [await store.scope_for(uuid.UUID(u), tenant_id) for u in sample[:50]]
    scope = max(scopes, key=lambda s: sum(len(r) for r in s.reach.values()))
    lists = [
        [(rng.choice(ACTIONS), rng.choice(agencies), rng.choice(fields)) for _ in range(REPORTS)]
        for _ in range(RUNS)
    ]
    allowed = 0

    def authorise(i: int) -> None:
        nonlocal allowed
        allowed += sum(scope.allows_on(act, agency, field) for act, agency, field in lists[i])

    reaches = sum(len(r) for r in scope.reach.values())
    print(
        f"authorise {REPORTS} reports (mean of {RUNS:,}; the busiest of 50 scopes: "
        f"{len(scope.roles)} roles, {len(scope.reach)} actions, {reaches} reaches)"
    )
    line(
        f"{REPORTS} × Scope.allows_on(random action, agency, field)", await mean_us(RUNS, authorise)
    )
    print(f"  ({allowed:,} of {RUNS * REPORTS:,} checks allowed)")
    await Tortoise.close_connections()


if __name__ == "__main__":
    asyncio.run(main())
