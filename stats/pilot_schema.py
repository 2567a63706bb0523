"""GraphQL for the pilot (thí điểm): the province sets a tenant's pilot period and targets;
staff of the tenant and the province read the evaluation (results against the targets)."""

from __future__ import annotations

import datetime
import uuid
from typing import Self

import strawberry
from strawberry import relay

from core.errors import NotFound
from core.glossary import Term
from core.graphql import Info, UserError, run_mutation
from core.relay import decode, decode_optional
from permissions.actions import Action
from permissions.graphql import requires
from permissions.scope import Scope
from stats import pilot
from stats.schema import StatisticsFigures
from tenants import models


@strawberry.type(description="A tenant's pilot period and its targets (shares in [0, 1]).")
class Pilot:
    tenant_id: relay.GlobalID
    starts_on: datetime.date
    ends_on: datetime.date
    on_time_target: float
    satisfied_target: float

    @classmethod
    def from_row(cls, row: models.Pilot) -> Self:
        return cls(
            tenant_id=relay.GlobalID("Tenant", str(row.tenant_id)),
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            on_time_target=row.on_time_target,
            satisfied_target=row.satisfied_target,
        )


@strawberry.type(description="The pilot period's indicators against its targets.")
class PilotEvaluation:
    pilot: Pilot
    figures: StatisticsFigures
    on_time_met: bool | None = strawberry.field(
        description="On-time rate ≥ its target; null when nothing was due in the period."
    )
    satisfied_met: bool | None = strawberry.field(
        description="Share of ratings 4–5 ≥ its target; null without ratings."
    )


@strawberry.input
class SetPilotInput:
    tenant_id: relay.GlobalID
    starts_on: datetime.date
    ends_on: datetime.date
    on_time_target: float = pilot.ON_TIME_TARGET
    satisfied_target: float = pilot.SATISFIED_TARGET


@strawberry.type
class SetPilotPayload:
    pilot: Pilot | None
    errors: list[UserError]


def _tenant(scope: Scope, tenant_id: relay.GlobalID | None) -> uuid.UUID:
    """The tenant asked for (readable to the caller), else the caller's own."""
    wanted = decode_optional(tenant_id, "Tenant", "tenantId")
    if wanted is None:
        return scope.require_tenant()
    if wanted not in scope.readable_tenant_ids:
        raise NotFound(Term.TENANT, "tenantId")
    return wanted


@strawberry.type
class PilotQuery:
    @strawberry.field(
        extensions=requires(Action.STATS_VIEW),
        description="The pilot's evaluation for the caller's tenant (or, for provincial "
        "administrators, the tenant named); null when no pilot is set.",
    )
    async def pilot_evaluation(
        self, info: Info, tenant_id: relay.GlobalID | None = None
    ) -> PilotEvaluation | None:
        scope = info.context.scope
        evaluation = await pilot.evaluate(scope, _tenant(scope, tenant_id))
        if evaluation is None:
            return None
        return PilotEvaluation(
            pilot=Pilot.from_row(evaluation.pilot),
            figures=StatisticsFigures.of(evaluation.figures),
            on_time_met=evaluation.on_time_met,
            satisfied_met=evaluation.satisfied_met,
        )


@strawberry.type
class PilotMutation:
    @strawberry.mutation(
        extensions=requires(Action.TENANT_ONBOARD),
        description="Provincial administrators: set a tenant's pilot period and targets.",
    )
    async def set_pilot(self, info: Info, input: SetPilotInput) -> SetPilotPayload:
        async def work() -> models.Pilot:
            return await pilot.set_pilot(
                info.context.scope,
                decode(input.tenant_id, "Tenant", "tenantId"),
                input.starts_on,
                input.ends_on,
                input.on_time_target,
                input.satisfied_target,
            )

        return await run_mutation(
            info,
            work,
            lambda row, errors: SetPilotPayload(
                pilot=Pilot.from_row(row) if row else None, errors=errors
            ),
        )
