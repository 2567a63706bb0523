"""The public headline of the pilot for the anonymous feed (no login: the tenant comes from the
X-Paht-Tenant header, as for ``publicReports``): the whole tenant's totals, nothing else."""

from __future__ import annotations

import datetime
from typing import TypeAlias

import strawberry

from core.graphql import Info, labelled_enum
from core.labels import Labelled
from stats import queries
from tenants.models import Pilot


class HeadlinePeriod(Labelled):
    LAST_30_DAYS = "last_30_days", "30 ngày gần nhất", "The last 30 days"
    PILOT = "pilot", "Thời gian thí điểm", "The pilot period"


HeadlinePeriodEnum: TypeAlias = HeadlinePeriod
labelled_enum(HeadlinePeriodEnum, "HeadlinePeriod")


@strawberry.type(
    description="The tenant's totals for the public (stats/indicators.py has every rule)."
)
class PublicHeadline:
    first: datetime.date
    last: datetime.date
    received: int
    finished: int
    on_time_rate: float | None
    rated: int
    satisfied_share: float | None


@strawberry.type
class PublicStatsQuery:
    @strawberry.field(
        description="Headline figures of the tenant (token's tenant or the X-Paht-Tenant "
        "header), complete local days up to yesterday: the last 30 days, or the pilot period "
        "(null without a pilot or before its first day is over). Aggregated numbers only."
    )
    async def public_headline(
        self, info: Info, period: HeadlinePeriodEnum = HeadlinePeriod.LAST_30_DAYS
    ) -> PublicHeadline | None:
        scope = info.context.scope
        pilot: queries.Period | None = None
        if HeadlinePeriod(period) is HeadlinePeriod.PILOT:
            row = await Pilot.get_or_none(tenant_id=scope.require_tenant())
            if row is None:
                return None
            pilot = queries.Period(row.starts_on, row.ends_on)
        found = await queries.public_headline(scope, pilot)
        if found is None:
            return None
        p, f = found
        return PublicHeadline(
            first=p.first,
            last=p.last,
            received=f.received,
            finished=f.finished,
            on_time_rate=f.on_time_rate,
            rated=f.rated,
            satisfied_share=f.satisfied_share,
        )
