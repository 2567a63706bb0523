"""A period's figures from the statistics tables, narrowed by the caller's ``stats:view`` reach
(an agency leader sees the reports its agency leads; the centre sees all).

Flows are one grouped sum over ``stats_day``; balances are the fold's midnight standings of the
period's boundary days (``Flow.OPEN_AT``), or for a boundary still ahead the spans of the
reports open now; never the reports. Whole months are read from the month roll-ups where they
answer exactly (``stats.rollup``); ``from_rollups=False`` reads the day tables, their
reference."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from tortoise import connections

from core import clock
from core.errors import NotFound, PermissionDenied
from core.glossary import Term
from permissions.actions import Action
from permissions.scope import Scope
from reports.records import tenant_rules, tenant_time_zones
from stats.fold import Span, standing_just_before
from stats.indicators import MEDIAN, P90, Figures, Flow, StageTime, Standing, merge
from stats.rollup import DAY_TABLES, Source, source_for
from stats.slicing import EVERYTHING, GROUP_COLUMN, GroupBy, Period, Slice
from tenants.sla import Stage
from tenants.units import UnitHistory

# A time breakdown: each group is a sub-period (the period cut at the grain's starts, local
# dates), with its own carried over and open at the end; its key is its first day.
_GRAIN = {
    GroupBy.DAY: "day",
    GroupBy.WEEK: "week",
    GroupBy.MONTH: "month",
    GroupBy.QUARTER: "quarter",
}


def _midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tz)


@dataclass(frozen=True)
class Statistics:
    total: Figures
    groups: list[tuple[Any, Figures]]


def _where(scope: Scope | None, slice_: Slice, params: list[Any]) -> str:
    """The caller's ``stats:view`` reach and the slice asked for, as SQL conditions."""
    return _reach_sql(scope, params) + slice_.sql(params)


def _reach_sql(scope: Scope | None, params: list[Any]) -> str:
    """The caller's ``stats:view`` reach as SQL; None: the whole tenant (public totals)."""
    if scope is None:
        return ""
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
    scope: Scope,
    tenant_id: uuid.UUID,
    period: Period,
    group_by: GroupBy | None = None,
    slice_: Slice = EVERYTHING,
    *,
    with_stage_times: bool = True,
    from_rollups: bool = True,
) -> Statistics:
    """The figures of ``period`` in one tenant, in total and per group, of the reports in
    ``slice_`` within the caller's reach. ``with_stage_times=False`` leaves the stage times
    out (the costliest part: a sort of the period's runs) for a caller that reads them only
    when asked, through :func:`stage_times`."""
    scope.require(Action.STATS_VIEW)
    source = source_for(scope, period, group_by, slice_) if from_rollups else DAY_TABLES
    tz = (await tenant_rules(tenant_id)).calendar.timezone
    return await _figures(
        scope, (tenant_id,), tz, period, group_by, slice_, with_stage_times, source
    )


StageTimes = dict[Stage, StageTime]


async def stage_times(
    scope: Scope,
    tenant_id: uuid.UUID,
    period: Period,
    group_by: GroupBy | None,
    slice_: Slice,
    grouped: bool,
    *,
    from_rollups: bool = True,
) -> tuple[dict[Any, StageTimes], StageTimes]:
    """The stage times :func:`tenant_statistics` leaves out on request: per group (only when
    ``grouped``, keyed like its groups) and for the whole."""
    scope.require(Action.STATS_VIEW)
    period.check()
    source = source_for(scope, period, group_by, slice_) if from_rollups else DAY_TABLES
    column = await _group_column(group_by)
    params: list[Any] = [[tenant_id], period.first, period.last + timedelta(days=1)]
    reach = _where(scope, slice_, params)
    return await _stage_times(column, params, reach, grouped and group_by is not None, source)


async def _group_column(group_by: GroupBy | None) -> str:
    grain = _GRAIN.get(group_by) if group_by else None
    if grain:
        return f"greatest(date_trunc('{grain}', day)::date, $2::date)"
    if group_by is GroupBy.UNIT_TODAY:
        return await _today_unit_column()
    return GROUP_COLUMN[group_by] if group_by else "NULL::text"


# Grouping by tenant: the province's comparison, every tenant in one pass (the same reads a
# single tenant's statistics make, each grouped by tenant instead of run once per tenant).
BY_TENANT = "tenant_id"


async def _figures(
    scope: Scope | None,
    tenant_ids: tuple[uuid.UUID, ...],
    tz: ZoneInfo,
    period: Period,
    group_by: GroupBy | None,
    slice_: Slice,
    with_stage_times: bool,
    source: Source,
    *,
    by_tenant: bool = False,
) -> Statistics:
    """The figures of ``period`` over ``tenant_ids`` (tenants of one time zone) read from
    ``source``, per group of ``group_by`` — or, ``by_tenant``, per tenant (keyed by its id;
    the whole then has no stage times: percentiles across tenants are asked of no one)."""
    period.check()
    grain = _GRAIN.get(group_by) if group_by else None
    column = BY_TENANT if by_tenant else await _group_column(group_by)
    grouped = by_tenant or group_by is not None
    conn = connections.get("default")
    params: list[Any] = [list(tenant_ids), period.first, period.last + timedelta(days=1)]
    reach = _where(scope, slice_, params)
    flow_params = list(params)
    by = source.flows_sql(flow_params)
    rows = await conn.execute_query_dict(
        f"SELECT {column} AS g, flow, detail, sum(n)::bigint AS n FROM {source.flows} "
        f"WHERE tenant_id = ANY($1::uuid[]) AND day >= $2 AND day < $3 "
        f"AND flow <> '{Flow.OPEN_AT.value}'{reach}{by} GROUP BY 1, 2, 3 HAVING sum(n) <> 0",
        flow_params,
    )
    times: dict[Any, StageTimes] = {}
    total_times: StageTimes = {}
    if with_stage_times:
        times, total_times = await _stage_times(
            column, params, reach, grouped, source, whole=not by_tenant
        )
    flows: dict[Any, dict[tuple[str, str], int]] = defaultdict(dict)
    for row in rows:
        flows[row["g"]][row["flow"], row["detail"]] = int(row["n"])
    if grain and group_by:
        starts = period.starts(group_by)
        days = [*starts, period.last + timedelta(days=1)]
    else:
        starts, days = [], [period.first, period.last + timedelta(days=1)]
    # Each boundary day's balance: reports open just before its midnight, by standing.
    at_bound = await _balances(
        scope, slice_, tenant_ids, days, tz, None if grain else column, source
    )
    carried: dict[Any, int] = defaultdict(int)
    standing: dict[Any, dict[Standing, int]] = defaultdict(lambda: defaultdict(int))
    for (i, g), counts in at_bound.items():
        if i < len(days) - 1:  # carried into the (sub-)period starting there
            carried[starts[i] if grain else g] += sum(counts.values())
        if i > 0:  # open at the end of the (sub-)period ending there
            key = starts[i - 1] if grain else g
            for at, n in counts.items():
                standing[key][at] += n
    if grain:
        keys: list[Any] = starts
    else:
        keys = sorted(set(flows) | set(carried) | set(standing) | set(times), key=str)
    groups = [(k, Figures(flows[k], carried[k], dict(standing[k]), times.get(k, {}))) for k in keys]
    if grain:  # the period's balances are those of its first and last sub-periods
        parts = [Figures(f.flows) for _, f in groups]
        total = merge(parts, total_times)
        first, last = groups[0][1], groups[-1][1]
        total = Figures(total.flows, first.carried_over, last.open_at_end, total.stage_times)
    else:
        total = merge([f for _, f in groups], total_times)
    return Statistics(total, groups if grouped else [])


async def _today_unit_column() -> str:
    """The report's unit (``unit_code``, the unit of its time) mapped onto today's units by the
    one rule (``tenants.units.UnitHistory.today_keys``), as a literal map: unit codes are five
    digits (checked wherever the registry is written), the keys are made of them."""
    keys = (await UnitHistory.load()).today_keys(clock.now())
    if not keys:
        return "unit_code"
    literal = json.dumps(keys, sort_keys=True).replace("'", "''")
    return f"coalesce('{literal}'::jsonb ->> unit_code, unit_code)"


async def _balances(
    scope: Scope | None,
    slice_: Slice,
    tenant_ids: tuple[uuid.UUID, ...],
    days: list[date],
    tz: ZoneInfo,
    column: str | None,
    source: Source,
) -> dict[tuple[int, Any], dict[Standing, int]]:
    """For each boundary ``days[i]``, per group: the reports being handled just before its
    local midnight, by standing. Midnights already passed are the fold's ``Flow.OPEN_AT`` rows
    (one grouped read of ``stats_day``); one still ahead is projected from the spans of the
    reports open now, as they stand if nothing happens before it."""
    now = clock.now()
    past = [d for d in days if _midnight(d, tz) <= now]
    ahead = [d for d in days if _midnight(d, tz) > now]
    index = {d: i for i, d in enumerate(days)}
    group = column or "NULL::text"
    out: dict[tuple[int, Any], dict[Standing, int]] = defaultdict(lambda: defaultdict(int))
    conn = connections.get("default")
    if past:
        params: list[Any] = [list(tenant_ids), past]
        reach = _where(scope, slice_, params) + source.flows_sql(params)
        for row in await conn.execute_query_dict(
            f"SELECT {group} AS g, day, detail, sum(n)::bigint AS n FROM {source.flows} "
            f"WHERE tenant_id = ANY($1::uuid[]) AND day = ANY($2::date[]) "
            f"AND flow = '{Flow.OPEN_AT.value}'"
            f"{reach} GROUP BY 1, 2, 3",
            params,
        ):
            if row["n"]:
                out[index[row["day"]], row["g"]][Standing(row["detail"])] += int(row["n"])
    if ahead:
        params = [list(tenant_ids)]
        reach = _where(scope, slice_, params)
        for row in await conn.execute_query_dict(
            f"SELECT {group} AS g, spans FROM stats_report "
            f"WHERE tenant_id = ANY($1::uuid[]) AND upper_inf(open_during){reach}",
            params,
        ):
            raw = row["spans"]
            spans = [Span.from_json(s) for s in (json.loads(raw) if isinstance(raw, str) else raw)]
            for day in ahead:
                at = standing_just_before(spans, _midnight(day, tz))
                if at is not None:
                    out[index[day], row["g"]][at] += 1
    return out


async def _stage_times(
    column: str,
    params: list[Any],
    reach: str,
    grouped: bool,
    source: Source,
    *,
    whole: bool = True,
) -> tuple[dict[Any, StageTimes], StageTimes]:
    """Median and P90 working hours per stage (``stats.indicators.StageTime``), per group and
    (``whole``) for the union of the groups, over the runs of ``stats_stage_time`` stopped in
    the period — or their month's roll-up, computed from the same runs the same way."""
    g = column if grouped else "NULL::text"
    conn = connections.get("default")
    if source.times_by is not None:
        params = list(params)
        by = source.times_sql(params, groups=grouped, whole=whole or not grouped)
        is_whole = ("by = 'total'" if whole else "false") if grouped else "true"
        rows = await conn.execute_query_dict(
            f"SELECT {g} AS g, {is_whole} AS whole, stage, runs, median, p90 "
            f"FROM {source.times} WHERE tenant_id = ANY($1::uuid[]) AND day >= $2 AND day < $3"
            f"{reach}{by}",
            params,
        )
    else:
        if grouped and whole:
            sets = f"GROUPING SETS (({column}, stage), (stage))"
            is_whole = f"grouping({column}) = 1"
        elif grouped:
            sets, is_whole = f"{column}, stage", "false"
        else:
            sets, is_whole = "stage", "true"
        rows = await conn.execute_query_dict(
            f"SELECT {g} AS g, {is_whole} AS whole, stage, count(*) AS runs, "
            f"percentile_cont({MEDIAN}) WITHIN GROUP (ORDER BY seconds) AS median, "
            f"percentile_cont({P90}) WITHIN GROUP (ORDER BY seconds) AS p90 "
            f"FROM {source.times} WHERE tenant_id = ANY($1::uuid[]) AND day >= $2 AND day < $3"
            f"{reach} GROUP BY {sets}",
            params,
        )
    per: dict[Any, dict[Stage, StageTime]] = defaultdict(dict)
    total: dict[Stage, StageTime] = {}
    for row in rows:
        stage = Stage(row["stage"])
        value = StageTime(stage, int(row["runs"]), row["median"] / 3600, row["p90"] / 3600)
        if row["whole"]:
            total[stage] = value
        else:
            per[row["g"]][stage] = value
    return per, total


PUBLIC_DAYS = 30


async def public_headline(scope: Scope, pilot: Period | None) -> tuple[Period, Figures] | None:
    """The headline the anonymous feed shows (docs/domain.md §10: localities publicise the
    pilot): the whole tenant's totals — never a slice, nothing about a report — for the pilot
    period when one is given (its complete days so far; None before its first day is over),
    else the ``PUBLIC_DAYS`` complete local days before today."""
    tenant_id = scope.require_tenant()
    tz = (await tenant_rules(tenant_id)).calendar.timezone
    yesterday = clock.now().astimezone(tz).date() - timedelta(days=1)
    if pilot is None:
        period = Period(yesterday - timedelta(days=PUBLIC_DAYS - 1), yesterday)
    elif pilot.first > yesterday:
        return None
    else:  # a pilot under way: its complete days so far
        period = Period(pilot.first, min(pilot.last, yesterday))
    source = source_for(None, period, None, EVERYTHING)
    found = await _figures(None, (tenant_id,), tz, period, None, EVERYTHING, True, source)
    return period, found.total


async def province_statistics(
    scope: Scope,
    period: Period,
    slice_: Slice = EVERYTHING,
    tenant_ids: tuple[uuid.UUID, ...] = (),
    *,
    from_rollups: bool = True,
) -> list[tuple[uuid.UUID, Figures]]:
    """Each readable tenant's figures side by side (``tenant_ids``: only these, in this order):
    provincial administrators only (the audited cross-tenant path; RLS reads
    ``app.tenant_ids``). Field and agency ids belong to one tenant: across tenants a slice is
    by unit, urgency and channel."""
    if not scope.provincial:
        raise PermissionDenied(Action.STATS_VIEW)
    for t in tenant_ids:
        if t not in scope.readable_tenant_ids:
            raise NotFound(Term.TENANT, "tenantIds")
    scope.require(Action.STATS_VIEW)
    wanted = list(dict.fromkeys(tenant_ids)) or sorted(scope.readable_tenant_ids)
    zones: dict[ZoneInfo, list[uuid.UUID]] = defaultdict(list)
    for t, tz in (await tenant_time_zones(wanted)).items():  # a midnight is local: one pass
        zones[tz].append(t)  # per time zone (in practice one)
    source = source_for(scope, period, None, slice_) if from_rollups else DAY_TABLES
    figures: dict[Any, Figures] = {}
    for tz, ids in zones.items():
        found = await _figures(
            scope, tuple(ids), tz, period, None, slice_, True, source, by_tenant=True
        )
        figures.update(found.groups)
    return [(t, figures.get(t, Figures())) for t in wanted]
