"""The permission matrix over HTTP: what each role template user of Sa Pa may see and do."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from graphql import parse
from graphql.language import ObjectTypeDefinitionNode, StringValueNode

from api.schema import schema
from permissions.actions import Action
from permissions.models import CasbinRule, Role
from permissions.session import tenant_transaction
from permissions.store import policy_changed, store
from permissions.templates import TEMPLATES_BY_CODE, TENANT_ADMIN, TENANT_TEMPLATES
from tenants.models import Agency, Tenant
from tests.conftest import GraphQLClient

MANAGE = Action.TENANT_MANAGE.value
ONBOARD = Action.TENANT_ONBOARD.value
ROLES = [t.code for t in TENANT_TEMPLATES]
SAPA_USERS = {
    code: "sapa.admin" if code == TENANT_ADMIN else f"sapa.{code.replace('_', '-')}"
    for code in ROLES
}

MY_PERMISSIONS = "{ myPermissions { action reach { agencyId fieldId } } me { roles } }"
CREATE_AGENCY = """mutation($i: CreateAgencyInput!) {
  createAgency(input: $i) { agency { id code } errors { code field } } }"""
CREATE_ROLE = """mutation($i: CreateRoleInput!) {
  createRole(input: $i) { role { code actions } errors { code field } } }"""
GRANT_ROLE = """mutation($i: GrantRoleInput!) {
  grantRole(input: $i) { membership { id role agencyId fieldId } errors { code field } } }"""
REVOKE_ROLE = """mutation($i: RevokeRoleInput!) {
  revokeRole(input: $i) { ok errors { code field } } }"""
CREATE_USER = """mutation($i: CreateUserInput!) {
  createUser(input: $i) { user { id username } errors { code field } } }"""
ONBOARD_TENANT = """mutation($i: OnboardTenantInput!) {
  onboardTenant(input: $i) { tenant { code } errors { code field } } }"""
LOGIN = """mutation($i: LoginInput!) {
  login(input: $i) { accessToken errors { code field } } }"""
MEMBERSHIPS = "query($u: ID) { memberships(userId: $u) { id role agencyId fieldId } }"


def holds(role: str, action: str) -> bool:
    return action in {str(a) for a in TEMPLATES_BY_CODE[role].actions}


def gid(type_name: str, value: uuid.UUID) -> str:
    return base64.b64encode(f"{type_name}:{value}".encode()).decode()


def suffix() -> str:
    return uuid.uuid4().hex[:8]


@dataclass
class SaPa:
    tenant_id: uuid.UUID
    tokens: dict[str, str]
    food_agency: str  # global ID of the agency the agency-bound demo users are granted for
    food_field: str
    laocai_agency: str
    target_user: str  # a user with no grant yet, for grantRole

    @property
    def admin(self) -> str:
        return self.tokens[TENANT_ADMIN]


@pytest.fixture(scope="module")
async def sapa(gql: GraphQLClient, pilot: dict[str, Any]) -> SaPa:
    password = pilot["password"]
    tokens = {role: await gql.login(username, password) for role, username in SAPA_USERS.items()}
    fields = await gql.ok("{ fields { id code defaultAgency { id } } }", token=tokens[TENANT_ADMIN])
    food = next(f for f in fields["fields"] if f["code"] == "ve-sinh-attp")
    laocai = await gql.ok("{ agencies { id } }", token=await gql.login("laocai.admin", password))
    created = await gql.ok(
        CREATE_USER,
        {"i": {"username": f"target-{suffix()}", "fullName": "Target", "password": "x" * 12}},
        token=tokens[TENANT_ADMIN],
    )
    assert created["createUser"]["errors"] == []
    return SaPa(
        tenant_id=pilot["tenants"]["sa-pa"].id,
        tokens=tokens,
        food_agency=food["defaultAgency"]["id"],
        food_field=food["id"],
        laocai_agency=laocai["agencies"][0]["id"],
        target_user=created["createUser"]["user"]["id"],
    )


async def drop_role(tenant_id: uuid.UUID, code: str) -> None:
    """Remove a test role (there is no deleteRole mutation)."""
    async with tenant_transaction(tenant_id) as conn:
        await CasbinRule.filter(tenant_id=tenant_id, ptype="p", v0=code).delete()
        await Role.filter(tenant_id=tenant_id, code=code).delete()
        await policy_changed(conn, tenant_id)
    store.invalidate(tenant_id)


async def role_exists(tenant_id: uuid.UUID, code: str) -> bool:
    async with tenant_transaction(tenant_id):
        return await Role.exists(tenant_id=tenant_id, code=code)


def forbidden(body: dict[str, Any], path: str) -> bool:
    errors = body.get("errors") or []
    return (
        body.get("data") is None
        and len(errors) == 1
        and errors[0]["path"] == [path]
        and errors[0]["extensions"]["code"] == "FORBIDDEN"
    )


# --- what each role may do ------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
async def test_my_permissions_follow_the_role_template(
    gql: GraphQLClient, sapa: SaPa, role: str
) -> None:
    data = await gql.ok(MY_PERMISSIONS, token=sapa.tokens[role])
    assert data["me"]["roles"] == [role]
    template = TEMPLATES_BY_CODE[role]
    assert {p["action"] for p in data["myPermissions"]} == {str(a) for a in template.actions}
    expected_reach = [
        {"agencyId": sapa.food_agency if template.agency_bound else None, "fieldId": None}
    ]
    for permission in data["myPermissions"]:
        assert permission["reach"] == expected_reach, permission


def test_the_matrix_distinguishes_roles() -> None:
    """Guards the matrix below against being vacuous."""
    assert [r for r in ROLES if holds(r, MANAGE)] == [TENANT_ADMIN]
    assert not any(holds(r, ONBOARD) for r in ROLES)
    assert sum(TEMPLATES_BY_CODE[r].agency_bound for r in ROLES) == 4


@pytest.mark.parametrize("role", ROLES)
async def test_protected_queries(gql: GraphQLClient, sapa: SaPa, role: str) -> None:
    token = sapa.tokens[role]
    for query, path in (
        ("{ roles { code isTemplate } }", "roles"),
        ("{ users { username } }", "users"),
    ):
        body = await gql(query, token=token)
        if holds(role, MANAGE):
            assert "errors" not in body, body
            assert body["data"][path]
        else:
            assert forbidden(body, path), body
    if holds(role, MANAGE):
        data = await gql.ok("{ roles { code isTemplate } users { username } }", token=token)
        assert {r["code"] for r in data["roles"] if r["isTemplate"]} == set(ROLES)
        assert set(SAPA_USERS.values()) <= {u["username"] for u in data["users"]}


@pytest.mark.parametrize("role", ROLES)
async def test_create_agency_only_with_tenant_manage(
    gql: GraphQLClient, sapa: SaPa, role: str
) -> None:
    code = f"test-{suffix()}"
    body = await gql(
        CREATE_AGENCY, {"i": {"code": code, "nameVi": "Thử", "nameEn": "Test"}}, sapa.tokens[role]
    )
    try:
        if holds(role, MANAGE):
            assert body["data"]["createAgency"]["errors"] == [], body
            assert body["data"]["createAgency"]["agency"]["code"] == code
        else:
            assert forbidden(body, "createAgency"), body
        listed = await gql.ok("{ agencies(includeInactive: true) { code } }", token=sapa.admin)
        assert (code in {a["code"] for a in listed["agencies"]}) == holds(role, MANAGE)
    finally:
        async with tenant_transaction(sapa.tenant_id):
            await Agency.filter(tenant_id=sapa.tenant_id, code=code).delete()


@pytest.mark.parametrize("role", ROLES)
async def test_create_role_only_with_tenant_manage(
    gql: GraphQLClient, sapa: SaPa, role: str
) -> None:
    code = f"test_{suffix()}"
    variables = {"i": {"code": code, "nameVi": "Thử", "nameEn": "Test", "actions": ["report:view"]}}
    body = await gql(CREATE_ROLE, variables, sapa.tokens[role])
    try:
        if holds(role, MANAGE):
            assert body["data"]["createRole"] == {
                "role": {"code": code, "actions": ["report:view"]},
                "errors": [],
            }
        else:
            assert forbidden(body, "createRole"), body
        assert await role_exists(sapa.tenant_id, code) == holds(role, MANAGE)
        roles = await gql.ok("{ roles { code actions } }", token=sapa.admin)
        listed = {r["code"]: r["actions"] for r in roles["roles"]}
        assert listed.get(code) == (["report:view"] if holds(role, MANAGE) else None)
    finally:
        await drop_role(sapa.tenant_id, code)


@pytest.mark.parametrize("role", ROLES)
async def test_grant_role_only_with_tenant_manage(
    gql: GraphQLClient, sapa: SaPa, role: str
) -> None:
    body = await gql(
        GRANT_ROLE, {"i": {"userId": sapa.target_user, "role": "citizen"}}, sapa.tokens[role]
    )
    granted = await gql.ok(MEMBERSHIPS, {"u": sapa.target_user}, token=sapa.admin)
    try:
        if holds(role, MANAGE):
            assert body["data"]["grantRole"]["errors"] == [], body
            assert body["data"]["grantRole"]["membership"]["role"] == "citizen"
            assert [m["role"] for m in granted["memberships"]] == ["citizen"]
        else:
            assert forbidden(body, "grantRole"), body
            assert granted["memberships"] == []
    finally:
        for membership in granted["memberships"]:
            revoked = await gql.ok(
                REVOKE_ROLE, {"i": {"membershipId": membership["id"]}}, token=sapa.admin
            )
            assert revoked["revokeRole"] == {"ok": True, "errors": []}


def onboarding_input(code: str) -> dict[str, Any]:
    return {
        "code": code,
        "reportPrefix": "TT",
        "nameVi": "UBND Thử",
        "nameEn": "Test Committee",
        "admin": {"username": f"{code}.admin", "fullName": "Admin", "password": "x" * 12},
    }


@pytest.mark.parametrize("role", ROLES)
async def test_onboard_tenant_is_provincial_only(gql: GraphQLClient, sapa: SaPa, role: str) -> None:
    code = f"test-{suffix()}"
    body = await gql(ONBOARD_TENANT, {"i": onboarding_input(code)}, sapa.tokens[role])
    assert forbidden(body, "onboardTenant"), body
    assert ONBOARD in body["errors"][0]["message"]
    assert not await Tenant.exists(code=code)


async def test_onboard_tenant_passes_the_gate_for_the_province(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    """The positive control of the test above, without creating a tenant: bad input is
    refused by validation (the permission check let the province through)."""
    token = await gql.login("tinh.admin", pilot["password"])
    body = await gql(ONBOARD_TENANT, {"i": onboarding_input("Not A Code!")}, token)
    assert "errors" not in body, body
    assert body["data"]["onboardTenant"]["tenant"] is None
    assert {"code": "INVALID_CODE", "field": "code"} in body["data"]["onboardTenant"]["errors"]


async def test_anonymous_callers_are_unauthenticated(gql: GraphQLClient, pilot: dict) -> None:
    body = await gql("{ roles { code } }")
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    body = await gql(CREATE_AGENCY, {"i": {"code": "anon", "nameVi": "A", "nameEn": "A"}})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    data = await gql.ok("{ myPermissions { action } }")
    assert data["myPermissions"] == []


@pytest.mark.parametrize("role", ROLES)
async def test_no_account_in_another_tenant(
    gql: GraphQLClient, pilot: dict[str, Any], role: str
) -> None:
    """Usernames belong to their home tenant: in Lào Cai a Sa Pa account is unknown."""
    username = SAPA_USERS[role]
    password = pilot["password"]
    body = await gql(
        LOGIN, {"i": {"username": username, "password": password, "tenantCode": "lao-cai"}}
    )
    assert body["data"]["login"] == {
        "accessToken": None,
        "errors": [{"code": "INVALID_CREDENTIALS", "field": None}],
    }
    body = await gql(
        LOGIN, {"i": {"username": username, "password": password, "tenantCode": "sa-pa"}}
    )
    assert body["data"]["login"]["errors"] == []
    assert body["data"]["login"]["accessToken"]


# --- the schema declares what each operation needs --------------------------------------------


def test_schema_declares_permissions() -> None:
    sdl = schema.as_str()
    for operation in ("createAgency", "createRole", "grantRole", "revokeRole", "createUser"):
        line = next(x for x in sdl.splitlines() if x.strip().startswith(f"{operation}("))
        assert line.endswith('@requiresPermission(action: "tenant:manage")'), line
    for operation in ("onboardTenant", "setTenantStatus"):
        line = next(x for x in sdl.splitlines() if x.strip().startswith(f"{operation}("))
        assert line.endswith('@requiresPermission(action: "tenant:onboard")'), line

    types = {
        d.name.value: d for d in parse(sdl).definitions if isinstance(d, ObjectTypeDefinitionNode)
    }
    # submitReport is public on purpose: anonymous citizens submit with the X-Paht-Tenant header;
    # so are the anonymous reporter's answer and the erasure of their contact, whose tracking
    # code is the proof; citizens sign up and log in through their provider before they have an
    # account.
    public = {
        "login", "refreshToken", "logout", "submitReport", "answerInfoRequestByTrackingCode",
        "eraseContactByTrackingCode", "requestSignUpCode", "signUp", "startExternalLogin",
        "externalLogin",
    }  # fmt: skip
    mutations = {f.name.value: f for f in types["Mutation"].fields}
    assert {"login", "refreshToken", "logout"} <= set(mutations)
    known = {a.value for a in Action}
    for name, definition in mutations.items():
        directives = {d.name.value: d for d in definition.directives or ()}
        if name in public:
            assert not directives, name
            continue
        assert directives.keys() & {"requiresPermission", "requiresLogin"}, name
        if "requiresPermission" in directives:
            (argument,) = directives["requiresPermission"].arguments
            assert isinstance(argument.value, StringValueNode)
            assert argument.value.value in known, name
    queries = {f.name.value: f for f in types["Query"].fields}
    for name in ("roles", "users", "memberships"):
        assert [d.name.value for d in queries[name].directives or ()] == ["requiresPermission"]


# --- bad grants are refused with typed errors -----------------------------------------------


async def test_create_role_refuses_unknown_and_provincial_actions(
    gql: GraphQLClient, sapa: SaPa
) -> None:
    code = f"test_{suffix()}"
    cases = [
        (["report:view", "report:fly"], [{"code": "UNKNOWN_ACTION", "field": "actions[1]"}]),
        (["tenant:onboard"], [{"code": "UNKNOWN_ACTION", "field": "actions[0]"}]),
        (
            ["nope", "report:view", "tenant:onboard"],
            [
                {"code": "UNKNOWN_ACTION", "field": "actions[0]"},
                {"code": "UNKNOWN_ACTION", "field": "actions[2]"},
            ],
        ),
        ([], [{"code": "REQUIRED", "field": "actions"}]),
    ]
    for actions, errors in cases:
        variables = {"i": {"code": code, "nameVi": "Thử", "nameEn": "Test", "actions": actions}}
        data = await gql.ok(CREATE_ROLE, variables, token=sapa.admin)
        assert data["createRole"] == {"role": None, "errors": errors}, actions
    assert not await role_exists(sapa.tenant_id, code)


async def test_create_role_refuses_a_template_code(gql: GraphQLClient, sapa: SaPa) -> None:
    variables = {"i": {"code": "handler", "nameVi": "X", "nameEn": "X", "actions": ["report:view"]}}
    data = await gql.ok(CREATE_ROLE, variables, token=sapa.admin)
    assert data["createRole"] == {
        "role": None,
        "errors": [{"code": "DUPLICATE_CODE", "field": "code"}],
    }


async def test_a_tenant_cannot_shadow_the_provincial_role(gql: GraphQLClient, sapa: SaPa) -> None:
    """A tenant role named like the provincial role would, once granted, pick up the provincial
    "*" rules (tenant:onboard) — casbin matches "*" rules in every domain."""
    variables = {
        "i": {"code": "provincial_admin", "nameVi": "X", "nameEn": "X", "actions": ["report:view"]}
    }
    data = await gql.ok(CREATE_ROLE, variables, token=sapa.admin)
    try:
        assert data["createRole"] == {
            "role": None,
            "errors": [{"code": "RESERVED_CODE", "field": "code"}],
        }
        assert not await role_exists(sapa.tenant_id, "provincial_admin")
        grant = {"i": {"userId": sapa.target_user, "role": "provincial_admin"}}
        granted = await gql.ok(GRANT_ROLE, grant, token=sapa.admin)
        assert granted["grantRole"]["errors"] == [{"code": "UNKNOWN_ROLE", "field": "role"}]
    finally:
        if data["createRole"]["role"]:  # the vulnerable behaviour: undo it
            memberships = await gql.ok(MEMBERSHIPS, {"u": sapa.target_user}, token=sapa.admin)
            for membership in memberships["memberships"]:
                await gql.ok(REVOKE_ROLE, {"i": {"membershipId": membership["id"]}}, sapa.admin)
            await drop_role(sapa.tenant_id, "provincial_admin")


async def test_grant_role_refusals(gql: GraphQLClient, sapa: SaPa) -> None:
    async def grant(**fields: Any) -> dict[str, Any]:
        data = await gql.ok(
            GRANT_ROLE, {"i": {"userId": sapa.target_user, **fields}}, token=sapa.admin
        )
        return data["grantRole"]

    refused = await grant(role="handler", agencyId=sapa.laocai_agency)
    assert refused == {"membership": None, "errors": [{"code": "NOT_FOUND", "field": "agencyId"}]}
    refused = await grant(role="handler")
    assert refused["errors"] == [{"code": "AGENCY_REQUIRED", "field": "agencyId"}]
    refused = await grant(role="no_such_role")
    assert refused["errors"] == [{"code": "UNKNOWN_ROLE", "field": "role"}]
    refused = await grant(role="citizen", fieldId=gid("Field", uuid.uuid4()))
    assert refused["errors"] == [{"code": "NOT_FOUND", "field": "fieldId"}]
    unknown_user = await gql.ok(
        GRANT_ROLE, {"i": {"userId": gid("User", uuid.uuid4()), "role": "citizen"}}, sapa.admin
    )
    assert unknown_user["grantRole"]["errors"] == [{"code": "NOT_FOUND", "field": "userId"}]
    assert (await gql.ok(MEMBERSHIPS, {"u": sapa.target_user}, sapa.admin))["memberships"] == []

    first = await grant(role="handler", agencyId=sapa.food_agency)
    assert first["errors"] == []
    try:
        duplicate = await grant(role="handler", agencyId=sapa.food_agency)
        assert duplicate == {
            "membership": None,
            "errors": [{"code": "DUPLICATE_GRANT", "field": "role"}],
        }
        memberships = await gql.ok(MEMBERSHIPS, {"u": sapa.target_user}, sapa.admin)
        assert len(memberships["memberships"]) == 1
    finally:
        revoked = await gql.ok(
            REVOKE_ROLE, {"i": {"membershipId": first["membership"]["id"]}}, sapa.admin
        )
        assert revoked["revokeRole"]["ok"]


# --- a custom role, granted and revoked -----------------------------------------------------


async def test_custom_role_narrowed_to_a_field_then_revoked(gql: GraphQLClient, sapa: SaPa) -> None:
    code = f"inspector_{suffix()}"
    actions = ["report:comment", "report:view"]
    role = await gql.ok(
        CREATE_ROLE,
        {"i": {"code": code, "nameVi": "Thanh tra", "nameEn": "Inspector", "actions": actions}},
        token=sapa.admin,
    )
    assert role["createRole"]["errors"] == []
    try:
        username = f"inspector-{suffix()}"
        user = await gql.ok(
            CREATE_USER,
            {"i": {"username": username, "fullName": "Inspector", "password": "p" * 12}},
            token=sapa.admin,
        )
        assert user["createUser"]["errors"] == []
        user_id = user["createUser"]["user"]["id"]
        granted = await gql.ok(
            GRANT_ROLE,
            {"i": {"userId": user_id, "role": code, "fieldId": sapa.food_field}},
            token=sapa.admin,
        )
        membership = granted["grantRole"]["membership"]
        assert granted["grantRole"]["errors"] == []
        assert membership["fieldId"] == sapa.food_field and membership["agencyId"] is None

        token = await gql.login(username, "p" * 12)
        data = await gql.ok(MY_PERMISSIONS, token=token)
        assert data["me"]["roles"] == [code]
        assert data["myPermissions"] == [
            {"action": action, "reach": [{"agencyId": None, "fieldId": sapa.food_field}]}
            for action in actions
        ]
        # not an administrator for all that
        assert forbidden(await gql("{ roles { code } }", token=token), "roles")

        revoked = await gql.ok(
            REVOKE_ROLE, {"i": {"membershipId": membership["id"]}}, token=sapa.admin
        )
        assert revoked["revokeRole"] == {"ok": True, "errors": []}
        # the very next request with the same token has lost the grant
        data = await gql.ok(MY_PERMISSIONS, token=token)
        assert data["myPermissions"] == []
        assert data["me"]["roles"] == []
        again = await gql.ok(
            REVOKE_ROLE, {"i": {"membershipId": membership["id"]}}, token=sapa.admin
        )
        assert again["revokeRole"] == {
            "ok": False,
            "errors": [{"code": "NOT_FOUND", "field": "id"}],
        }
    finally:
        await drop_role(sapa.tenant_id, code)
