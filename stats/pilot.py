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
from stats.models import Pilot
from stats.queries import MAX_DAYS, Period, tenant_statistics

ON_TIME_TARGET = 0.9
SATISFIED_TARGET = 0.8


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
    if ends_on < starts_on or (ends_on - starts_on).days >= MAX_DAYS:
        v.add("INVALID_PERIOD", "endsOn", "Thời gian thí điểm không hợp lệ.", "Invalid period.")
    for name, value in (("onTimeTarget", on_time_target), ("satisfiedTarget", satisfied_target)):
        if not 0 <= value <= 1:
            v.add("OUT_OF_RANGE", name, "Chỉ tiêu từ 0 đến 1.", "A target lies in [0, 1].")
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
