"""Demo / pilot onboarding data of the two Lào Cai pilot tenants (tenants/demo/*.yaml).

Plain pytest, no database: the files parse, follow the onboarding format, carry the official unit
codes of 2022, and their generated boundaries form a clean coverage (bench/make_demo_boundaries.py).
"""

from __future__ import annotations

import importlib.util
import re
import sys
from datetime import date
from itertools import combinations
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from shapely.geometry import Point, Polygon, shape
from shapely.ops import unary_union

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "tenants" / "demo"
SCRIPT = ROOT / "bench" / "make_demo_boundaries.py"

EXPECTED = {
    "lao-cai": {
        "file": "lao-cai.yaml",
        "name_vi": "UBND thành phố Lào Cai",
        "report_prefix": "LC",
        "district_code": "080",
        "counts": {"phuong": 10, "xa": 7},
        "admin": "laocai.admin",
    },
    "sa-pa": {
        "file": "sa-pa.yaml",
        "name_vi": "UBND thị xã Sa Pa",
        "report_prefix": "SP",
        "district_code": "088",
        "counts": {"phuong": 6, "xa": 10},
        "admin": "sapa.admin",
    },
}
FIELD_CODES = [
    "van-tai",
    "trat-tu-atgt",
    "ha-tang-gt-do-thi",
    "du-lich",
    "thong-tin-truyen-thong",
    "ve-sinh-attp",
    "thien-tai-moi-truong",
    "trat-tu-xa-hoi",
]
TOP_KEYS = ["tenant", "administrative_units", "agencies", "fields", "admin"]
# A locality's own office hours, where the demo records them (tenants/demo/README.md): Lào Cai's
# 07:30-12:00 and 13:30-17:00 (docs/domain.md); Sa Pa keeps the defaults its tests rely on.
OFFICE_HOURS = {"lao-cai": [["07:30", "12:00"], ["13:30", "17:00"]]}
TENANT_KEYS = {
    "code",
    "report_prefix",
    "name_vi",
    "name_en",
    "parent_organisation",
    "province_code",
    "district_code",
}
UNIT_KEYS = {"code", "name", "kind", "valid_from", "valid_to", "boundary"}
AGENCY_KEYS = {"code", "name_vi", "name_en", "kind", "is_coordination_centre"}
FIELD_KEYS = {"code", "name_vi", "name_en", "default_agency", "sensitive", "quick_fix"}
ADMIN_KEYS = {"username", "full_name", "email"}
AGENCY_KINDS = {"office", "department", "police", "commune", "company", "centre", "other"}
NAME_PREFIX = {"phuong": "Phường ", "xa": "Xã ", "thi_tran": "Thị trấn "}
SLUG = re.compile(r"^[a-z0-9-]{2,40}$")
REFORM_EVE = date(2025, 6, 30)  # the 2025 reform took effect on 01/7/2025
AREA_EPS = 1e-9

TENANTS = list(EXPECTED)


@pytest.fixture(scope="module")
def docs() -> dict[str, dict[str, Any]]:
    return {
        tenant: yaml.safe_load((DEMO / spec["file"]).read_text(encoding="utf-8"))
        for tenant, spec in EXPECTED.items()
    }


@pytest.fixture(scope="module")
def polygons(docs: dict[str, dict[str, Any]]) -> dict[str, dict[str, Polygon]]:
    return {
        tenant: {u["code"]: shape(u["boundary"]) for u in doc["administrative_units"]}
        for tenant, doc in docs.items()
    }


@pytest.fixture(scope="module")
def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_demo_boundaries", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# -- format ---------------------------------------------------------------------------------


@pytest.mark.parametrize("tenant", TENANTS)
def test_file_has_exactly_the_onboarding_keys(docs, tenant):
    doc = docs[tenant]
    if tenant in OFFICE_HOURS:
        assert list(doc) == [TOP_KEYS[0], "calendar", *TOP_KEYS[1:]]
        assert doc["calendar"] == {"office_hours": OFFICE_HOURS[tenant]}
    else:
        assert list(doc) == TOP_KEYS
    assert set(doc["tenant"]) == TENANT_KEYS
    assert set(doc["admin"]) == ADMIN_KEYS
    for unit in doc["administrative_units"]:
        assert set(unit) == UNIT_KEYS, unit["code"]
    for agency in doc["agencies"]:
        assert set(agency) == AGENCY_KEYS, agency["code"]
    for field in doc["fields"]:
        assert set(field) == FIELD_KEYS, field["code"]


@pytest.mark.parametrize("tenant", TENANTS)
def test_tenant_header(docs, tenant):
    head, expected = docs[tenant]["tenant"], EXPECTED[tenant]
    assert head["code"] == tenant and SLUG.match(head["code"])
    assert re.fullmatch(r"[A-Z]{2,4}", head["report_prefix"])
    assert head["report_prefix"] == expected["report_prefix"]
    assert head["name_vi"] == expected["name_vi"]
    assert head["name_en"].strip()
    assert head["parent_organisation"] == "UBND tỉnh Lào Cai"
    assert head["province_code"] == "10"  # strings, never YAML integers
    assert head["district_code"] == expected["district_code"]


def test_report_prefixes_differ(docs):
    prefixes = [doc["tenant"]["report_prefix"] for doc in docs.values()]
    assert len(set(prefixes)) == len(prefixes)


@pytest.mark.parametrize("tenant", TENANTS)
def test_admin_account(docs, tenant):
    admin = docs[tenant]["admin"]
    assert admin["username"] == EXPECTED[tenant]["admin"]
    assert admin["full_name"].startswith("Quản trị")
    assert re.fullmatch(r"[a-z0-9.]+@[a-z0-9.-]+\.example\.vn", admin["email"])


# -- administrative units -------------------------------------------------------------------


@pytest.mark.parametrize("tenant", TENANTS)
def test_unit_counts_and_kinds(docs, tenant):
    units = docs[tenant]["administrative_units"]
    counts: dict[str, int] = {}
    for unit in units:
        counts[unit["kind"]] = counts.get(unit["kind"], 0) + 1
    assert counts == EXPECTED[tenant]["counts"]
    assert len(units) == sum(EXPECTED[tenant]["counts"].values())


def test_unit_codes_are_unique_five_digit_strings(docs):
    codes = [u["code"] for doc in docs.values() for u in doc["administrative_units"]]
    assert all(isinstance(c, str) and re.fullmatch(r"\d{5}", c) for c in codes), codes
    assert len(set(codes)) == len(codes) == 33


@pytest.mark.parametrize("tenant", TENANTS)
def test_unit_names_and_validity(docs, tenant):
    names = set()
    for unit in docs[tenant]["administrative_units"]:
        assert unit["name"].startswith(NAME_PREFIX[unit["kind"]]), unit["name"]
        names.add(unit["name"])
        assert isinstance(unit["valid_from"], date) and isinstance(unit["valid_to"], date)
        assert date(2008, 1, 1) <= unit["valid_from"] <= date(2020, 3, 1)
        assert unit["valid_to"] == REFORM_EVE
    assert len(names) == len(docs[tenant]["administrative_units"])


def test_spot_checks_of_official_codes(docs):
    by_code = {u["code"]: u["name"] for doc in docs.values() for u in doc["administrative_units"]}
    assert by_code["02641"] == "Phường Lào Cai"
    assert by_code["02659"] == "Xã Thống Nhất"
    assert by_code["02746"] == "Xã Cốc San"
    assert by_code["03001"] == "Phường Sa Pa"
    assert by_code["03002"] == "Phường Sa Pả"
    assert by_code["03006"] == "Phường Phan Si Păng"


# -- boundaries -----------------------------------------------------------------------------


@pytest.mark.parametrize("tenant", TENANTS)
def test_boundaries_are_valid_small_polygons(docs, polygons, tenant):
    for unit in docs[tenant]["administrative_units"]:
        geo = unit["boundary"]
        assert geo["type"] == "Polygon"
        ring = geo["coordinates"][0]
        assert ring[0] == ring[-1] and 4 <= len(ring) <= 41, unit["code"]
        for lon, lat in (pt for r in geo["coordinates"] for pt in r):
            assert 103.6 < lon < 104.2 and 22.0 < lat < 22.6  # lon, lat order; Lào Cai area
            assert round(lon, 5) == lon and round(lat, 5) == lat
        poly = polygons[tenant][unit["code"]]
        assert isinstance(poly, Polygon) and poly.is_valid and not poly.is_empty
        assert poly.exterior.is_ccw  # RFC 7946 right-hand rule
        assert poly.contains(poly.representative_point())


@pytest.mark.parametrize("tenant", TENANTS)
def test_boundaries_contain_their_centres(polygons, generator, tenant):
    for code, _name, lat, lon, _source in generator.CENTROIDS[tenant]:
        assert polygons[tenant][code].contains(Point(lon, lat)), code


@pytest.mark.parametrize("tenant", TENANTS)
def test_units_of_a_tenant_do_not_overlap(polygons, tenant):
    for (a, pa), (b, pb) in combinations(polygons[tenant].items(), 2):
        assert pa.intersection(pb).area < AREA_EPS, (a, b)


@pytest.mark.parametrize("tenant", TENANTS)
def test_units_tile_the_district_outline(polygons, generator, tenant):
    covered = unary_union(list(polygons[tenant].values()))
    outline = generator.outline_polygon(tenant)
    assert isinstance(covered, Polygon) and not covered.interiors  # no gaps
    assert covered.symmetric_difference(outline).area < 1e-6  # up to the 1e-5 degree grid
    assert covered.exterior.hausdorff_distance(outline.exterior) <= 2e-5


def test_the_two_tenants_do_not_overlap(polygons):
    lao_cai = unary_union(list(polygons["lao-cai"].values()))
    sa_pa = unary_union(list(polygons["sa-pa"].values()))
    # Disjoint interiors: the districts may only touch along their common border.
    assert lao_cai.intersection(sa_pa).area < AREA_EPS
    assert lao_cai.disjoint(sa_pa) or lao_cai.touches(sa_pa)


def test_boundaries_are_the_generator_output(polygons, generator):
    built = generator.build_boundaries()
    assert set(built) == set(polygons)
    for tenant, units in built.items():
        assert set(units) == set(polygons[tenant])
        for code, poly in units.items():
            assert poly.symmetric_difference(polygons[tenant][code]).area < AREA_EPS, code


# -- agencies and fields --------------------------------------------------------------------


@pytest.mark.parametrize("tenant", TENANTS)
def test_agencies(docs, tenant):
    agencies = docs[tenant]["agencies"]
    assert 10 <= len(agencies) <= 14
    codes = [a["code"] for a in agencies]
    assert len(set(codes)) == len(codes)
    for agency in agencies:
        assert SLUG.match(agency["code"]), agency["code"]
        assert agency["kind"] in AGENCY_KINDS
        assert agency["name_vi"].strip() and agency["name_en"].strip()
        assert isinstance(agency["is_coordination_centre"], bool)
    centres = [a for a in agencies if a["is_coordination_centre"]]
    assert len(centres) == 1
    assert centres[0]["name_vi"].startswith("Văn phòng HĐND và UBND")
    assert sum(a["kind"] == "police" for a in agencies) == 1


@pytest.mark.parametrize("tenant", TENANTS)
def test_fields(docs, tenant):
    fields = docs[tenant]["fields"]
    assert [f["code"] for f in fields] == FIELD_CODES
    agencies = {a["code"]: a for a in docs[tenant]["agencies"]}
    for field in fields:
        assert field["default_agency"] in agencies, field["code"]
        assert field["name_vi"].strip() and field["name_en"].strip()
        assert isinstance(field["sensitive"], bool) and isinstance(field["quick_fix"], bool)
    assert [f["code"] for f in fields if f["sensitive"]] == ["trat-tu-xa-hoi"]
    lead = {f["code"]: agencies[f["default_agency"]]["kind"] for f in fields}
    assert lead["trat-tu-atgt"] == lead["trat-tu-xa-hoi"] == "police"


def test_both_tenants_route_the_same_way(docs):
    routing = [
        [(f["code"], f["default_agency"], f["sensitive"], f["quick_fix"]) for f in doc["fields"]]
        for doc in docs.values()
    ]
    assert routing[0] == routing[1]
