"""Who covers which place: a new tenant may not claim a unit another tenant holds.

Units are shared reference data keyed by ``(code, valid_from)``, and a tenant lists the codes it
covers. A unit of an onboarding plan is refused when, in an overlapping validity period, a
tenant that is not merged (active or suspended: a suspended tenant comes back to its units)
holds the same code, or a unit whose boundary overlaps the new one's (touching along a shared
edge is not overlapping: neighbouring localities share their borders exactly). A tenant holds a
unit only while both are valid: a locality ended by a reform (``Tenant.valid_to``, as the
locator reads it) leaves the units of after its end free, also a code the reform reused."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from core.errors import DomainError, Validator
from tenants.models import AdministrativeUnit, Tenant, TenantStatus

# Intersections smaller than this (square degrees, about 12 m² at these latitudes) are rounding
# along a shared border, not an overlap.
AREA_EPS = 1e-9
_EARLIEST, _LATEST = date.min, date.max


@dataclass(frozen=True)
class HeldUnit:
    code: str
    name: str
    tenant: str
    valid_from: date | None
    valid_to: date | None
    geometry: BaseGeometry | None


def periods_overlap(a_from: Any, a_to: Any, b_from: Any, b_to: Any) -> bool:
    return (a_from or _EARLIEST) <= (b_to or _LATEST) and (b_from or _EARLIEST) <= (a_to or _LATEST)


def _geometry(boundary: dict[str, Any] | None) -> BaseGeometry | None:
    if not boundary:
        return None
    try:
        geometry = shape(boundary)
    except Exception:  # malformed: validate_plan reports it; nothing to compare here
        return None
    return geometry if geometry.is_valid else None


async def held_units() -> list[HeldUnit]:
    """Every unit version listed by a tenant that is not merged."""
    holders: dict[str, list[dict[str, Any]]] = {}
    for tenant in await Tenant.exclude(status=TenantStatus.MERGED).values(
        "code", "unit_codes", "valid_from", "valid_to"
    ):
        for code in tenant["unit_codes"] or []:
            holders.setdefault(code, []).append(tenant)
    if not holders:
        return []
    units = await AdministrativeUnit.filter(code__in=list(holders))
    return [
        HeldUnit(
            u.code,
            u.name,
            tenant["code"],
            _later(u.valid_from, tenant["valid_from"]),
            _earlier(u.valid_to, tenant["valid_to"]),
            _geometry(u.boundary),
        )
        for u in units
        for tenant in holders[u.code]
        if periods_overlap(u.valid_from, u.valid_to, tenant["valid_from"], tenant["valid_to"])
    ]


def _later(a: date | None, b: date | None) -> date | None:
    return b if a is None else a if b is None else max(a, b)


def _earlier(a: date | None, b: date | None) -> date | None:
    return b if a is None else a if b is None else min(a, b)


def _names(units: list[HeldUnit]) -> str:
    shown = ", ".join(f"{u.code} {u.name} ({u.tenant})" for u in units[:3])
    return shown + (f" … +{len(units) - 3}" if len(units) > 3 else "")


async def check_coverage(plan: Any) -> None:
    """Raise one DomainError naming every unit of ``plan`` (an ``OnboardingPlan``) that
    collides with a unit held by another tenant."""
    held = await held_units()
    v = Validator()
    for i, unit in enumerate(plan.units):
        in_force = [
            h
            for h in held
            if periods_overlap(unit.valid_from, unit.valid_to, h.valid_from, h.valid_to)
        ]
        same_code = [h for h in in_force if h.code == unit.code]
        if same_code:
            v.add(
                "UNIT_TAKEN",
                f"administrativeUnits[{i}].code",
                f"Đơn vị hành chính {unit.code} đã thuộc đơn vị triển khai khác trong cùng thời "
                f"kỳ: {_names(same_code)}.",
                f"Administrative unit {unit.code} already belongs to another tenant in the same "
                f"period: {_names(same_code)}.",
            )
        geometry = _geometry(unit.boundary)
        if geometry is None:
            continue
        overlapping = [
            h
            for h in in_force
            if h.code != unit.code
            and h.geometry is not None
            and h.geometry.intersects(geometry)
            and h.geometry.intersection(geometry).area > AREA_EPS
        ]
        if overlapping:
            v.add(
                "BOUNDARY_OVERLAP",
                f"administrativeUnits[{i}].boundary",
                f"Ranh giới của {unit.code} chồng lấn đơn vị của đơn vị triển khai khác: "
                f"{_names(overlapping)}.",
                f"The boundary of {unit.code} overlaps units of another tenant: "
                f"{_names(overlapping)}.",
            )
    v.check()


async def check_tenant_code_free(code: str) -> None:
    if await Tenant.exists(code=code):
        raise DomainError(
            "DUPLICATE_CODE",
            "Mã đơn vị triển khai đã tồn tại.",
            "A tenant with this code exists.",
            "code",
        )
