"""Duplicate suggestions: open reports of the same field nearby, nearest first."""

from __future__ import annotations

import math
from typing import Any

import pytest
from shapely.geometry import shape

from core.errors import DomainError
from permissions.session import scoped_transaction
from reports.duplicates import haversine_m
from reports.models import Report
from reports.service import nearby_open_reports, submit_report
from reports.workflow import WorkflowAction as A
from tenants.models import AdministrativeUnit, Field, TenantSettings
from tests.support.services import new_input, sapa_env, scope_of, step

M_PER_DEG = 111_195.0


@pytest.fixture
async def sapa(pilot: dict[str, Any]) -> dict[str, Any]:
    return await sapa_env(pilot)


async def base_point(sapa: dict[str, Any], position: int) -> tuple[float, float]:
    """A point deep inside one Sa Pa unit, a different one per test (none of the other tests
    submit there)."""
    codes = sorted(c for c in sapa["tenant"].unit_codes if c != "03001")
    unit = await AdministrativeUnit.filter(code=codes[position]).first()
    point = shape(unit.boundary).representative_point()
    return point.y, point.x


def moved(point: tuple[float, float], north_m: float, east_m: float) -> tuple[float, float]:
    lat, lon = point
    return (
        lat + north_m / M_PER_DEG,
        lon + east_m / (M_PER_DEG * math.cos(math.radians(lat))),
    )


async def submit_at(sapa: dict[str, Any], point: tuple[float, float], **overrides: Any) -> Any:
    data = new_input(sapa, latitude=point[0], longitude=point[1], **overrides)
    async with scoped_transaction(sapa["citizen"]):
        return await submit_report(sapa["citizen"], data)


async def nearby(sapa: dict[str, Any], point: tuple[float, float], **kwargs: Any) -> list[Any]:
    scope = sapa["operator"]
    async with scoped_transaction(scope):
        return await nearby_open_reports(scope, sapa["field"].id, *point, **kwargs)


def test_haversine() -> None:
    assert haversine_m(22.0, 103.0, 22.0, 103.0) == 0
    assert haversine_m(22.0, 103.0, 23.0, 103.0) == pytest.approx(111_195, rel=1e-4)
    assert haversine_m(0.0, 0.0, 0.0, 1.0) == pytest.approx(111_195, rel=1e-4)


async def test_nearest_open_reports_of_the_same_field(sapa: dict[str, Any]) -> None:
    base = await base_point(sapa, 0)
    near = (await submit_at(sapa, moved(base, 50, 0))).report
    middle = (await submit_at(sapa, moved(base, 0, -120))).report
    far = (await submit_at(sapa, moved(base, 300, 0))).report
    async with scoped_transaction(sapa["operator"]):
        fields = Field.filter(tenant_id=sapa["tenant"].id, active=True)
        other_field = await fields.exclude(id=sapa["field"].id).order_by("code").first()
    await submit_at(sapa, moved(base, 10, 0), field_id=other_field.id)
    withdrawn = (await submit_at(sapa, moved(base, 0, 20))).report
    await step(sapa["citizen"], withdrawn, A.WITHDRAW)

    found = await nearby(sapa, base)
    assert [r.id for r, _ in found] == [near.id, middle.id]
    assert [round(d) for _, d in found] == [50, 120]
    assert [r.id for r, _ in await nearby(sapa, base, radius_m=500)] == [
        near.id,
        middle.id,
        far.id,
    ]
    assert [r.id for r, _ in await nearby(sapa, base, limit=1)] == [near.id]
    assert [r.id for r, _ in await nearby(sapa, base, exclude_id=near.id)] == [middle.id]


async def test_submission_suggests_duplicates_but_not_itself(sapa: dict[str, Any]) -> None:
    base = await base_point(sapa, 1)
    first = await submit_at(sapa, base)
    assert first.possible_duplicates == []
    data = new_input(sapa, latitude=moved(base, 30, 0)[0], longitude=base[1])
    async with scoped_transaction(sapa["citizen"]):
        second = await submit_report(sapa["citizen"], data)
    [(match, distance)] = second.possible_duplicates
    assert match.id == first.report.id and distance == pytest.approx(30, abs=0.5)
    async with scoped_transaction(sapa["citizen"]):
        retry = await submit_report(sapa["citizen"], data)
    assert not retry.created
    assert [r.id for r, _ in retry.possible_duplicates] == [first.report.id]


async def test_radius_comes_from_tenant_settings(sapa: dict[str, Any]) -> None:
    base = await base_point(sapa, 2)
    far = (await submit_at(sapa, moved(base, 400, 0))).report
    assert await nearby(sapa, base) == []

    class Rollback(Exception):
        pass

    scope = sapa["operator"]
    with pytest.raises(Rollback):
        async with scoped_transaction(scope):
            settings = await TenantSettings.get(tenant_id=sapa["tenant"].id)
            settings.options = {**settings.options, "duplicate_radius_m": 500}
            await settings.save()
            found = await nearby_open_reports(scope, sapa["field"].id, *base)
            assert [r.id for r, _ in found] == [far.id]
            raise Rollback


async def test_invalid_arguments(sapa: dict[str, Any]) -> None:
    cases = [
        ({"radius_m": -1}, "radiusM"),
        ({"radius_m": 50_000}, "radiusM"),
        ({"limit": 0}, "limit"),
        ({"latitude": 95.0}, "latitude"),
        ({"longitude": float("nan")}, "longitude"),
    ]
    for overrides, field in cases:
        args = {"latitude": 22.33, "longitude": 103.84, **overrides}
        with pytest.raises(DomainError) as error:
            async with scoped_transaction(sapa["operator"]):
                await nearby_open_reports(sapa["operator"], sapa["field"].id, **args)
        assert (error.value.code, error.value.field) == ("OUT_OF_RANGE", field)


async def test_other_tenants_reports_are_never_suggested(
    sapa: dict[str, Any], pilot: dict[str, Any]
) -> None:
    base = await base_point(sapa, 3)
    mine = (await submit_at(sapa, base)).report
    laocai = await scope_of(pilot, "laocai.intake-operator", "lao-cai")
    async with scoped_transaction(laocai):
        assert await nearby_open_reports(laocai, sapa["field"].id, *base) == []
        assert not await Report.exists(id=mine.id)
