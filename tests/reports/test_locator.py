"""The point locator over every tenant's units, and OUT_OF_AREA at submission (demo boundaries:
approximate cells of the Sa Pa and Lào Cai pilot units)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from shapely.geometry import box, mapping, shape
from tortoise.transactions import in_transaction

from core.errors import DomainError
from core.ids import new_id
from permissions.scope import anonymous_in
from permissions.session import scoped_transaction
from reports import locator
from reports.models import Report
from reports.service import locate, submit_report, tenant_for_point
from reports.submission import _unit_code
from tenants.models import AdministrativeUnit, Tenant
from tests.support.services import new_input, sapa_env

HANOI = (21.03, 105.85)
NOWHERE = (10.5, 106.5)  # no demo unit near (Long An)


@pytest.fixture
async def sapa(pilot: dict[str, Any]) -> dict[str, Any]:
    return await sapa_env(pilot)


async def inside(tenant: Tenant, code: str | None = None) -> tuple[float, float, str]:
    """(lat, lon, code) of a representative point of one of the tenant's units."""
    wanted = [code] if code else sorted(tenant.unit_codes)
    unit = (
        await AdministrativeUnit.filter(code__in=wanted, boundary__not_isnull=True)
        .order_by("code")
        .first()
    )
    assert unit is not None
    point = shape(unit.boundary).representative_point()
    return point.y, point.x, unit.code


async def test_every_pilot_unit_is_found(pilot: dict[str, Any]) -> None:
    for tenant in pilot["tenants"].values():
        for code in tenant.unit_codes:
            lat, lon, _ = await inside(tenant, code)
            found = await locate(lat, lon, prefer_tenant=tenant.id)
            assert (found.tenant_id, found.unit_code) == (tenant.id, code)
            assert found.unit_name and found.tenant_name_vi == tenant.name_vi


async def test_points_outside_every_unit(pilot: dict[str, Any]) -> None:
    for lat, lon in (HANOI, NOWHERE):
        assert await locate(lat, lon) == locator.Location(None, None)
        assert await tenant_for_point(lat, lon) is None
    laocai = pilot["tenants"]["lao-cai"]
    lat, lon, _ = await inside(laocai)
    assert await tenant_for_point(lat, lon) == laocai.id


async def test_submission_in_the_tenants_own_unit(sapa: dict[str, Any]) -> None:
    lat, lon, code = await inside(sapa["tenant"], "03001")  # phường Sa Pa
    async with scoped_transaction(sapa["citizen"]):
        result = await submit_report(sapa["citizen"], new_input(sapa, latitude=lat, longitude=lon))
    assert result.report.unit_code == code == "03001"


async def test_point_in_another_tenant_is_out_of_area(
    sapa: dict[str, Any], pilot: dict[str, Any]
) -> None:
    laocai = pilot["tenants"]["lao-cai"]
    lat, lon, code = await inside(laocai)
    unit = await AdministrativeUnit.filter(code=code).first()
    data = new_input(sapa, latitude=lat, longitude=lon)
    with pytest.raises(DomainError) as error:
        async with scoped_transaction(sapa["citizen"]):
            await submit_report(sapa["citizen"], data)
    detail = error.value.details[0]
    assert (detail.code, detail.field) == ("OUT_OF_AREA", "latitude")
    assert unit.name in detail.message_vi and laocai.name_vi in detail.message_vi
    assert unit.name in detail.message_en and laocai.name_en in detail.message_en
    async with scoped_transaction(sapa["operator"]):
        assert not await Report.exists(idempotency_key=data.idempotency_key)


async def test_point_in_no_unit_is_out_of_area(sapa: dict[str, Any]) -> None:
    scope = anonymous_in(sapa["tenant"].id)
    for lat, lon in (HANOI, NOWHERE):
        with pytest.raises(DomainError) as error:
            async with scoped_transaction(scope):
                await submit_report(scope, new_input(sapa, latitude=lat, longitude=lon))
        assert (error.value.code, error.value.field) == ("OUT_OF_AREA", "latitude")


async def test_tenant_without_boundaries(pilot: dict[str, Any]) -> None:
    """Nothing to check against: accepted without a unit, unless another tenant's unit holds
    the point."""
    bare = Tenant(id=new_id(), code="bare", name_vi="Xã Trống", name_en="Bare", unit_codes=[])
    assert await _unit_code(bare, *HANOI) is None
    lat, lon, _ = await inside(pilot["tenants"]["lao-cai"])
    with pytest.raises(DomainError) as error:
        await _unit_code(bare, lat, lon)
    assert error.value.code == "OUT_OF_AREA"


class _Rollback(Exception):
    pass


async def test_index_follows_new_units_and_skips_bad_boundaries() -> None:
    lat, lon = NOWHERE
    square = json.loads(json.dumps(mapping(box(lon - 0.01, lat - 0.01, lon + 0.01, lat + 0.01))))
    assert (await locate(lat, lon)).tenant_id is None
    with pytest.raises(_Rollback):
        async with in_transaction():
            tenant = await Tenant.create(
                code=f"loc-{new_id().hex[:8]}",
                report_prefix="LOC",
                name_vi="Xã Thử",
                name_en="Test commune",
                unit_codes=["99990", "99991"],
            )
            await AdministrativeUnit.create(code="99990", name="Xã Thử", kind="xa", boundary=square)
            await AdministrativeUnit.create(
                code="99991", name="Xã Hỏng", kind="xa", boundary={"type": "Polygon"}
            )
            found = await locate(lat, lon)
            assert (found.tenant_id, found.unit_code) == (tenant.id, "99990")
            assert await locator.has_boundaries(tenant.id)
            raise _Rollback
    # Rolled back: the signature differs from the one the index was built from.
    assert (await locate(lat, lon)).tenant_id is None
    locator.invalidate()
    assert locator._index is None
    assert (await locate(*HANOI)).tenant_id is None and locator._index is not None
