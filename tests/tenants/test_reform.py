"""The 2025 reform: post-reform units with successors, the locator at the report's time, the
mapping of old units onto today's (tenants/units.py), and the reform data file itself."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pytest
import time_machine
import yaml
from shapely import unary_union
from shapely.geometry import shape
from tortoise.transactions import in_transaction

from core.errors import DomainError
from permissions.session import scoped_transaction
from reports.locator import locate
from reports.service import submit_report
from tenants.models import AdministrativeUnit, Tenant
from tenants.reform import PILOT_REFORM, apply_reform, load_reform_file, parse_reform
from tenants.units import UnitHistory, UnitVersion
from tests.clock import vn
from tests.support.reform import AFTER, BEFORE, demo_cells
from tests.support.services import new_input


class _Rollback(Exception):
    pass


# --- the data file ---------------------------------------------------------------------------


def test_every_pilot_unit_has_exactly_one_successor_in_the_file() -> None:
    reform = load_reform_file()
    named = Counter(p for u in reform.units for p in u.predecessors)
    assert set(named) == set(demo_cells()) and len(named) == 33
    assert all(n == 1 for n in named.values())
    assert reform.effective == date(2025, 7, 1) and reform.province_code == "15"
    assert len(reform.units) == 11  # 5 around the former city, 6 around the former town
    assert {u.code: u.name for u in reform.units}["02647"] == "Phường Lào Cai"


def test_the_file_cites_its_source_and_says_what_is_unconfirmed() -> None:
    doc = yaml.safe_load(PILOT_REFORM.read_text(encoding="utf-8"))
    assert "1673/NQ-UBTVQH15" in doc["source"]["act"]
    unconfirmed = {u["code"] for u in doc["units"] if not u["confirmed"]}
    assert unconfirmed == {"02923", "03046", "03004"}
    assert all(u.get("note") for u in doc["units"] if not u["confirmed"])


def test_new_boundaries_tile_the_old_area_exactly() -> None:
    cells = demo_cells()
    units = load_reform_file().units
    shapes = {u.code: shape(u.boundary) for u in units}
    for u in units:
        old = unary_union([cells[p] for p in u.predecessors])
        assert shapes[u.code].is_valid
        assert shapes[u.code].symmetric_difference(old).area < 1e-9, u.code
    listed = list(shapes.values())
    for i, a in enumerate(listed):
        for b in listed[i + 1 :]:
            assert a.intersection(b).area < 1e-9


def test_a_bad_document_is_refused_whole() -> None:
    with pytest.raises(DomainError) as error:
        parse_reform("reform: {effective: 2025-13-01}\nunits:\n  - {code: '12', kind: town}\n")
    fields = {d.field for d in error.value.details}
    assert fields == {"reform.effective", "units[0].code", "units[0].kind"}


# --- the mapping onto today's units ---------------------------------------------------------


def test_today_codes_follows_merges_splits_and_chains() -> None:
    history = UnitHistory(
        [
            UnitVersion("A", "a", date(2008, 1, 1), date(2019, 12, 31), ("B",)),
            UnitVersion("B", "b", date(2020, 1, 1), date(2025, 6, 30), ("C", "D")),
            UnitVersion("C", "c", date(2025, 7, 1), None, ()),
            UnitVersion("D", "d", date(2025, 7, 1), None, ()),
            UnitVersion("E", "e", date(2008, 1, 1), date(2025, 6, 30), ()),
        ]
    )
    today = date(2026, 3, 11)
    assert history.today_codes("A", date(2015, 5, 1), today) == ("C", "D")
    assert history.today_codes("B", date(2022, 9, 1), today) == ("C", "D")
    assert history.today_codes("B", date(2022, 9, 1), date(2024, 1, 1)) == ("B",)
    assert history.today_codes("C", today, today) == ("C",)
    assert history.today_codes("E", date(2022, 9, 1), today) == ("E",)  # no successor recorded
    # For grouping in SQL: ended codes to their key today; codes in force (C, D) and ended
    # ones without a successor (E) are their own key; a reused code is its own successor.
    assert history.today_keys(today) == {"A": "C+D", "B": "C+D"}
    assert history.today_keys(date(2024, 1, 1)) == {"A": "B"}
    reused = UnitHistory(
        [
            UnitVersion("F", "f", date(2008, 1, 1), date(2025, 6, 30), ("F",)),
            UnitVersion("F", "f2", date(2025, 7, 1), None, ()),
        ]
    )
    assert reused.today_keys(today) == {}


# --- in the database: the locator and submission before and after the reform ----------------


async def _reform_world(pilot: dict[str, Any]) -> Tenant:
    """Inside the caller's transaction: the reform loaded, the old tenants ended, and one
    provincial tenant holding the new units."""
    await apply_reform(load_reform_file())
    await Tenant.filter(code__in=["lao-cai", "sa-pa"]).update(valid_to=date(2025, 6, 30))
    return await Tenant.create(
        code="tinh-lao-cai-test",
        report_prefix="TLC",
        name_vi="UBND tỉnh Lào Cai",
        name_en="Lào Cai Province",
        province_code="15",
        unit_codes=[u.code for u in load_reform_file().units],
        valid_from=date(2025, 7, 1),
    )


def _point(cells: dict[str, Any], code: str) -> tuple[float, float]:
    p = cells[code].representative_point()
    return p.y, p.x


async def test_locator_before_and_after_the_reform(pilot: dict[str, Any]) -> None:
    laocai, sapa = pilot["tenants"]["lao-cai"], pilot["tenants"]["sa-pa"]
    cells = demo_cells()
    with pytest.raises(_Rollback):
        async with in_transaction():
            province = await _reform_world(pilot)
            cases = [
                ("02635", laocai, "02647"),  # Duyên Hải → Phường Lào Cai
                ("02647", laocai, "02647"),  # Kim Tân: a code the new ward reuses
                ("02674", laocai, "02671"),  # xã Cam Đường → Phường Cam Đường
                ("03040", sapa, "03037"),  # old Tả Van → new xã Tả Van
                ("03001", sapa, "03006"),  # phường Sa Pa → the one Phường Sa Pa
            ]
            for old, tenant, new in cases:
                lat, lon = _point(cells, old)
                then = await locate(lat, lon, at=BEFORE)
                assert (then.tenant_id, then.unit_code) == (tenant.id, old)
                now = await locate(lat, lon, at=AFTER)
                assert (now.tenant_id, now.unit_code) == (province.id, new), old
                # even when the old tenant asks first: it no longer holds the area
                preferred = await locate(lat, lon, prefer_tenant=tenant.id, at=AFTER)
                assert preferred.tenant_id == province.id
            # the day before and the day of the reform
            lat, lon = _point(cells, "02635")
            assert (await locate(lat, lon, at=vn(2025, 6, 30, 23, 59))).unit_code == "02635"
            assert (await locate(lat, lon, at=vn(2025, 7, 1, 0, 1))).unit_code == "02647"
            raise _Rollback
    lat, lon = _point(cells, "02635")  # rolled back: today the old units again
    assert (await locate(lat, lon, at=AFTER)).unit_code == "02635"


async def test_reform_is_idempotent_and_links_successors(pilot: dict[str, Any]) -> None:
    with pytest.raises(_Rollback):
        async with in_transaction():
            first = await apply_reform(load_reform_file())
            assert len(first.created) == 11 and len(first.ended) == 33
            again = await apply_reform(load_reform_file())
            assert again.created == [] and again.ended == []
            history = await UnitHistory.load()
            assert history.today_codes("02665", date(2022, 9, 1), AFTER) == ("02647",)
            assert history.today_codes("03052", date(2022, 9, 1), AFTER) == ("03043",)
            kim_tan = await AdministrativeUnit.get(code="02647", valid_from=date(2020, 3, 1))
            assert kim_tan.successor_codes == ["02647"]
            raise _Rollback


async def test_unknown_predecessor_writes_nothing(pilot: dict[str, Any]) -> None:
    doc = yaml.safe_load(PILOT_REFORM.read_text(encoding="utf-8"))
    doc["units"][-1]["predecessors"] = ["03004", "09999"]
    reform = parse_reform(yaml.safe_dump(doc))
    before = await AdministrativeUnit.all().count()
    with pytest.raises(DomainError) as error:
        async with in_transaction():
            await apply_reform(reform)
    assert error.value.code == "UNKNOWN_UNIT" and "09999" in error.value.details[0].message_en
    assert await AdministrativeUnit.all().count() == before


async def test_reports_land_in_the_units_of_their_time(sapa: dict[str, Any]) -> None:
    """Sa Pa re-scoped onto the new units (a tenant following the reform without a merge)."""
    cells = demo_cells()
    lat, lon = _point(cells, "03001")
    with pytest.raises(_Rollback):
        async with in_transaction():
            await apply_reform(load_reform_file())
            tenant = await Tenant.get(id=sapa["tenant"].id)
            tenant.unit_codes = [*tenant.unit_codes, "03006", "03013", "03037"]
            await tenant.save(update_fields=["unit_codes", "updated_at"])
            codes = {}
            for label, at in (("before", BEFORE), ("after", AFTER)):
                with time_machine.travel(at, tick=False):
                    async with scoped_transaction(sapa["citizen"]):
                        result = await submit_report(
                            sapa["citizen"], new_input(sapa, latitude=lat, longitude=lon)
                        )
                codes[label] = result.report.unit_code
            assert codes == {"before": "03001", "after": "03006"}
            raise _Rollback
