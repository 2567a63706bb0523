"""Tenant isolation through the API: Sa Pa's admin can neither see nor touch Lào Cai."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.relay import to_base64

from permissions.session import tenant_transaction
from tenants.models import Agency, Field
from tests.conftest import GraphQLClient, unique
from tests.factories import user_named

CREATE_AGENCY = """
mutation($i: CreateAgencyInput!) {
  createAgency(input: $i) { agency { id code } errors { code field message } }
}"""
UPDATE_AGENCY = """
mutation($i: UpdateAgencyInput!) {
  updateAgency(input: $i) { agency { id nameEn } errors { code field message } }
}"""
UPDATE_FIELD = """
mutation($i: UpdateFieldInput!) {
  updateField(input: $i) { field { id nameEn } errors { code field message } }
}"""
GRANT_ROLE = """
mutation($i: GrantRoleInput!) {
  grantRole(input: $i) { membership { id } errors { code field } }
}"""
NODE = "query($id: ID!) { node(id: $id) { __typename id } }"


@pytest.fixture(scope="module")
async def tokens(gql: GraphQLClient, pilot: dict[str, Any]) -> dict[str, str]:
    password = pilot["password"]
    return {
        "sapa": await gql.login("sapa.admin", password),
        "laocai": await gql.login("laocai.admin", password),
        "province": await gql.login("tinh.admin", password),
        "handler": await gql.login("sapa.handler", password),
    }


@pytest.fixture(scope="module")
async def lao_cai(pilot: dict[str, Any]) -> dict[str, Any]:
    tenant = pilot["tenants"]["lao-cai"]
    async with tenant_transaction(tenant.id):
        agencies = await Agency.filter(tenant_id=tenant.id).order_by("code")
        fields = await Field.filter(tenant_id=tenant.id).order_by("code")
    return {"tenant": tenant, "agencies": agencies, "fields": fields}


def gid(type_name: str, row: Any) -> str:
    return to_base64(type_name, str(row.id))


async def agency_names(tenant_id: Any) -> dict[str, tuple[str, str, bool]]:
    async with tenant_transaction(tenant_id):
        rows = await Agency.filter(tenant_id=tenant_id)
    return {r.code: (r.name_vi, r.name_en, r.active) for r in rows}


async def field_names(tenant_id: Any) -> dict[str, tuple[str, str, bool]]:
    async with tenant_transaction(tenant_id):
        rows = await Field.filter(tenant_id=tenant_id)
    return {r.code: (r.name_vi, r.name_en, r.active) for r in rows}


# --- reading ----------------------------------------------------------------------------------


async def test_lists_show_nothing_of_the_other_tenant(
    gql: GraphQLClient, tokens: dict[str, str], lao_cai: dict[str, Any]
) -> None:
    query = """{ agencies(includeInactive: true) { id code }
                 fields(includeInactive: true) { id code }
                 tenants { id code } }"""
    sapa = await gql.ok(query, token=tokens["sapa"])
    laocai = await gql.ok(query, token=tokens["laocai"])
    assert [t["code"] for t in sapa["tenants"]] == ["sa-pa"]
    assert [t["code"] for t in laocai["tenants"]] == ["lao-cai"]
    # Both tenants use the same agency and field codes: only the IDs tell them apart.
    lc_agencies = {gid("Agency", a) for a in lao_cai["agencies"]}
    lc_fields = {gid("Field", f) for f in lao_cai["fields"]}
    assert {a["id"] for a in laocai["agencies"]} == lc_agencies
    assert {f["id"] for f in laocai["fields"]} == lc_fields
    assert sapa["agencies"] and sapa["fields"]
    assert not {a["id"] for a in sapa["agencies"]} & lc_agencies
    assert not {f["id"] for f in sapa["fields"]} & lc_fields


async def test_field_default_agency_stays_in_tenant(
    gql: GraphQLClient, tokens: dict[str, str], lao_cai: dict[str, Any]
) -> None:
    data = await gql.ok("{ fields { code defaultAgency { id } } }", token=tokens["sapa"])
    lc_agencies = {gid("Agency", a) for a in lao_cai["agencies"]}
    defaults = {f["defaultAgency"]["id"] for f in data["fields"] if f["defaultAgency"]}
    assert defaults
    assert not defaults & lc_agencies


@pytest.mark.parametrize("kind", ["Agency", "Field", "Tenant"])
async def test_node_of_the_other_tenant_is_null(
    gql: GraphQLClient, tokens: dict[str, str], lao_cai: dict[str, Any], kind: str
) -> None:
    row = {
        "Agency": lao_cai["agencies"][0],
        "Field": lao_cai["fields"][0],
        "Tenant": lao_cai["tenant"],
    }[kind]
    node_id = gid(kind, row)
    assert (await gql.ok(NODE, {"id": node_id}, token=tokens["sapa"]))["node"] is None
    # Control: the same ID resolves for the owner, so null really is the tenant boundary.
    own = await gql.ok(NODE, {"id": node_id}, token=tokens["laocai"])
    assert own["node"] == {"__typename": kind, "id": node_id}


async def test_node_of_own_tenant_resolves(gql: GraphQLClient, tokens: dict[str, str]) -> None:
    data = await gql.ok("{ agencies { id } currentTenant { id } }", token=tokens["sapa"])
    for node_id, kind in (
        (data["agencies"][0]["id"], "Agency"),
        (data["currentTenant"]["id"], "Tenant"),
    ):
        node = await gql.ok(NODE, {"id": node_id}, token=tokens["sapa"])
        assert node["node"] == {"__typename": kind, "id": node_id}


# --- writing ----------------------------------------------------------------------------------


async def test_update_agency_of_the_other_tenant_is_not_found(
    gql: GraphQLClient, tokens: dict[str, str], lao_cai: dict[str, Any], pilot: dict[str, Any]
) -> None:
    tenant_id = pilot["tenants"]["lao-cai"].id
    before = await agency_names(tenant_id)
    target = lao_cai["agencies"][0]
    data = await gql.ok(
        UPDATE_AGENCY,
        {"i": {"id": gid("Agency", target), "nameEn": "Hijacked", "active": False}},
        token=tokens["sapa"],
    )
    payload = data["updateAgency"]
    assert payload["agency"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "id")]
    assert await agency_names(tenant_id) == before
    assert before[target.code][1] != "Hijacked" and before[target.code][2] is True


async def test_update_field_of_the_other_tenant_is_not_found(
    gql: GraphQLClient, tokens: dict[str, str], lao_cai: dict[str, Any], pilot: dict[str, Any]
) -> None:
    tenant_id = pilot["tenants"]["lao-cai"].id
    before = await field_names(tenant_id)
    target = lao_cai["fields"][0]
    data = await gql.ok(
        UPDATE_FIELD,
        {"i": {"id": gid("Field", target), "nameEn": "Hijacked", "active": False}},
        token=tokens["sapa"],
    )
    payload = data["updateField"]
    assert payload["field"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "id")]
    assert await field_names(tenant_id) == before


async def test_update_field_cannot_point_at_the_other_tenants_agency(
    gql: GraphQLClient, tokens: dict[str, str], lao_cai: dict[str, Any], pilot: dict[str, Any]
) -> None:
    sapa_id = pilot["tenants"]["sa-pa"].id
    fields = (await gql.ok("{ fields { id code defaultAgency { id } } }", token=tokens["sapa"]))[
        "fields"
    ]
    data = await gql.ok(
        UPDATE_FIELD,
        {"i": {"id": fields[0]["id"], "defaultAgencyId": gid("Agency", lao_cai["agencies"][0])}},
        token=tokens["sapa"],
    )
    errors = data["updateField"]["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [("NOT_FOUND", "defaultAgencyId")]
    async with tenant_transaction(sapa_id):
        row = await Field.get(tenant_id=sapa_id, code=fields[0]["code"])
    assert to_base64("Agency", str(row.default_agency_id)) == fields[0]["defaultAgency"]["id"]


async def test_create_field_with_the_other_tenants_agency_is_not_found(
    gql: GraphQLClient, tokens: dict[str, str], lao_cai: dict[str, Any], pilot: dict[str, Any]
) -> None:
    code = unique("xt")
    data = await gql.ok(
        """mutation($i: CreateFieldInput!) {
             createField(input: $i) { field { id } errors { code field } } }""",
        {
            "i": {
                "code": code,
                "nameVi": "Thử",
                "nameEn": "Probe",
                "defaultAgencyId": gid("Agency", lao_cai["agencies"][0]),
            }
        },
        token=tokens["sapa"],
    )
    assert [(e["code"], e["field"]) for e in data["createField"]["errors"]] == [
        ("NOT_FOUND", "defaultAgencyId")
    ]
    assert code not in await field_names(pilot["tenants"]["sa-pa"].id)


async def test_grant_role_with_the_other_tenants_agency_is_not_found(
    gql: GraphQLClient, tokens: dict[str, str], lao_cai: dict[str, Any], pilot: dict[str, Any]
) -> None:
    sapa_id = pilot["tenants"]["sa-pa"].id
    user = await user_named("sapa.handler")
    query = "query($u: ID!) { memberships(userId: $u) { id role agencyId } }"
    variables = {"u": to_base64("User", str(user.id))}
    before = (await gql.ok(query, variables, token=tokens["sapa"]))["memberships"]
    assert before  # precondition: the handler holds a grant in Sa Pa
    own_agency = before[0]["agencyId"]
    assert own_agency  # handlers are agency-bound
    attempts = [
        ({"agencyId": gid("Agency", lao_cai["agencies"][0])}, "agencyId"),
        ({"agencyId": own_agency, "fieldId": gid("Field", lao_cai["fields"][0])}, "fieldId"),
    ]
    for narrowing, name in attempts:
        grant = {"userId": variables["u"], "role": "handler", **narrowing}
        data = await gql.ok(GRANT_ROLE, {"i": grant}, token=tokens["sapa"])
        payload = data["grantRole"]
        assert payload["membership"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", name)]
    assert (await gql.ok(query, variables, token=tokens["sapa"]))["memberships"] == before
    async with tenant_transaction(sapa_id) as conn:
        _, rows = await conn.execute_query(
            "SELECT count(*) AS n FROM casbin_rule WHERE ptype = 'g' AND v0 = $1 "
            "AND tenant_id <> $2",
            [str(user.id), str(sapa_id)],
        )
    assert rows[0]["n"] == 0


# --- who may see and do what ------------------------------------------------------------------


async def test_provincial_admin_sees_every_tenant(
    gql: GraphQLClient, tokens: dict[str, str], pilot: dict[str, Any]
) -> None:
    data = await gql.ok("{ tenants { id code } currentTenant { code } }", token=tokens["province"])
    codes = [t["code"] for t in data["tenants"]]
    assert {"lao-cai", "sa-pa"} <= set(codes)
    assert codes == sorted(codes)
    assert data["currentTenant"] is None
    lc = gid("Tenant", pilot["tenants"]["lao-cai"])
    node = await gql.ok(NODE, {"id": lc}, token=tokens["province"])
    assert node["node"] == {"__typename": "Tenant", "id": lc}


async def test_handler_cannot_create_an_agency(
    gql: GraphQLClient, tokens: dict[str, str], pilot: dict[str, Any]
) -> None:
    code = unique("hd")
    body = await gql(
        CREATE_AGENCY,
        {"i": {"code": code, "nameVi": "Phòng thử", "nameEn": "Probe"}},
        token=tokens["handler"],
    )
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert body["errors"][0]["path"] == ["createAgency"]
    assert code not in await agency_names(pilot["tenants"]["sa-pa"].id)


async def test_handler_cannot_update_an_agency(
    gql: GraphQLClient, tokens: dict[str, str], pilot: dict[str, Any]
) -> None:
    sapa_id = pilot["tenants"]["sa-pa"].id
    before = await agency_names(sapa_id)
    agencies = (await gql.ok("{ agencies { id } }", token=tokens["handler"]))["agencies"]
    body = await gql(
        UPDATE_AGENCY,
        {"i": {"id": agencies[0]["id"], "active": False}},
        token=tokens["handler"],
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    assert await agency_names(sapa_id) == before


@pytest.mark.parametrize(
    ("operation", "variables"),
    [
        (CREATE_AGENCY, {"i": {"code": "anon-probe", "nameVi": "X", "nameEn": "X"}}),
        (
            """mutation($i: OnboardTenantInput!) { onboardTenant(input: $i) { tenant { id } } }""",
            {
                "i": {
                    "code": "anon-probe",
                    "reportPrefix": "AN",
                    "nameVi": "X",
                    "nameEn": "X",
                    "admin": {"username": "anon.probe", "fullName": "X"},
                }
            },
        ),
    ],
    ids=["createAgency", "onboardTenant"],
)
async def test_anonymous_is_unauthenticated(
    gql: GraphQLClient, pilot: dict[str, Any], operation: str, variables: dict[str, Any]
) -> None:
    body = await gql(operation, variables)
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    from tenants.models import Tenant

    assert not await Tenant.exists(code="anon-probe")
    assert "anon-probe" not in await agency_names(pilot["tenants"]["sa-pa"].id)


async def test_anonymous_sees_no_tenant(gql: GraphQLClient, pilot: dict[str, Any]) -> None:
    data = await gql.ok("{ tenants { code } currentTenant { code } }")
    assert data == {"tenants": [], "currentTenant": None}
    lc = gid("Tenant", pilot["tenants"]["lao-cai"])
    assert (await gql.ok(NODE, {"id": lc}))["node"] is None
    body = await gql("{ agencies { code } }")
    assert [e["extensions"]["code"] for e in body["errors"]] == ["TENANT_REQUIRED"]


@pytest.mark.parametrize("kind", ["Agency", "Field", "Tenant"])
async def test_node_with_a_malformed_id_is_null(
    gql: GraphQLClient, tokens: dict[str, str], kind: str
) -> None:
    body = await gql(NODE, {"id": to_base64(kind, "not-a-uuid")}, token=tokens["sapa"])
    assert body == {"data": {"node": None}}
