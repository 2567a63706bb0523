"""Onboarding a locality (GraphQL and YAML) and a tenant admin configuring agencies and fields."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from strawberry.relay import GlobalID

from core.errors import DomainError
from permissions.session import tenant_transaction
from permissions.templates import TENANT_TEMPLATES
from reports.records import tenant_rules
from tenants import document, onboarding
from tenants.calendar import WorkingCalendar
from tenants.models import (
    AdministrativeUnit,
    Tenant,
)
from tests.conftest import GraphQLClient, unique
from tests.factories import find_user, user_named
from tests.support.onboarding import (
    EMPTY,
    TenantIds,
    assert_nothing_left,
    demo_document,
    onboard_document,
    square,
    tenant_rows,
    unit_code,
    write_document,
)

PASSWORD = "onboarding-pass-2026"
VN = ZoneInfo("Asia/Ho_Chi_Minh")

ONBOARD = """
mutation($i: OnboardTenantInput!) {
  onboardTenant(input: $i) {
    tenant { id code reportPrefix nameVi nameEn status unitCodes
             administrativeUnits { code name kind boundary } }
    adminUsername
    generatedAdminPassword
    errors { code field message }
  }
}"""
CREATE_AGENCY = """
mutation($i: CreateAgencyInput!) {
  createAgency(input: $i) {
    agency { id code nameVi nameEn kind isCoordinationCentre active }
    errors { code field message }
  }
}"""
UPDATE_AGENCY = """
mutation($i: UpdateAgencyInput!) {
  updateAgency(input: $i) { agency { id nameVi nameEn kind active } errors { code field } }
}"""
CREATE_FIELD = """
mutation($i: CreateFieldInput!) {
  createField(input: $i) {
    field { id code name defaultAgency { id code } sensitive quickFix }
    errors { code field message }
  }
}"""
CONFIG = """{
  currentTenant { code }
  agencies { code kind isCoordinationCentre }
  fields { code defaultAgency { code } sensitive quickFix }
  roles { code isTemplate actions }
}"""


def plan(code: str | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid onboardTenant input; ``overrides`` replace top-level keys."""
    code = code or unique("ob")
    admin = unique("adm")
    value: dict[str, Any] = {
        "code": code,
        "reportPrefix": "OB",
        "nameVi": "UBND Xã Thử nghiệm",
        "nameEn": "Test Commune People's Committee",
        "parentOrganisation": "UBND tỉnh Lào Cai",
        "provinceCode": "10",
        "admin": {
            "username": f"{admin}.admin",
            "fullName": "Quản trị thử nghiệm",
            "email": f"{admin}@example.vn",
            "password": PASSWORD,
        },
        "administrativeUnits": [
            {
                "code": (unit := unit_code()),
                "name": "Xã Thử nghiệm",
                "kind": "XA",
                "validFrom": "2020-01-01",
                "boundary": square(unit),
            }
        ],
        "agencies": [
            {
                "code": "van-phong",
                "nameVi": "Văn phòng UBND",
                "nameEn": "Office",
                "kind": "OFFICE",
                "isCoordinationCentre": True,
            },
            {"code": "cong-an", "nameVi": "Công an xã", "nameEn": "Police", "kind": "POLICE"},
        ],
        "fields": [
            {
                "code": "trat-tu",
                "nameVi": "Trật tự",
                "nameEn": "Order",
                "defaultAgencyCode": "cong-an",
                "sensitive": True,
            },
            {"code": "moi-truong", "nameVi": "Môi trường", "nameEn": "Environment"},
        ],
    }
    value.update(overrides)
    return value


@pytest.fixture(scope="module")
async def province(gql: GraphQLClient, pilot: dict[str, Any]) -> str:
    return await gql.login("tinh.admin", pilot["password"])


async def onboard(gql: GraphQLClient, token: str, data: dict[str, Any], lang: str = "en") -> Any:
    body = await gql(ONBOARD, {"i": data}, token=token, lang=lang)
    assert "errors" not in body, body
    return body["data"]["onboardTenant"]


# --- onboarding over GraphQL ------------------------------------------------------------------


async def test_provincial_admin_onboards_a_tenant(
    gql: GraphQLClient, province: str, pilot: dict[str, Any]
) -> None:
    data = plan()
    result = await onboard(gql, province, data)
    assert result["errors"] == []
    assert result["adminUsername"] == data["admin"]["username"]
    assert result["generatedAdminPassword"] is None
    tenant = result["tenant"]
    assert tenant["code"] == data["code"]
    assert (tenant["reportPrefix"], tenant["status"]) == ("OB", "ACTIVE")
    unit = data["administrativeUnits"][0]
    assert tenant["unitCodes"] == [unit["code"]]
    assert tenant["administrativeUnits"] == [
        {"code": unit["code"], "name": unit["name"], "kind": "XA", "boundary": unit["boundary"]}
    ]

    token = await gql.login(data["admin"]["username"], PASSWORD, data["code"])
    config = await gql.ok(CONFIG, token=token)
    assert config["currentTenant"] == {"code": data["code"]}
    assert config["agencies"] == [
        {"code": "cong-an", "kind": "POLICE", "isCoordinationCentre": False},
        {"code": "van-phong", "kind": "OFFICE", "isCoordinationCentre": True},
    ]
    assert config["fields"] == [  # in the plan's order
        {
            "code": "trat-tu",
            "defaultAgency": {"code": "cong-an"},
            "sensitive": True,
            "quickFix": False,
        },
        {"code": "moi-truong", "defaultAgency": None, "sensitive": False, "quickFix": False},
    ]
    roles = {r["code"]: r for r in config["roles"]}
    assert set(roles) == {t.code for t in TENANT_TEMPLATES}
    assert all(r["isTemplate"] for r in roles.values())
    assert "tenant:manage" in roles["tenant_admin"]["actions"]
    assert "tenant:onboard" not in {a for r in roles.values() for a in r["actions"]}

    me = await gql.ok("{ me { user { username } tenant { code } roles } }", token=token)
    assert me["me"]["roles"] == ["tenant_admin"]

    # The province sees the new tenant at once; the other tenants do not.
    codes = [t["code"] for t in (await gql.ok("{ tenants { code } }", token=province))["tenants"]]
    assert {data["code"], "lao-cai", "sa-pa"} <= set(codes)
    sapa = await gql.login("sapa.admin", pilot["password"])
    assert [t["code"] for t in (await gql.ok("{ tenants { code } }", token=sapa))["tenants"]] == [
        "sa-pa"
    ]
    counts = await tenant_rows(uuid.UUID(GlobalID.from_id(tenant["id"]).node_id))
    assert counts["settings"] == 1 and counts["membership"] == 1
    assert counts["role"] == len(TENANT_TEMPLATES)


async def test_generated_admin_password_is_returned_once(gql: GraphQLClient, province: str) -> None:
    data = plan()
    del data["admin"]["password"]
    result = await onboard(gql, province, data)
    assert result["errors"] == []
    password = result["generatedAdminPassword"]
    assert password and len(password) >= 12
    # It is one-time: the first login must replace it.
    first = await gql(
        "mutation($i: LoginInput!) { login(input: $i) { accessToken errors { code field } } }",
        {"i": {"username": data["admin"]["username"], "password": password}},
    )
    assert first["data"]["login"] == {
        "accessToken": None,
        "errors": [{"code": "PASSWORD_CHANGE_REQUIRED", "field": "newPassword"}],
    }
    token = await gql.login(
        data["admin"]["username"], password, data["code"], new_password=PASSWORD
    )
    assert (await gql.ok("{ currentTenant { code } }", token=token))["currentTenant"] == {
        "code": data["code"]
    }


async def test_codes_are_normalised(gql: GraphQLClient, province: str) -> None:
    code = unique("ob")
    data = plan(code=f"  {code.upper()} ", reportPrefix=" ob ")
    data["agencies"][1]["code"] = "CONG-AN"
    data["fields"][0]["defaultAgencyCode"] = "Cong-An"
    result = await onboard(gql, province, data)
    assert result["errors"] == []
    assert (result["tenant"]["code"], result["tenant"]["reportPrefix"]) == (code, "OB")
    token = await gql.login(data["admin"]["username"], PASSWORD, code)
    fields = (await gql.ok(CONFIG, token=token))["fields"]
    assert fields[0]["defaultAgency"] == {"code": "cong-an"}


async def test_failure_after_the_tenant_row_leaves_nothing_behind(
    gql: GraphQLClient, province: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The admin account is created last, after the tenant, its units, agencies, fields,
    settings and roles were written: a failure there must undo all of it. (Usernames are unique
    per tenant, so a new tenant cannot collide with an existing account: the refusal is made
    to happen at that step.)"""
    drawn = TenantIds(monkeypatch)
    data = plan()
    data["admin"]["username"] = "sapa.admin"

    async def taken(*_args: Any, **_kwargs: Any) -> None:
        raise DomainError(
            "DUPLICATE_USERNAME", "Tên đăng nhập đã tồn tại.", "This username is taken.", "username"
        )

    monkeypatch.setattr(onboarding, "create_user", taken)
    result = await onboard(gql, province, data)
    assert result["tenant"] is None and result["adminUsername"] is None
    assert [(e["code"], e["field"]) for e in result["errors"]] == [
        ("DUPLICATE_USERNAME", "admin.username")
    ]
    assert len(drawn.ids) == 1  # the writes did start
    assert not await Tenant.exists(code=data["code"])
    assert not await AdministrativeUnit.exists(code=data["administrativeUnits"][0]["code"])
    assert await tenant_rows(drawn.ids[0]) == EMPTY
    # The existing account was not touched.
    sapa_admin = await user_named("sapa.admin")
    assert sapa_admin.full_name != data["admin"]["fullName"]


async def test_failure_at_the_last_step_leaves_nothing_behind(
    gql: GraphQLClient, province: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn = TenantIds(monkeypatch)

    async def refuse(*args: Any, **kwargs: Any) -> None:
        raise DomainError("PROBE", "Thử lỗi.", "Probe failure.")

    monkeypatch.setattr(onboarding, "grant_role_unchecked", refuse)
    data = plan()
    result = await onboard(gql, province, data)
    assert [e["code"] for e in result["errors"]] == ["PROBE"]
    assert len(drawn.ids) == 1
    await assert_nothing_left(data, drawn.ids)


async def test_unexpected_failure_leaves_nothing_behind(
    gql: GraphQLClient, province: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn = TenantIds(monkeypatch)

    async def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(onboarding, "grant_role_unchecked", crash)
    data = plan()
    body = await gql(ONBOARD, {"i": data}, token=province)
    assert body["data"] is None
    assert body["errors"][0]["message"] == "Internal error."
    assert "disk full" not in str(body)
    assert len(drawn.ids) == 1
    await assert_nothing_left(data, drawn.ids)


LONG = "x" * 500
BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[103.8, 22.3], [103.9, 22.4], [103.9, 22.3], [103.8, 22.4], [103.8, 22.3]]],
}


def _bad_unit(**unit: Any) -> dict[str, Any]:
    data = plan()
    data["administrativeUnits"][0].update(unit)
    return data


def _bad_agency(index: int, **agency: Any) -> dict[str, Any]:
    data = plan()
    data["agencies"][index].update(agency)
    return data


def _bad_field(index: int, **fld: Any) -> dict[str, Any]:
    data = plan()
    data["fields"][index].update(fld)
    return data


def _bad_admin(**admin: Any) -> dict[str, Any]:
    data = plan()
    data["admin"].update(admin)
    return data


BAD_INPUTS: dict[str, tuple[Any, list[tuple[str, str]]]] = {
    "empty nameVi": (lambda: plan(nameVi="   "), [("REQUIRED", "nameVi")]),
    "empty nameEn": (lambda: plan(nameEn=""), [("REQUIRED", "nameEn")]),
    "empty agency name": (
        lambda: _bad_agency(1, nameEn=" "),
        [("REQUIRED", "agencies[1].nameEn")],
    ),
    "empty field name": (lambda: _bad_field(0, nameVi=""), [("REQUIRED", "fields[0].nameVi")]),
    "empty unit name": (lambda: _bad_unit(name=""), [("REQUIRED", "administrativeUnits[0].name")]),
    "empty admin name": (lambda: _bad_admin(fullName=""), [("REQUIRED", "admin.fullName")]),
    "long nameVi": (lambda: plan(nameVi=LONG), [("TOO_LONG", "nameVi")]),
    "long agency name": (lambda: _bad_agency(0, nameVi=LONG), [("TOO_LONG", "agencies[0].nameVi")]),
    "long field name": (lambda: _bad_field(1, nameEn=LONG), [("TOO_LONG", "fields[1].nameEn")]),
    "long parent": (lambda: plan(parentOrganisation=LONG), [("TOO_LONG", "parentOrganisation")]),
    "invalid code": (lambda: plan(code="Sa Pa!"), [("INVALID_CODE", "code")]),
    "one-letter code": (lambda: plan(code="s"), [("INVALID_CODE", "code")]),
    "long code": (lambda: plan(code="a" * 41), [("INVALID_CODE", "code")]),
    "invalid agency code": (
        lambda: _bad_agency(0, code="văn-phòng"),
        [("INVALID_CODE", "agencies[0].code")],
    ),
    "invalid unit code": (
        lambda: _bad_unit(code="123"),
        [("INVALID_CODE", "administrativeUnits[0].code")],
    ),
    "invalid prefix": (lambda: plan(reportPrefix="S1"), [("INVALID_PREFIX", "reportPrefix")]),
    "duplicate agency codes": (
        lambda: _bad_agency(0, code="cong-an"),
        [("DUPLICATE_CODE", "agencies[1].code")],
    ),
    "duplicate agency codes up to case": (
        lambda: _bad_agency(0, code=" Cong-An"),
        [("DUPLICATE_CODE", "agencies[1].code")],
    ),
    "duplicate field codes": (
        lambda: _bad_field(1, code="trat-tu"),
        [("DUPLICATE_CODE", "fields[1].code")],
    ),
    "two centres": (
        lambda: _bad_agency(1, isCoordinationCentre=True),
        [("MANY_CENTRES", "agencies")],
    ),
    "unknown default agency": (
        lambda: _bad_field(1, defaultAgencyCode="phong-y-te"),
        [("UNKNOWN_AGENCY", "fields[1].defaultAgencyCode")],
    ),
    "self-intersecting boundary": (
        lambda: _bad_unit(boundary=BOWTIE),
        [("INVALID_GEOJSON", "administrativeUnits[0].boundary")],
    ),
    "boundary of the wrong type": (
        lambda: _bad_unit(boundary={"type": "Point", "coordinates": [103.8, 22.3]}),
        [("INVALID_GEOJSON", "administrativeUnits[0].boundary")],
    ),
    "boundary in lat, lon order": (
        lambda: _bad_unit(
            boundary={
                "type": "Polygon",
                "coordinates": [[[22.3, 103.8], [22.3, 103.9], [22.4, 103.9], [22.3, 103.8]]],
            }
        ),
        [("INVALID_GEOJSON", "administrativeUnits[0].boundary")],
    ),
    "boundary without coordinates": (
        lambda: _bad_unit(boundary={"type": "Polygon"}),
        [("INVALID_GEOJSON", "administrativeUnits[0].boundary")],
    ),
    "boundary that is not an object": (
        lambda: _bad_unit(boundary="POLYGON((0 0, 1 0, 1 1, 0 0))"),
        [("INVALID_GEOJSON", "administrativeUnits[0].boundary")],
    ),
    "weak admin password": (
        lambda: _bad_admin(password="short"),
        [("PASSWORD_TOO_SHORT", "admin.password")],
    ),
    "invalid admin username": (
        lambda: _bad_admin(username="bad user"),
        [("INVALID_USERNAME", "admin.username")],
    ),
    "invalid admin email": (
        lambda: _bad_admin(email="not-an-email"),
        [("INVALID_EMAIL", "admin.email")],
    ),
    "every error at once": (
        lambda: (
            _bad_field(0, code="", defaultAgencyCode="nope", nameEn=LONG)
            | {"nameVi": "", "reportPrefix": ""}
        ),
        [
            ("INVALID_PREFIX", "reportPrefix"),
            ("REQUIRED", "nameVi"),
            ("INVALID_CODE", "fields[0].code"),
            ("TOO_LONG", "fields[0].nameEn"),
            ("UNKNOWN_AGENCY", "fields[0].defaultAgencyCode"),
        ],
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
async def test_bad_input_gets_typed_errors_and_changes_nothing(
    gql: GraphQLClient, province: str, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    build, expected = BAD_INPUTS[case]
    data = build()
    drawn = TenantIds(monkeypatch)
    result = await onboard(gql, province, data)
    assert result["tenant"] is None
    assert [(e["code"], e["field"]) for e in result["errors"]] == expected
    assert all(e["message"] for e in result["errors"])
    assert drawn.ids == []  # refused before any write
    await assert_nothing_left(data, drawn.ids)


async def test_duplicate_tenant_code_is_refused(
    gql: GraphQLClient, province: str, monkeypatch: pytest.MonkeyPatch, pilot: dict[str, Any]
) -> None:
    drawn = TenantIds(monkeypatch)
    before = await Tenant.get(code="sa-pa")
    data = plan(code="Sa-Pa")
    result = await onboard(gql, province, data)
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("DUPLICATE_CODE", "code")]
    assert drawn.ids == []
    after = await Tenant.get(code="sa-pa")
    assert (after.id, after.name_vi, after.report_prefix) == (
        before.id,
        before.name_vi,
        before.report_prefix,
    )
    assert await find_user(data["admin"]["username"]) is None


async def test_errors_are_translated(gql: GraphQLClient, province: str) -> None:
    data = plan(nameVi="")
    vi = await onboard(gql, province, data, lang="vi")
    en = await onboard(gql, province, data, lang="en")
    assert vi["errors"][0]["message"] == "Trường này không được để trống."
    assert en["errors"][0]["message"] == "This field must not be empty."


@pytest.mark.parametrize("username", ["sapa.admin", "sapa.handler"])
async def test_tenant_staff_cannot_onboard(
    gql: GraphQLClient, pilot: dict[str, Any], username: str
) -> None:
    token = await gql.login(username, pilot["password"])
    data = plan()
    for lang, message in (("en", "not allowed"), ("vi", "không có quyền")):
        body = await gql(ONBOARD, {"i": data}, token=token, lang=lang)
        assert body["data"] is None
        error = body["errors"][0]
        assert error["extensions"]["code"] == "FORBIDDEN"
        assert message in error["message"]
    assert not await Tenant.exists(code=data["code"])
    assert await find_user(data["admin"]["username"]) is None


# --- onboarding from a YAML document ----------------------------------------------------------


async def test_yaml_document_onboards_a_tenant(
    gql: GraphQLClient, tmp_path: Path, pilot: dict[str, Any]
) -> None:
    code = unique("yaml")
    doc = demo_document(code)
    result = await onboard_document(write_document(tmp_path, doc))
    assert result.tenant.code == code
    assert result.admin_username == f"{code}.admin"
    assert result.admin_password  # the document has none: one was generated

    token = await gql.login(
        result.admin_username, result.admin_password, code, new_password=PASSWORD
    )
    config = await gql.ok(CONFIG, token=token)
    assert {a["code"] for a in config["agencies"]} == {a["code"] for a in doc["agencies"]}
    centres = [a["code"] for a in config["agencies"] if a["isCoordinationCentre"]]
    assert centres == [a["code"] for a in doc["agencies"] if a["is_coordination_centre"]]
    assert [
        (f["code"], f["defaultAgency"]["code"], f["sensitive"], f["quickFix"])
        for f in config["fields"]
    ] == [(f["code"], f["default_agency"], f["sensitive"], f["quick_fix"]) for f in doc["fields"]]
    assert {r["code"] for r in config["roles"]} == {t.code for t in TENANT_TEMPLATES}
    tenant = await Tenant.get(code=code)
    assert tenant.unit_codes == [u["code"] for u in doc["administrative_units"]]
    assert tenant.report_prefix == "SQ"
    # The document's province and district codes are recorded on the units it created.
    units = await AdministrativeUnit.filter(code__in=tenant.unit_codes)
    assert len(units) == len(tenant.unit_codes)
    assert {(u.province_code, u.district_code) for u in units} == {("10", "088")}
    # Sa Pa itself is untouched and cannot see the copy.
    sapa = await gql.login("sapa.admin", pilot["password"])
    sapa_agencies = (await gql.ok("{ agencies { id } }", token=sapa))["agencies"]
    copy_agencies = (await gql.ok("{ agencies { id } }", token=token))["agencies"]
    assert not {a["id"] for a in sapa_agencies} & {a["id"] for a in copy_agencies}


async def test_bad_yaml_document_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn = TenantIds(monkeypatch)
    code = unique("yaml")
    doc = demo_document(code)
    doc["administrative_units"][0]["boundary"] = BOWTIE
    doc["fields"][1]["code"] = doc["fields"][0]["code"]
    with pytest.raises(DomainError) as error:
        await onboard_document(write_document(tmp_path, doc))
    assert [(d.code, d.field) for d in error.value.details] == [
        ("INVALID_GEOJSON", "administrativeUnits[0].boundary"),
        ("DUPLICATE_CODE", "fields[1].code"),
    ]
    assert drawn.ids == []
    assert not await Tenant.exists(code=code)
    assert await find_user(f"{code}.admin") is None


#: Lào Cai's real office hours (tenants/demo/README.md): the afternoon ends at 17:00 too, but the
#: morning runs to 12:00, 8 working hours a day instead of the default 7.5.
LAO_CAI_HOURS = [["07:30", "12:00"], ["13:30", "17:00"]]


async def test_yaml_document_sets_the_localitys_office_hours(tmp_path: Path) -> None:
    code = unique("yaml")
    doc = demo_document(code) | {"calendar": {"office_hours": LAO_CAI_HOURS}}
    result = await onboard_document(write_document(tmp_path, doc))
    async with tenant_transaction(result.tenant.id):
        rules = await tenant_rules(result.tenant.id)
    assert rules.calendar.to_config()["office_hours"] == LAO_CAI_HOURS
    # 4 working hours from Wednesday 11/3/2026 10:00: 2 h to 12:00, 2 h from 13:30 → 15:30
    # (on the default hours: 1.5 h to 11:30, then 2.5 h → 16:00).
    start = datetime(2026, 3, 11, 10, 0, tzinfo=VN)
    due = rules.calendar.add_working_time(start, timedelta(hours=4))
    assert due == datetime(2026, 3, 11, 15, 30, tzinfo=VN)
    assert WorkingCalendar().add_working_time(start, timedelta(hours=4)) == datetime(
        2026, 3, 11, 16, 0, tzinfo=VN
    )


async def test_yaml_document_with_a_bad_calendar_changes_nothing(tmp_path: Path) -> None:
    code = unique("yaml")
    doc = demo_document(code) | {"calendar": {"office_hours": [["13:30", "12:00"]]}}
    with pytest.raises(DomainError) as error:
        await onboard_document(write_document(tmp_path, doc))
    assert [d.code for d in error.value.details] == ["INVALID_CALENDAR"]
    assert (error.value.field or "").startswith("calendar.office_hours")
    assert not await Tenant.exists(code=code)


async def test_yaml_document_missing_a_key_is_refused(tmp_path: Path) -> None:
    doc = demo_document(unique("yaml"))
    del doc["tenant"]["name_en"]
    with pytest.raises(DomainError) as error:
        document.load_plan(write_document(tmp_path, doc))
    assert [(d.code, d.field) for d in error.value.details] == [("MISSING_KEY", "tenant.name_en")]
    assert "name_en" in error.value.details[0].message_en


# --- a tenant admin configuring agencies and fields ------------------------------------------


@pytest.fixture(scope="module")
async def admin(gql: GraphQLClient, province: str) -> str:
    """The admin of a fresh tenant, so the pilot tenants stay as the demo made them."""
    data = plan()
    result = await onboard(gql, province, data)
    assert result["errors"] == []
    return await gql.login(data["admin"]["username"], PASSWORD, data["code"])


async def agency_codes(gql: GraphQLClient, token: str, include_inactive: bool = False) -> list:
    query = "query($all: Boolean!) { agencies(includeInactive: $all) { code active } }"
    data = await gql.ok(query, {"all": include_inactive}, token=token)
    return [(a["code"], a["active"]) for a in data["agencies"]]


async def test_create_update_and_deactivate_an_agency(gql: GraphQLClient, admin: str) -> None:
    code = unique("ag")
    created = (
        await gql.ok(
            CREATE_AGENCY,
            {"i": {"code": f" {code.upper()} ", "nameVi": " Phòng Y tế ", "nameEn": "Health"}},
            token=admin,
        )
    )["createAgency"]
    assert created["errors"] == []
    agency = created["agency"]
    assert agency["code"] == code and agency["nameVi"] == "Phòng Y tế"
    assert (agency["kind"], agency["isCoordinationCentre"], agency["active"]) == (
        "DEPARTMENT",
        False,
        True,
    )
    assert (code, True) in await agency_codes(gql, admin)

    renamed = (
        await gql.ok(
            UPDATE_AGENCY,
            {"i": {"id": agency["id"], "nameEn": "Health Division", "kind": "CENTRE"}},
            token=admin,
        )
    )["updateAgency"]
    assert renamed["errors"] == []
    assert renamed["agency"] == {
        "id": agency["id"],
        "nameVi": "Phòng Y tế",
        "nameEn": "Health Division",
        "kind": "CENTRE",
        "active": True,
    }

    off = (await gql.ok(UPDATE_AGENCY, {"i": {"id": agency["id"], "active": False}}, token=admin))[
        "updateAgency"
    ]
    assert off["errors"] == [] and off["agency"]["active"] is False
    assert code not in [c for c, _ in await agency_codes(gql, admin)]
    assert (code, False) in await agency_codes(gql, admin, include_inactive=True)

    on = (await gql.ok(UPDATE_AGENCY, {"i": {"id": agency["id"], "active": True}}, token=admin))[
        "updateAgency"
    ]
    assert on["agency"]["active"] is True
    assert (code, True) in await agency_codes(gql, admin)


async def test_update_agency_refuses_an_empty_name(gql: GraphQLClient, admin: str) -> None:
    agencies = (await gql.ok("{ agencies { id nameVi nameEn } }", token=admin))["agencies"]
    target = agencies[0]
    result = (
        await gql.ok(
            UPDATE_AGENCY,
            {"i": {"id": target["id"], "nameVi": "  ", "nameEn": "Renamed", "active": False}},
            token=admin,
        )
    )["updateAgency"]
    assert [(e["code"], e["field"]) for e in result["errors"]] == [("REQUIRED", "nameVi")]
    after = (await gql.ok("{ agencies { id nameVi nameEn } }", token=admin))["agencies"]
    assert target in after


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"code": "van-phong"}, [("DUPLICATE_CODE", "code")]),
        ({"code": "Cong-An "}, [("DUPLICATE_CODE", "code")]),
        ({"code": "x"}, [("INVALID_CODE", "code")]),
        ({"nameVi": ""}, [("REQUIRED", "nameVi")]),
        ({"nameEn": LONG}, [("TOO_LONG", "nameEn")]),
        ({"isCoordinationCentre": True}, [("MANY_CENTRES", "isCoordinationCentre")]),
    ],
    ids=["duplicate", "duplicate-up-to-case", "invalid-code", "empty", "long", "second-centre"],
)
async def test_create_agency_refuses_bad_input(
    gql: GraphQLClient, admin: str, change: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    before = await agency_codes(gql, admin, include_inactive=True)
    data = {"code": unique("ag"), "nameVi": "Phòng", "nameEn": "Division", **change}
    result = (await gql.ok(CREATE_AGENCY, {"i": data}, token=admin))["createAgency"]
    assert result["agency"] is None
    assert [(e["code"], e["field"]) for e in result["errors"]] == expected
    assert await agency_codes(gql, admin, include_inactive=True) == before


async def test_create_field(gql: GraphQLClient, admin: str) -> None:
    agencies = (await gql.ok("{ agencies { id code } }", token=admin))["agencies"]
    police = next(a for a in agencies if a["code"] == "cong-an")
    code = unique("fd")
    result = (
        await gql.ok(
            CREATE_FIELD,
            {
                "i": {
                    "code": code,
                    "nameVi": "An ninh",
                    "nameEn": "Security",
                    "defaultAgencyId": police["id"],
                    "quickFix": True,
                }
            },
            token=admin,
        )
    )["createField"]
    assert result["errors"] == []
    assert result["field"]["defaultAgency"] == police
    assert (result["field"]["sensitive"], result["field"]["quickFix"]) == (False, True)
    fields = (await gql.ok("{ fields { code } }", token=admin))["fields"]
    assert fields[-1] == {"code": code}  # appended after the onboarded fields


async def test_create_field_with_duplicate_code_is_translated(
    gql: GraphQLClient, admin: str
) -> None:
    before = (await gql.ok("{ fields(includeInactive: true) { code } }", token=admin))["fields"]
    variables = {"i": {"code": "trat-tu", "nameVi": "Trùng", "nameEn": "Duplicate"}}
    messages = {}
    for lang in ("vi", "en"):
        body = await gql(CREATE_FIELD, variables, token=admin, lang=lang)
        result = body["data"]["createField"]
        assert result["field"] is None
        assert [(e["code"], e["field"]) for e in result["errors"]] == [("DUPLICATE_CODE", "code")]
        messages[lang] = result["errors"][0]["message"]
    assert messages == {
        "vi": "Mã lĩnh vực này đã có trong đơn vị triển khai.",
        "en": "This field code already exists in the locality.",
    }
    after = (await gql.ok("{ fields(includeInactive: true) { code } }", token=admin))["fields"]
    assert after == before


async def test_deactivated_field_is_hidden_unless_asked(gql: GraphQLClient, admin: str) -> None:
    code = unique("fd")
    created = (
        await gql.ok(
            CREATE_FIELD, {"i": {"code": code, "nameVi": "Tạm", "nameEn": "Temp"}}, token=admin
        )
    )["createField"]
    field_id = created["field"]["id"]
    update = """mutation($i: UpdateFieldInput!) {
                  updateField(input: $i) { field { active } errors { code } } }"""
    result = await gql.ok(update, {"i": {"id": field_id, "active": False}}, token=admin)
    assert result["updateField"] == {"field": {"active": False}, "errors": []}
    active = (await gql.ok("{ fields { code } }", token=admin))["fields"]
    everything = (await gql.ok("{ fields(includeInactive: true) { code } }", token=admin))["fields"]
    assert {"code": code} not in active
    assert {"code": code} in everything
