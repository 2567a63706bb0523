"""GraphQL of the pilot evaluation: ``statistics`` (one tenant, narrowed by the Scope),
``provinceStatistics`` (provincial roles) and ``agencyRanking`` (minimum-volume guard)."""

from __future__ import annotations

import asyncio
import datetime
import itertools
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry import relay

from core.graphql import Info
from core.relay import decode
from permissions.actions import Action
from permissions.graphql import requires
from permissions.scope import Scope
from reports.schema.parts import RejectReason
from reports.workflow import RejectReason as RejectReasonEnum
from stats import queries, ranking, slicing
from stats.indicators import Figures, StageTime, Standing
from stats.schema_inputs import (
    GroupBy,
    PeriodInput,
    ProvinceStatisticsFilter,
    StatisticsFilter,
    slice_of,
)
from tenants.regulation_schema import Stage
from tenants.sla import Stage as StageEnum


@strawberry.type
class StageStatistics:
    stage: Stage
    on_time: int
    late: int
    on_time_rate: float | None


@strawberry.type(
    description="Working hours of a stage's runs stopped in the period: median and 90th "
    "percentile (stats/indicators.py StageTime); null without runs."
)
class StageTimeStatistics:
    stage: Stage
    runs: int
    median_hours: float | None
    p90_hours: float | None


@strawberry.type
class ReasonCount:
    reason: RejectReason | None
    code: str
    count: int


@strawberry.type(description="A period's indicators (stats/indicators.py has every rule).")
class StatisticsFigures:
    received: int
    carried_over: int
    reopened: int
    to_handle: int
    finished: int
    finished_on_time: int
    finished_late: int
    open_within_deadline: int
    open_due_soon: int
    open_overdue: int
    resolved: int
    rejected: int
    rejected_by_reason: list[ReasonCount]
    duplicates: int
    withdrawn: int
    on_time_rate: float | None
    late_rate: float | None
    stages: list[StageStatistics]
    stage_on_time_rate: float | None
    extensions_requested: int
    extensions_approved: int
    returned: int
    reworked: int
    reopen_rate: float | None
    rated: int
    rating_mean: float | None
    satisfied_share: float | None
    response_rate: float | None
    times: strawberry.Private[Callable[[], Awaitable[queries.StageTimes]]]

    @strawberry.field(
        description="Median and 90th percentile working hours per stage; read only when asked "
        "(the costliest indicator: a sort of the period's runs)."
    )
    async def stage_times(self) -> list[StageTimeStatistics]:
        times = await self.times()
        return [
            StageTimeStatistics(
                stage=t.stage, runs=t.runs, median_hours=t.median_hours, p90_hours=t.p90_hours
            )
            for t in (times.get(s) or StageTime(s, 0, None, None) for s in StageEnum)
        ]

    @classmethod
    def of(
        cls, f: Figures, times: Callable[[], Awaitable[queries.StageTimes]] | None = None
    ) -> StatisticsFigures:
        """``times``: where the stage times come from when asked; default the figures' own."""
        codes = {r.value for r in RejectReasonEnum}

        async def own() -> queries.StageTimes:
            return dict(f.stage_times)

        return cls(
            received=f.received,
            carried_over=f.carried_over,
            reopened=f.reopened,
            to_handle=f.to_handle,
            finished=f.finished,
            finished_on_time=f.finished_on_time,
            finished_late=f.finished_late,
            open_within_deadline=f.open(Standing.WITHIN),
            open_due_soon=f.open(Standing.DUE_SOON),
            open_overdue=f.open(Standing.OVERDUE),
            resolved=f.resolved,
            rejected=f.rejected,
            rejected_by_reason=[
                ReasonCount(reason=RejectReasonEnum(c) if c in codes else None, code=c, count=n)
                for c, n in sorted(f.rejected_by_reason().items())
            ],
            duplicates=f.duplicates,
            withdrawn=f.withdrawn,
            on_time_rate=f.on_time_rate,
            late_rate=f.late_rate,
            stages=[
                StageStatistics(
                    stage=s.stage, on_time=s.on_time, late=s.late, on_time_rate=s.on_time_rate
                )
                for s in f.stages()
            ],
            stage_on_time_rate=f.stage_on_time_rate,
            times=times or own,
            extensions_requested=f.extensions_requested,
            extensions_approved=f.extensions_approved,
            returned=f.returned,
            reworked=f.reworked,
            reopen_rate=f.reopen_rate,
            rated=f.rated,
            rating_mean=f.rating_mean,
            satisfied_share=f.satisfied_share,
            response_rate=f.response_rate,
        )


class LazyStageTimes:
    """The stage times of one ``statistics`` answer, read when first asked and once: by group
    only if a group asks for them (that one read gives the whole too)."""

    def __init__(
        self,
        scope: Scope,
        period: slicing.Period,
        group_by: GroupBy | None,
        slice_: slicing.Slice,
    ) -> None:
        self._read = (scope, scope.require_tenant(), period, group_by, slice_)
        self._whole: asyncio.Future[Any] | None = None
        self._grouped: asyncio.Future[Any] | None = None

    def _load(self, grouped: bool) -> asyncio.Future[Any]:
        return asyncio.ensure_future(queries.stage_times(*self._read, grouped))

    async def whole(self) -> queries.StageTimes:
        if self._grouped is not None:
            times: queries.StageTimes = (await self._grouped)[1]
            return times
        if self._whole is None:
            self._whole = self._load(False)
        times = (await self._whole)[1]
        return times

    def of_group(self, key: Any) -> Callable[[], Awaitable[queries.StageTimes]]:
        async def read() -> queries.StageTimes:
            if self._grouped is None:
                self._grouped = self._load(True)
            per_group: dict[Any, queries.StageTimes] = (await self._grouped)[0]
            return per_group.get(key, {})

        return read


@strawberry.type
class StatisticsGroup:
    key: str | None = strawberry.field(
        description="The field, agency (global IDs), unit code, urgency or channel; for a "
        "time breakdown the sub-period's first day (YYYY-MM-DD); null: none."
    )
    first: datetime.date | None = strawberry.field(
        description="A time breakdown: the sub-period's first day (the period cut at the grain)."
    )
    last: datetime.date | None = strawberry.field(
        description="A time breakdown: the sub-period's last day."
    )
    figures: StatisticsFigures


@strawberry.type
class Statistics:
    first: datetime.date
    last: datetime.date
    total: StatisticsFigures
    groups: list[StatisticsGroup]
    scope: strawberry.Private[Scope]
    slice: strawberry.Private[slicing.Slice]

    @strawberry.field(
        description="The same indicators for the period of the same length just before "
        "(e.g. February for March 1–31 is 29 January – 28 February when March has 31 days)."
    )
    async def previous(self) -> PreviousStatistics:
        p = slicing.Period(self.first, self.last).previous()
        result = await queries.tenant_statistics(
            self.scope, self.scope.require_tenant(), p, None, self.slice, with_stage_times=False
        )
        times = LazyStageTimes(self.scope, p, None, self.slice)
        return PreviousStatistics(
            first=p.first, last=p.last, total=StatisticsFigures.of(result.total, times.whole)
        )


@strawberry.type(description="The comparison period's totals.")
class PreviousStatistics:
    first: datetime.date
    last: datetime.date
    total: StatisticsFigures


@strawberry.type
class TenantStatistics:
    tenant_id: relay.GlobalID
    figures: StatisticsFigures


@strawberry.type
class AgencyRank:
    agency_id: relay.GlobalID | None
    rank: int | None = strawberry.field(description="Null: too few finished reports to rank.")
    figures: StatisticsFigures


def _key(group_by: slicing.GroupBy | None, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime.date):
        return value.isoformat()
    if group_by is slicing.GroupBy.FIELD:
        return str(relay.GlobalID("Field", str(value)))
    if group_by is slicing.GroupBy.AGENCY:
        return str(relay.GlobalID("Agency", str(value)))
    return str(value)


@strawberry.type
class StatsQuery:
    @strawberry.field(
        extensions=requires(Action.STATS_VIEW),
        description="The period's indicators in the caller's tenant, within its reach, in "
        "total and by one breakdown; `filter` narrows to some reports.",
    )
    async def statistics(
        self,
        info: Info,
        period: PeriodInput,
        filter: StatisticsFilter | None = None,
        group_by: GroupBy | None = None,
    ) -> Statistics:
        scope = info.context.scope
        p, slice_ = period.period(), slice_of(filter)
        g = slicing.GroupBy(group_by) if group_by else None
        result = await queries.tenant_statistics(
            scope, scope.require_tenant(), p, g, slice_, with_stage_times=False
        )
        times = LazyStageTimes(scope, p, g, slice_)
        starts = [k for k, _ in result.groups if isinstance(k, datetime.date)]
        ends = {a: b - datetime.timedelta(days=1) for a, b in itertools.pairwise(starts)}
        return Statistics(
            first=p.first,
            last=p.last,
            total=StatisticsFigures.of(result.total, times.whole),
            groups=[
                StatisticsGroup(
                    key=_key(g, k),
                    first=k if isinstance(k, datetime.date) else None,
                    last=ends.get(k, p.last) if isinstance(k, datetime.date) else None,
                    figures=StatisticsFigures.of(f, times.of_group(k)),
                )
                for k, f in result.groups
            ],
            scope=scope,
            slice=slice_,
        )

    @strawberry.field(
        extensions=requires(Action.STATS_VIEW),
        description="Provincial administrators: each tenant's indicators side by side "
        "(`tenantIds`: only these, in this order; default every readable tenant).",
    )
    async def province_statistics(
        self,
        info: Info,
        period: PeriodInput,
        filter: ProvinceStatisticsFilter | None = None,
        tenant_ids: list[relay.GlobalID] | None = None,
    ) -> list[TenantStatistics]:
        wanted = tuple(decode(t, "Tenant", "tenantIds") for t in tenant_ids or ())
        rows = await queries.province_statistics(
            info.context.scope, period.period(), slice_of(filter), wanted
        )
        return [
            TenantStatistics(
                tenant_id=relay.GlobalID("Tenant", str(t)), figures=StatisticsFigures.of(f)
            )
            for t, f in rows
        ]

    @strawberry.field(
        extensions=requires(Action.STATS_VIEW),
        description="Lead agencies by on-time rate; fewer than `minimumFinished` finished "
        "reports in the period: listed, not ranked.",
    )
    async def agency_ranking(
        self,
        info: Info,
        period: PeriodInput,
        filter: StatisticsFilter | None = None,
        minimum_finished: int = 10,
    ) -> list[AgencyRank]:
        scope = info.context.scope
        result = await queries.tenant_statistics(
            scope, scope.require_tenant(), period.period(), slicing.GroupBy.AGENCY, slice_of(filter)
        )
        return [
            AgencyRank(
                agency_id=relay.GlobalID("Agency", str(r.agency_id)) if r.agency_id else None,
                rank=r.rank,
                figures=StatisticsFigures.of(r.figures),
            )
            for r in ranking.rank_agencies(result, max(minimum_finished, 1))
        ]
