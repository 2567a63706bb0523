"""A tenant's pilot (thí điểm): its period and targets, set by the province; the evaluation
compares the pilot period's figures with the targets (docs/domain.md §10: ≥ 90 % on time,
≥ 80 % satisfied by default)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from core.errors import NotFound, PermissionDenied, Validator
from core.glossary import Term
from permissions.actions import Action
from permissions.scope import Scope
from permissions.session import tenant_transaction
from stats.indicators import Figures
from stats.queries import tenant_statistics
from stats.slicing import Period
from tenants.models import Pilot
from tenants.pilot import ON_TIME_TARGET, SATISFIED_TARGET, PilotPlan, validate_pilot


async def set_pilot(
    scope: Scope,
    tenant_id: uuid.UUID,
    starts_on: date,
    ends_on: date,
    on_time_target: float = ON_TIME_TARGET,
    satisfied_target: float = SATISFIED_TARGET,
) -> Pilot:
    """Provincial administrators only; another province's tenant is not found."""
    if not scope.provincial:
        raise PermissionDenied(Action.TENANT_ONBOARD)
    scope.require(Action.TENANT_ONBOARD)
    if tenant_id not in scope.readable_tenant_ids:
        raise NotFound(Term.TENANT, "tenantId")
    v = Validator()
    validate_pilot(v, PilotPlan(starts_on, ends_on, on_time_target, satisfied_target))
    v.check()
    async with tenant_transaction(tenant_id):
        await Pilot.update_or_create(
            tenant_id=tenant_id,
            defaults={
                "starts_on": starts_on,
                "ends_on": ends_on,
                "on_time_target": on_time_target,
                "satisfied_target": satisfied_target,
                "updated_by": scope.user_id,
            },
        )
        return await Pilot.get(tenant_id=tenant_id)


@dataclass(frozen=True)
class Evaluation:
    pilot: Pilot
    figures: Figures

    @property
    def on_time_met(self) -> bool | None:
        rate = self.figures.on_time_rate
        return None if rate is None else rate >= self.pilot.on_time_target

    @property
    def satisfied_met(self) -> bool | None:
        share = self.figures.satisfied_share
        return None if share is None else share >= self.pilot.satisfied_target


async def evaluate(scope: Scope, tenant_id: uuid.UUID) -> Evaluation | None:
    """The pilot period's figures against its targets; None when no pilot is set."""
    pilot = await Pilot.get_or_none(tenant_id=tenant_id)
    if pilot is None:
        return None
    period = Period(pilot.starts_on, pilot.ends_on)
    return Evaluation(pilot, (await tenant_statistics(scope, tenant_id, period)).total)
