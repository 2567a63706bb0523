"""GraphQL of the pilot evaluation: ``statistics`` (one tenant, narrowed by the Scope),
``provinceStatistics`` (provincial roles) and ``agencyRanking`` (minimum-volume guard)."""

from __future__ import annotations

import datetime
from typing import Any, TypeAlias

import strawberry
from strawberry import relay

from core.graphql import Info, labelled_enum
from permissions.actions import Action
from permissions.graphql import requires
from reports.schema.parts import RejectReason
from reports.workflow import RejectReason as RejectReasonEnum
from stats import queries
from stats.indicators import Figures, Standing
from tenants.regulation_schema import Stage

GroupBy: TypeAlias = queries.GroupBy
labelled_enum(GroupBy, "StatisticsGroupBy")


@strawberry.input(description="Local dates of the tenant, both included.")
class PeriodInput:
    first: datetime.date
    last: datetime.date

    def period(self) -> queries.Period:
        return queries.Period(self.first, self.last)


@strawberry.type
class StageStatistics:
    stage: Stage
    on_time: int
    late: int
    on_time_rate: float | None


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

    @classmethod
    def of(cls, f: Figures) -> StatisticsFigures:
        codes = {r.value for r in RejectReasonEnum}
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


@strawberry.type
class StatisticsGroup:
    key: str | None = strawberry.field(
        description="The field, agency (global IDs), unit code or urgency; null: none."
    )
    figures: StatisticsFigures


@strawberry.type
class Statistics:
    first: datetime.date
    last: datetime.date
    total: StatisticsFigures
    groups: list[StatisticsGroup]


@strawberry.type
class TenantStatistics:
    tenant_id: relay.GlobalID
    figures: StatisticsFigures


@strawberry.type
class AgencyRank:
    agency_id: relay.GlobalID | None
    rank: int | None = strawberry.field(description="Null: too few finished reports to rank.")
    figures: StatisticsFigures


def _key(group_by: queries.GroupBy | None, value: Any) -> str | None:
    if value is None:
        return None
    if group_by is queries.GroupBy.FIELD:
        return str(relay.GlobalID("Field", str(value)))
    if group_by is queries.GroupBy.AGENCY:
        return str(relay.GlobalID("Agency", str(value)))
    return str(value)


@strawberry.type
class StatsQuery:
    @strawberry.field(
        extensions=requires(Action.STATS_VIEW),
        description="The period's indicators in the caller's tenant, within its reach, in "
        "total and by one breakdown.",
    )
    async def statistics(
        self, info: Info, period: PeriodInput, group_by: GroupBy | None = None
    ) -> Statistics:
        scope = info.context.scope
        p = period.period()
        g = queries.GroupBy(group_by) if group_by else None
        result = await queries.tenant_statistics(scope, scope.require_tenant(), p, g)
        return Statistics(
            first=p.first,
            last=p.last,
            total=StatisticsFigures.of(result.total),
            groups=[
                StatisticsGroup(key=_key(g, k), figures=StatisticsFigures.of(f))
                for k, f in result.groups
            ],
        )

    @strawberry.field(
        extensions=requires(Action.STATS_VIEW),
        description="Provincial administrators: each tenant's indicators side by side.",
    )
    async def province_statistics(self, info: Info, period: PeriodInput) -> list[TenantStatistics]:
        rows = await queries.province_statistics(info.context.scope, period.period())
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
        self, info: Info, period: PeriodInput, minimum_finished: int = 10
    ) -> list[AgencyRank]:
        scope = info.context.scope
        result = await queries.tenant_statistics(
            scope, scope.require_tenant(), period.period(), queries.GroupBy.AGENCY
        )
        return [
            AgencyRank(
                agency_id=relay.GlobalID("Agency", str(r.agency_id)) if r.agency_id else None,
                rank=r.rank,
                figures=StatisticsFigures.of(r.figures),
            )
            for r in queries.rank_agencies(result, max(minimum_finished, 1))
        ]
