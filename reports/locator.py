"""Which tenant and administrative unit a point lies in, over every tenant's units.

``AdministrativeUnit`` is shared reference data (no RLS) and ``Tenant.unit_codes`` says which
tenant covers which unit, so one index serves every request. It is a shapely ``STRtree`` over the
unit boundaries, built once per process and rebuilt when the units or the tenants' scopes change:
each lookup runs one cheap query (row counts and latest timestamps) and compares it with the
signature the index was built from. Onboarding may also call :func:`invalidate`.

Units are temporal (docs/domain.md §12): a point is placed in the units valid at the report's
time (``at``, default now, as a Vietnamese calendar day), held by a tenant valid then that has
not been merged away. Only where no unit valid then covers the point (its successors are not
loaded yet) does an ended unit count, the newest first. Among the candidates a caller's own
tenant is preferred over others (``prefer_tenant``), then active tenants.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from shapely import STRtree
from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from tortoise import connections

from core import clock
from tenants.models import AdministrativeUnit, Tenant, TenantStatus
from tenants.units import legal_day, valid_on

log = logging.getLogger("paht.locator")

_SIGNATURE_SQL = (
    "SELECT (SELECT count(*) FROM administrative_unit) AS units, "
    "(SELECT max(created_at) FROM administrative_unit) AS units_at, "
    "(SELECT count(*) FROM administrative_unit WHERE boundary IS NOT NULL) AS bounded, "
    "(SELECT count(*) FROM tenant) AS tenants, "
    "(SELECT max(updated_at) FROM tenant) AS tenants_at"
)


@dataclass(frozen=True)
class Location:
    """Where a point lies: ``tenant_id`` and ``unit_code`` are None outside every known unit."""

    tenant_id: uuid.UUID | None
    unit_code: str | None
    unit_name: str | None = None
    tenant_name_vi: str | None = None
    tenant_name_en: str | None = None


@dataclass(frozen=True)
class _Unit:
    code: str
    name: str
    valid_from: date | None
    valid_to: date | None
    tenants: tuple[Tenant, ...]  # active tenants covering the code first

    def current(self, today: date) -> bool:
        return valid_on(self.valid_from, self.valid_to, today)


@dataclass(frozen=True)
class _Index:
    signature: tuple[Any, ...]
    tree: STRtree | None
    units: tuple[_Unit, ...]
    bounded_tenants: frozenset[uuid.UUID]  # tenants with at least one unit boundary

    def matches(self, point: Point) -> list[_Unit]:
        if self.tree is None:
            return []
        return [self.units[i] for i in self.tree.query(point, predicate="covered_by")]


_index: _Index | None = None
_lock = asyncio.Lock()


def invalidate() -> None:
    """Forget the index; the next lookup rebuilds it (call after changing units or scopes)."""
    global _index
    _index = None


async def _signature() -> tuple[Any, ...]:
    rows = await connections.get("default").execute_query_dict(_SIGNATURE_SQL)
    row = rows[0]
    return (row["units"], row["units_at"], row["bounded"], row["tenants"], row["tenants_at"])


def _geometry(boundary: Any, code: str) -> BaseGeometry | None:
    try:
        geometry = shape(boundary)
        if geometry.is_empty or geometry.geom_type not in ("Polygon", "MultiPolygon"):
            return None
        return geometry if geometry.is_valid else geometry.buffer(0)
    except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
        log.warning("skipping malformed boundary of unit %s: %s", code, exc)
        return None  # a malformed boundary must not break every submission


def _tenant_order(t: Tenant) -> tuple[bool, str]:
    return (t.status != TenantStatus.ACTIVE, t.code)


async def _build(signature: tuple[Any, ...]) -> _Index:
    tenants = await Tenant.all()
    covering: dict[str, list[Tenant]] = {}
    for tenant in sorted(tenants, key=_tenant_order):
        for code in tenant.unit_codes or ():
            covering.setdefault(code, []).append(tenant)
    rows = await AdministrativeUnit.filter(boundary__not_isnull=True).values(
        "code", "name", "valid_from", "valid_to", "boundary"
    )

    def parse() -> tuple[list[BaseGeometry], list[_Unit]]:
        geometries: list[BaseGeometry] = []
        units: list[_Unit] = []
        for row in rows:
            geometry = _geometry(row["boundary"], row["code"])
            if geometry is None:
                continue
            geometries.append(geometry)
            units.append(
                _Unit(
                    row["code"],
                    row["name"],
                    row["valid_from"],
                    row["valid_to"],
                    tuple(covering.get(row["code"], ())),
                )
            )
        return geometries, units

    geometries, units = await asyncio.to_thread(parse)
    bounded = frozenset(t.id for u in units for t in u.tenants)
    tree = STRtree(geometries) if geometries else None
    return _Index(signature, tree, tuple(units), bounded)


async def _current_index() -> _Index:
    global _index
    signature = await _signature()
    index = _index
    if index is not None and index.signature == signature:
        return index
    async with _lock:
        if _index is None or _index.signature != signature:
            _index = await _build(signature)
        return _index


def _holds(tenant: Tenant, day: date) -> bool:
    """Does the tenant hold its units on ``day`` (in its validity, not merged away)?"""
    return tenant.status != TenantStatus.MERGED and valid_on(
        tenant.valid_from, tenant.valid_to, day
    )


def _best(
    units: list[_Unit], prefer_tenant: uuid.UUID | None, day: date
) -> tuple[_Unit, Tenant | None] | None:
    """The most plausible (unit, tenant) among the units covering a point on ``day``."""
    in_force = [u for u in units if u.current(day)]
    units = in_force or units  # an ended unit only where nothing valid covers the point
    candidates: list[tuple[_Unit, Tenant | None]] = [
        (u, t) for u in units for t in u.tenants if _holds(t, day) or not in_force
    ]
    candidates = candidates or [(u, None) for u in units]
    if not candidates:
        return None

    def rank(item: tuple[_Unit, Tenant | None]) -> tuple[Any, ...]:
        unit, tenant = item
        return (
            not (tenant is not None and tenant.id == prefer_tenant),
            tenant is None or tenant.status != TenantStatus.ACTIVE,
            -(unit.valid_from or date.min).toordinal(),
            unit.code,
        )

    return min(candidates, key=rank)


async def locate(
    latitude: float,
    longitude: float,
    prefer_tenant: uuid.UUID | None = None,
    at: datetime | date | None = None,
) -> Location:
    """The tenant and unit containing the point (boundaries included) at ``at`` (default now).

    ``unit_code`` without ``tenant_id`` means a known unit no tenant covers; both None means the
    point lies in no unit that has a boundary."""
    index = await _current_index()
    day = legal_day(at if at is not None else clock.now())
    found = _best(index.matches(Point(longitude, latitude)), prefer_tenant, day)
    if found is None:
        return Location(None, None)
    unit, tenant = found
    return Location(
        tenant.id if tenant else None,
        unit.code,
        unit.name,
        tenant.name_vi if tenant else None,
        tenant.name_en if tenant else None,
    )


async def tenant_for_point(latitude: float, longitude: float) -> uuid.UUID | None:
    """The tenant whose area contains the point, for anonymous submission (None: nobody's)."""
    return (await locate(latitude, longitude)).tenant_id


async def has_boundaries(tenant_id: uuid.UUID) -> bool:
    """Does any unit of the tenant have a boundary (so its area is known)?"""
    return tenant_id in (await _current_index()).bounded_tenants
