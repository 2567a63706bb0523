"""Where a statistics question is read: the day tables (``stats_day``, ``stats_stage_time``) or
their month roll-ups (``stats_month``, ``stats_stage_month``, migration 0033), which triggers
keep equal to the sums and percentiles of the rows they roll up, in the writing transaction.

A roll-up holds each month once per single slice column (``Rollup``), so it answers a question
that names whole months and at most one slice column — the caller's reach, the slice asked for
and the breakdown together. Percentiles do not add up: the stage times come from a roll-up only
for one calendar month, the whole tenant, and a breakdown by a column (or none). Anything else
reads the day tables; both give the same figures (tests/stats/test_rollup.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from permissions.actions import Action
from permissions.scope import Scope
from stats.slicing import GROUP_COLUMN, GroupBy, Period, Slice


class Rollup(StrEnum):
    """The one slice column a roll-up row is summed over (``TOTAL``: none)."""

    TOTAL = "total"
    FIELD = "field"
    AGENCY = "agency"
    UNIT = "unit"
    URGENCY = "urgency"
    CHANNEL = "channel"


_OF_COLUMN = {
    "field_id": Rollup.FIELD,
    "agency_id": Rollup.AGENCY,
    "unit_code": Rollup.UNIT,
    "urgency": Rollup.URGENCY,
    "channel": Rollup.CHANNEL,
}
# Time breakdowns whose sub-periods are whole months when the period is.
_MONTHLY = frozenset({GroupBy.MONTH, GroupBy.QUARTER})


@dataclass(frozen=True)
class Source:
    """The tables of one question: the flows and balances, and the stage times; ``*_by``: the
    roll-up's column, None for the day tables."""

    flows_by: Rollup | None = None
    times_by: Rollup | None = None

    @property
    def flows(self) -> str:
        return "stats_day" if self.flows_by is None else "stats_month"

    @property
    def times(self) -> str:
        return "stats_stage_time" if self.times_by is None else "stats_stage_month"

    def flows_sql(self, params: list[Any]) -> str:
        return _by_sql(self.flows_by, params)

    def times_sql(self, params: list[Any], *, groups: bool, whole: bool) -> str:
        """The stage-time rows of the breakdown's groups and (or) of the whole."""
        if self.times_by is None:
            return ""
        wanted = [self.times_by.value] if groups else []
        params.append([*wanted, *([Rollup.TOTAL.value] if whole else [])])
        return f" AND by = ANY(${len(params)}::text[])"


DAY_TABLES = Source()


def _by_sql(by: Rollup | None, params: list[Any]) -> str:
    if by is None:
        return ""
    params.append(by.value)
    return f" AND by = ${len(params)}"


def whole_months(period: Period) -> bool:
    return period.first.day == 1 and (period.last + timedelta(days=1)).day == 1


def _one_month(period: Period) -> bool:
    first, last = period.first, period.last
    return whole_months(period) and (first.year, first.month) == (last.year, last.month)


def _reach_columns(scope: Scope | None) -> set[str]:
    if scope is None:
        return set()
    reaches = scope.reach.get(Action.STATS_VIEW.value, frozenset())
    if any(r.unlimited for r in reaches):
        return set()
    columns = {"agency_id" for r in reaches if r.agency_id is not None}
    return columns | {"field_id" for r in reaches if r.field_id is not None}


def source_for(
    scope: Scope | None, period: Period, group_by: GroupBy | None, slice_: Slice
) -> Source:
    """The cheapest tables that answer exactly: see the module's rule."""
    by_time = group_by is not None and group_by not in GROUP_COLUMN
    if not whole_months(period) or (by_time and group_by not in _MONTHLY):
        return DAY_TABLES
    narrowed = _reach_columns(scope) | slice_.columns()
    grouped = {GROUP_COLUMN[group_by]} if group_by in GROUP_COLUMN else set()
    columns = narrowed | grouped
    if len(columns) > 1:
        return DAY_TABLES
    flows_by = _OF_COLUMN[columns.pop()] if columns else Rollup.TOTAL
    # A roll-up's percentiles are of one month, over one column's group (or the whole) of the
    # whole tenant: a narrowed whole, a remapped column or a time breakdown is not among them.
    exact_times = _one_month(period) and not narrowed and not by_time
    exact_times = exact_times and group_by is not GroupBy.UNIT_TODAY
    return Source(flows_by, flows_by if exact_times else None)
