"""A tenant's pilot (thí điểm) as configuration: its period and targets, and their rules, shared
by onboarding (the document's ``pilot`` section) and ``stats.pilot.set_pilot`` (later changes).
docs/domain.md §10: ≥ 90 % on time and ≥ 80 % satisfied unless the province sets otherwise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.errors import Validator

ON_TIME_TARGET = 0.9
SATISFIED_TARGET = 0.8
MAX_DAYS = 366  # as long as a statistics period (stats.queries.MAX_DAYS)


@dataclass(frozen=True)
class PilotPlan:
    starts_on: date
    ends_on: date
    on_time_target: float = ON_TIME_TARGET
    satisfied_target: float = SATISFIED_TARGET


def validate_pilot(v: Validator, plan: PilotPlan, prefix: str = "") -> None:
    """Typed errors on ``v`` (fields ``endsOn``, ``onTimeTarget``, ``satisfiedTarget`` under
    ``prefix``): a period of at most ``MAX_DAYS`` days, targets in [0, 1]."""
    if plan.ends_on < plan.starts_on or (plan.ends_on - plan.starts_on).days >= MAX_DAYS:
        v.add(
            "INVALID_PERIOD", f"{prefix}endsOn", "Thời gian thí điểm không hợp lệ.",
            "Invalid period.",
        )  # fmt: skip
    for name, value in (
        ("onTimeTarget", plan.on_time_target),
        ("satisfiedTarget", plan.satisfied_target),
    ):
        if not 0 <= value <= 1:
            v.add(
                "OUT_OF_RANGE",
                f"{prefix}{name}",
                "Chỉ tiêu từ 0 đến 1.",
                "A target lies in [0, 1].",
            )
