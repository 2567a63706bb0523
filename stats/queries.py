"""A period's figures from the statistics tables, narrowed by the caller's ``stats:view`` reach
(an agency leader sees the reports its agency leads; the centre sees all).

Flows are one grouped sum over ``stats_day``; balances read the spans of the reports open at
either end of the period (a GiST range on ``stats_report.open_during``), never the reports."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from tortoise import connections

from core.errors import DomainError, PermissionDenied
from core.labels import Labelled
from permissions.actions import Action
from permissions.scope import Scope
from reports.records import tenant_rules
from stats.fold import Span, standing_just_before
from stats.indicators import Figures, Standing, merge

MAX_DAYS = 366


class GroupBy(Labelled):
    FIELD = "field", "Lĩnh vực", "Field"
    AGENCY = "agency", "Cơ quan chủ trì", "Lead agency"
    UNIT = "unit", "Đơn vị hành chính", "Administrative unit"
    URGENCY = "urgency", "Mức độ", "Urgency"


_COLUMN = {
    GroupBy.FIELD: "field_id",
    GroupBy.AGENCY: "agency_id",
    GroupBy.UNIT: "unit_code",
    GroupBy.URGENCY: "urgency",
}


@dataclass(frozen=True)
class Period:
    """Local dates of the tenant, both included."""

    first: date
    last: date

    def check(self) -> None:
        if self.last < self.first or (self.last - self.first).days >= MAX_DAYS:
            raise DomainError(
                "INVALID_PERIOD",
                f"Kỳ báo cáo phải có ngày đầu trước ngày cuối và dài tối đa {MAX_DAYS} ngày.",
                f"The period must start before it ends and last at most {MAX_DAYS} days.",
                "period",
            )


@dataclass(frozen=True)
class Statistics:
    total: Figures
    groups: list[tuple[Any, Figures]]


def _reach_sql(scope: Scope, params: list[Any]) -> str:
    reaches = scope.reach.get(Action.STATS_VIEW.value, frozenset())
    if any(r.unlimited for r in reaches):
        return ""
    terms = []
    for r in reaches:
        parts = []
        if r.agency_id is not None:
            params.append(r.agency_id)
            parts.append(f"agency_id = ${len(params)}")
        if r.field_id is not None:
            params.append(r.field_id)
            parts.append(f"field_id = ${len(params)}")
        terms.append("(" + " AND ".join(parts) + ")")
    return " AND (" + (" OR ".join(terms) or "false") + ")"


async def tenant_statistics(
    scope: Scope, tenant_id: uuid.UUID, period: Period, group_by: GroupBy | None = None
) -> Statistics:
    """The figures of ``period`` in one tenant, in total and per group."""
    scope.require(Action.STATS_VIEW)
    period.check()
    tz = (await tenant_rules(tenant_id)).calendar.timezone
    start = datetime.combine(period.first, time(), tz)
    end = datetime.combine(period.last + timedelta(days=1), time(), tz)
    column = _COLUMN[group_by] if group_by else "NULL::text"
    conn = connections.get("default")
    params: list[Any] = [tenant_id, period.first, period.last + timedelta(days=1)]
    reach = _reach_sql(scope, params)
    rows = await conn.execute_query_dict(
        f"SELECT {column} AS g, flow, detail, sum(n)::bigint AS n FROM stats_day "
        f"WHERE tenant_id = $1 AND day >= $2 AND day < $3{reach} GROUP BY 1, 2, 3",
        params,
    )
    params = [tenant_id, start, end]
    reach = _reach_sql(scope, params)
    spans = await conn.execute_query_dict(
        f"SELECT {column} AS g, spans FROM stats_report WHERE tenant_id = $1 "
        f"AND open_during && tstzrange($2, $3, '[]'){reach}",
        params,
    )
    flows: dict[Any, dict[tuple[str, str], int]] = defaultdict(dict)
    for row in rows:
        flows[row["g"]][row["flow"], row["detail"]] = int(row["n"])
    carried: dict[Any, int] = defaultdict(int)
    standing: dict[Any, dict[Standing, int]] = defaultdict(lambda: defaultdict(int))
    for row in spans:
        raw = row["spans"]
        parsed = [Span.from_json(s) for s in (json.loads(raw) if isinstance(raw, str) else raw)]
        if standing_just_before(parsed, start) is not None:
            carried[row["g"]] += 1
        if (at_end := standing_just_before(parsed, end)) is not None:
            standing[row["g"]][at_end] += 1
    keys = sorted(set(flows) | set(carried) | set(standing), key=str)
    groups = [(k, Figures(flows[k], carried[k], dict(standing[k]))) for k in keys]
    return Statistics(merge([f for _, f in groups]), groups if group_by else [])


async def province_statistics(scope: Scope, period: Period) -> list[tuple[uuid.UUID, Figures]]:
    """Each readable tenant's figures side by side: provincial administrators only (the audited
    cross-tenant path; RLS reads ``app.tenant_ids``)."""
    if not scope.provincial:
        raise PermissionDenied(Action.STATS_VIEW)
    return [
        (t, (await tenant_statistics(scope, t, period)).total)
        for t in sorted(scope.readable_tenant_ids)
    ]


@dataclass(frozen=True)
class Ranked:
    agency_id: uuid.UUID | None
    figures: Figures
    rank: int | None  # None: fewer than the minimum of finished reports (listed, not ranked)


def rank_agencies(stats: Statistics, minimum: int) -> list[Ranked]:
    """Agencies by on-time rate (then volume); below ``minimum`` finished reports: unranked."""
    ranked = sorted(
        (g for g in stats.groups if g[1].finished >= minimum and g[1].on_time_rate is not None),
        key=lambda g: (-(g[1].on_time_rate or 0), -g[1].finished),
    )
    out = [Ranked(a, f, i + 1) for i, (a, f) in enumerate(ranked)]
    seen = {a for a, _ in ranked}
    out += [Ranked(a, f, None) for a, f in stats.groups if a not in seen]
    return out
