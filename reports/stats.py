"""Dashboard numbers from the trigger-maintained ``report_count`` table (migration 0004).

The caller's ``stats:view`` reach narrows the counts like lists are narrowed: an agency leader
sees the counts of its agency."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from functools import reduce
from operator import or_

from tortoise import connections

from core import clock
from core.errors import PermissionDenied
from permissions.actions import Action
from permissions.scope import Scope
from reports.models import Report
from reports.queries import reach_condition
from reports.workflow import OPEN_STATES, ReportState


@dataclass(frozen=True)
class StateCount:
    state: ReportState
    count: int


@dataclass(frozen=True)
class FieldCount:
    field_id: uuid.UUID
    count: int
    open: int


@dataclass(frozen=True)
class ReportStats:
    total: int
    open: int
    overdue: int
    by_state: list[StateCount]
    by_field: list[FieldCount]


async def report_stats(scope: Scope) -> ReportStats:
    tenant_id = scope.require_tenant()
    scope.require(Action.STATS_VIEW)
    reaches = scope.reach[Action.STATS_VIEW.value]
    conn = connections.get("default")
    rows = await conn.execute_query_dict(
        "SELECT field_id, agency_id, state, n FROM report_count WHERE tenant_id = $1 AND n > 0",
        [tenant_id],
    )
    rows = [r for r in rows if any(x.covers(r["agency_id"], r["field_id"]) for x in reaches)]
    by_state: dict[str, int] = defaultdict(int)
    by_field: dict[uuid.UUID, list[int]] = defaultdict(lambda: [0, 0])
    open_states = {s.value for s in OPEN_STATES}
    for row in rows:
        by_state[row["state"]] += row["n"]
        by_field[row["field_id"]][0] += row["n"]
        if row["state"] in open_states:
            by_field[row["field_id"]][1] += row["n"]
    overdue = await _overdue(scope, tenant_id)
    return ReportStats(
        total=sum(by_state.values()),
        open=sum(n for s, n in by_state.items() if s in open_states),
        overdue=overdue,
        by_state=[StateCount(ReportState(s), n) for s, n in sorted(by_state.items())],
        # Most reports first, then by id: the same answer whatever order the rows come in.
        by_field=[
            FieldCount(f, n, o)
            for f, (n, o) in sorted(by_field.items(), key=lambda kv: (-kv[1][0], str(kv[0])))
        ],
    )


async def _overdue(scope: Scope, tenant_id: uuid.UUID) -> int:
    """Open reports past their running deadline: a range on the partial due index."""
    reaches = scope.reach[Action.STATS_VIEW.value]
    query = Report.filter(tenant_id=tenant_id, due_at__lt=clock.now())
    if not any(r.unlimited for r in reaches):
        query = query.filter(reduce(or_, (reach_condition(r) for r in reaches)))
    return await query.count()


@dataclass(frozen=True)
class TenantStats:
    tenant_id: uuid.UUID
    total: int
    open: int
    overdue: int
    by_state: list[StateCount]


async def province_stats(scope: Scope) -> list[TenantStats]:
    """Every readable tenant side by side, for provincial administrators.

    This is the audited cross-tenant read path: the request's transaction lists the tenants in
    ``app.tenant_ids`` (RLS), and each query also names them."""
    if not scope.provincial:
        raise PermissionDenied(Action.STATS_VIEW)
    scope.require(Action.STATS_VIEW)
    tenants = sorted(scope.readable_tenant_ids)
    conn = connections.get("default")
    counts = await conn.execute_query_dict(
        "SELECT tenant_id, state, sum(n)::bigint AS n FROM report_count "
        "WHERE tenant_id = ANY($1::uuid[]) GROUP BY tenant_id, state",
        [tenants],
    )
    overdue = await conn.execute_query_dict(
        "SELECT tenant_id, count(*) AS n FROM report "
        "WHERE tenant_id = ANY($1::uuid[]) AND due_at < $2 GROUP BY tenant_id",
        [tenants, clock.now()],
    )
    open_states = {s.value for s in OPEN_STATES}
    per_tenant: dict[uuid.UUID, dict[str, int]] = defaultdict(dict)
    for row in counts:
        if row["n"]:
            per_tenant[row["tenant_id"]][row["state"]] = int(row["n"])
    late = {row["tenant_id"]: int(row["n"]) for row in overdue}
    return [
        TenantStats(
            tenant_id=tenant_id,
            total=sum(per_tenant[tenant_id].values()),
            open=sum(n for s, n in per_tenant[tenant_id].items() if s in open_states),
            overdue=late.get(tenant_id, 0),
            by_state=[
                StateCount(ReportState(s), n) for s, n in sorted(per_tenant[tenant_id].items())
            ],
        )
        for tenant_id in tenants
    ]
