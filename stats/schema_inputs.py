"""GraphQL inputs of the statistics: the period, the breakdown and the filters, each turned
into what ``stats.slicing`` names."""

from __future__ import annotations

import datetime
from typing import TypeAlias

import strawberry
from strawberry import relay

from core.graphql import labelled_enum
from core.relay import decode
from reports.schema.parts import Channel
from stats import slicing
from tenants.types import Urgency

GroupBy: TypeAlias = slicing.GroupBy
labelled_enum(GroupBy, "StatisticsGroupBy")


@strawberry.input(description="Local dates of the tenant, both included.")
class PeriodInput:
    first: datetime.date
    last: datetime.date

    def period(self) -> slicing.Period:
        return slicing.Period(self.first, self.last)


@strawberry.input(
    description="Only some reports (their current field, lead agency, unit, urgency, channel); "
    "an empty or missing list: any; lists combine with AND. Within the caller's reach."
)
class StatisticsFilter:
    field_ids: list[relay.GlobalID] | None = None
    agency_ids: list[relay.GlobalID] | None = strawberry.field(
        default=None, description="Lead agencies."
    )
    unit_codes: list[str] | None = strawberry.field(
        default=None, description="The report's own administrative unit, by code."
    )
    urgencies: list[Urgency] | None = None
    channels: list[Channel] | None = None

    def slice(self) -> slicing.Slice:
        return slicing.Slice(
            field_ids=tuple(decode(g, "Field", "filter.fieldIds") for g in self.field_ids or ()),
            agency_ids=tuple(
                decode(g, "Agency", "filter.agencyIds") for g in self.agency_ids or ()
            ),
            unit_codes=tuple(dict.fromkeys(self.unit_codes or ())),
            urgencies=tuple(str(u.value) for u in self.urgencies or ()),
            channels=tuple(str(c.value) for c in self.channels or ()),
        )


@strawberry.input(
    description="Across tenants: field and agency ids belong to one tenant, so by unit, "
    "urgency and channel only."
)
class ProvinceStatisticsFilter:
    unit_codes: list[str] | None = None
    urgencies: list[Urgency] | None = None
    channels: list[Channel] | None = None

    def slice(self) -> slicing.Slice:
        return slicing.Slice(
            unit_codes=tuple(dict.fromkeys(self.unit_codes or ())),
            urgencies=tuple(str(u.value) for u in self.urgencies or ()),
            channels=tuple(str(c.value) for c in self.channels or ()),
        )


def slice_of(f: StatisticsFilter | ProvinceStatisticsFilter | None) -> slicing.Slice:
    return slicing.EVERYTHING if f is None else f.slice()
