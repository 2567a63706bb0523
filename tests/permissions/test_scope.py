"""Unit tests of the Scope compiler (TenantPolicy.compile) and the Scope guards.

No database: rules go straight into a casbin enforcer with ``load_rules``, exactly as
``PolicyStore.policy`` does after fetching them."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import DomainError, PermissionDenied, Unauthenticated
from permissions.adapter import load_rules
from permissions.scope import ANONYMOUS, Reach, Scope, anonymous_in
from permissions.store import ANY, TenantPolicy, new_enforcer
from permissions.templates import PROVINCIAL_ADMIN

T = str(uuid.uuid4())
A, B, C = (uuid.uuid4() for _ in range(3))
F, G, H = (uuid.uuid4() for _ in range(3))
VIEW, SCREEN, MANAGE = "report:view", "report:screen", "tenant:manage"


def policy(rules: Sequence[Sequence[str]]) -> TenantPolicy:
    enforcer = new_enforcer()
    load_rules(enforcer.model, rules)
    enforcer.build_role_links()
    return TenantPolicy(enforcer, version=7)


def p(role: str, act: str, field: object = ANY, agency: object = ANY, dom: str = T) -> tuple:
    return ("p", role, dom, str(field), str(agency), act)


def g(user: object, role: str, agency: object = ANY, field: object = ANY, dom: str = T) -> tuple:
    return ("g", str(user), role, dom, str(agency), str(field))


def scope_of(tenant_policy: TenantPolicy, user: uuid.UUID) -> Scope:
    roles, reach, provincial, _ = tenant_policy.compile(str(user))
    return Scope(
        user_id=user,
        tenant_id=uuid.UUID(T),
        readable_tenant_ids=frozenset({uuid.UUID(T)}),
        roles=roles,
        reach=MappingProxyType(reach),
        policy_version=tenant_policy.version,
        provincial=provincial,
    )


# --- narrowing ------------------------------------------------------------------------------


def test_grant_narrowing_applies_to_an_unnarrowed_rule() -> None:
    user = uuid.uuid4()
    scope = scope_of(policy([p("handler", VIEW), g(user, "handler", agency=A)]), user)
    assert scope.reach[VIEW] == frozenset({Reach(agency_id=A)})
    assert scope.allows(VIEW)
    assert scope.allows_on(VIEW, A, F)
    assert scope.allows_on(VIEW, A, None)
    assert not scope.allows_on(VIEW, B, F)
    assert not scope.allows_on(VIEW, None, F)
    assert not scope.allows_everywhere(VIEW)


def test_grant_and_rule_naming_different_agencies_give_nothing() -> None:
    user = uuid.uuid4()
    rules = [p("handler", VIEW, agency=B), p("handler", SCREEN), g(user, "handler", agency=A)]
    scope = scope_of(policy(rules), user)
    assert VIEW not in scope.reach
    assert not scope.allows(VIEW)
    assert not scope.allows_on(VIEW, A, F)
    assert not scope.allows_on(VIEW, B, F)
    # the other rule of the same role still applies, narrowed by the grant
    assert scope.reach[SCREEN] == frozenset({Reach(agency_id=A)})


def test_grant_and_rule_naming_the_same_agency_keep_it() -> None:
    user = uuid.uuid4()
    scope = scope_of(policy([p("handler", VIEW, agency=A), g(user, "handler", agency=A)]), user)
    assert scope.reach[VIEW] == frozenset({Reach(agency_id=A)})


def test_agency_grant_and_field_rule_intersect_on_both_dimensions() -> None:
    user = uuid.uuid4()
    rules = [p("food", VIEW, field=F), g(user, "food", agency=A)]
    scope = scope_of(policy(rules), user)
    assert scope.reach[VIEW] == frozenset({Reach(agency_id=A, field_id=F)})
    assert scope.allows_on(VIEW, A, F)
    assert not scope.allows_on(VIEW, A, G)
    assert not scope.allows_on(VIEW, B, F)


def test_field_grant_against_another_field_rule_gives_nothing() -> None:
    user = uuid.uuid4()
    scope = scope_of(policy([p("food", VIEW, field=F), g(user, "food", field=G)]), user)
    assert not scope.allows(VIEW)


def test_unnarrowed_grant_takes_the_rule_narrowing() -> None:
    user = uuid.uuid4()
    scope = scope_of(policy([p("r", VIEW, field=F, agency=B), g(user, "r")]), user)
    assert scope.reach[VIEW] == frozenset({Reach(agency_id=B, field_id=F)})


def test_unlimited_reach_subsumes_narrower_ones() -> None:
    user = uuid.uuid4()
    narrow_only = [
        p("handler", VIEW),
        p("viewer", VIEW),
        g(user, "handler", agency=A),
        g(user, "viewer", field=F),
    ]
    scope = scope_of(policy(narrow_only), user)
    assert scope.reach[VIEW] == frozenset({Reach(agency_id=A), Reach(field_id=F)})
    assert scope.allows_on(VIEW, A, G)
    assert scope.allows_on(VIEW, B, F)
    assert not scope.allows_on(VIEW, B, G)
    assert not scope.allows_everywhere(VIEW)

    everything = [*narrow_only, p("supervisor", VIEW), g(user, "supervisor")]
    scope = scope_of(policy(everything), user)
    assert scope.reach[VIEW] == frozenset({Reach()})
    assert scope.allows_everywhere(VIEW)
    assert scope.allows_on(VIEW, B, G)


def test_users_only_get_their_own_grants() -> None:
    alice, bob = uuid.uuid4(), uuid.uuid4()
    tenant_policy = policy(
        [p("admin", MANAGE), p("citizen", "report:submit"), g(alice, "admin"), g(bob, "citizen")]
    )
    assert set(scope_of(tenant_policy, alice).reach) == {MANAGE}
    assert set(scope_of(tenant_policy, bob).reach) == {"report:submit"}
    nobody = scope_of(tenant_policy, uuid.uuid4())
    assert nobody.roles == frozenset()
    assert dict(nobody.reach) == {}


# --- role inheritance -------------------------------------------------------------------------


INHERITANCE = [
    p("base", VIEW),
    p("junior", SCREEN),
    p("senior", "report:review"),
    ("g", "senior", "junior", T),  # senior inherits junior's rules
    ("g", "junior", "base", T),  # and junior inherits base's
]


def test_role_inheritance_through_g_rows() -> None:
    senior_user, junior_user = uuid.uuid4(), uuid.uuid4()
    tenant_policy = policy([*INHERITANCE, g(senior_user, "senior"), g(junior_user, "junior")])
    senior = scope_of(tenant_policy, senior_user)
    assert senior.roles == {"senior", "junior", "base"}
    assert set(senior.reach) == {VIEW, SCREEN, "report:review"}
    junior = scope_of(tenant_policy, junior_user)
    assert junior.roles == {"junior", "base"}
    assert set(junior.reach) == {VIEW, SCREEN}  # inheritance goes one way only


def test_grant_narrowing_carries_over_to_inherited_rules() -> None:
    user = uuid.uuid4()
    scope = scope_of(policy([*INHERITANCE, g(user, "senior", agency=A)]), user)
    assert scope.reach[VIEW] == frozenset({Reach(agency_id=A)})
    assert scope.reach["report:review"] == frozenset({Reach(agency_id=A)})


def test_cyclic_role_inheritance_terminates() -> None:
    user = uuid.uuid4()
    rules = [
        p("x", VIEW),
        p("y", SCREEN),
        ("g", "x", "y", T),
        ("g", "y", "x", T),
        g(user, "x"),
    ]
    scope = scope_of(policy(rules), user)
    assert scope.roles == {"x", "y"}
    assert set(scope.reach) == {VIEW, SCREEN}


# --- provincial -------------------------------------------------------------------------------


PROVINCIAL_RULES = [
    p(PROVINCIAL_ADMIN, "tenant:onboard", dom="*"),
    p(PROVINCIAL_ADMIN, MANAGE, dom="*"),
    p("tenant_admin", MANAGE),
]


def test_provincial_admin_flag_needs_the_role_in_the_province_domain() -> None:
    province_admin, tenant_admin = uuid.uuid4(), uuid.uuid4()
    rules = [
        *PROVINCIAL_RULES,
        g(province_admin, PROVINCIAL_ADMIN, dom="*"),
        g(tenant_admin, "tenant_admin"),
        g(tenant_admin, "tenant_admin", dom="*"),  # another role in "*" is not provincial
    ]
    tenant_policy = policy(rules)
    province = scope_of(tenant_policy, province_admin)
    assert province.provincial
    assert province.roles == {PROVINCIAL_ADMIN}
    assert province.allows_everywhere("tenant:onboard")
    assert province.allows_everywhere(MANAGE)
    local = scope_of(tenant_policy, tenant_admin)
    assert not local.provincial
    assert not local.allows("tenant:onboard")
    assert local.allows_everywhere(MANAGE)


def test_provincial_role_granted_inside_a_tenant_domain_is_not_provincial() -> None:
    user = uuid.uuid4()
    scope = scope_of(policy([*PROVINCIAL_RULES, g(user, PROVINCIAL_ADMIN)]), user)
    assert not scope.provincial


# --- guards ---------------------------------------------------------------------------------


def test_guards_raise_forbidden_for_a_user_and_unauthenticated_for_anonymous() -> None:
    user = uuid.uuid4()
    scope = scope_of(policy([p("handler", VIEW), g(user, "handler", agency=A)]), user)
    scope.require(VIEW)
    scope.require_on(VIEW, A, F)
    with pytest.raises(PermissionDenied) as denied:
        scope.require(MANAGE)
    assert denied.value.code == "FORBIDDEN"
    assert MANAGE in denied.value.details[0].message_en
    with pytest.raises(PermissionDenied) as denied:
        scope.require_on(VIEW, B, F)
    assert denied.value.code == "FORBIDDEN"

    for anonymous in (ANONYMOUS, anonymous_in(uuid.UUID(T))):
        assert not anonymous.authenticated
        assert not anonymous.allows(VIEW)
        assert not anonymous.allows_on(VIEW, A, F)
        with pytest.raises(Unauthenticated) as unauthenticated:
            anonymous.require(VIEW)
        assert unauthenticated.value.code == "UNAUTHENTICATED"
        with pytest.raises(Unauthenticated):
            anonymous.require_on(VIEW, A, F)
        with pytest.raises(Unauthenticated):
            anonymous.require_user()
    assert not isinstance(Unauthenticated(), PermissionDenied)


def test_require_user_and_tenant() -> None:
    user = uuid.uuid4()
    assert Scope(user_id=user, tenant_id=uuid.UUID(T)).require_user() == user
    assert Scope(user_id=user, tenant_id=uuid.UUID(T)).require_tenant() == uuid.UUID(T)
    with pytest.raises(DomainError) as missing:
        Scope(user_id=user, tenant_id=None).require_tenant()
    assert missing.value.code == "TENANT_REQUIRED"


def test_reach_covers() -> None:
    assert Reach().unlimited and Reach().covers(A, F) and Reach().covers(None, None)
    assert Reach(agency_id=A).covers(A, None) and not Reach(agency_id=A).covers(None, F)
    assert not Reach(agency_id=A, field_id=F).covers(A, G)
    assert not Reach(field_id=F).unlimited


# --- agreement with casbin --------------------------------------------------------------------


ACTIONS = [VIEW, SCREEN, MANAGE, "report:assign", "stats:view"]
AGENCIES = [A, B, C]
FIELDS = [F, G, H]


ROLES = [f"role{i}" for i in range(6)]
USERS = [uuid.UUID(int=100 + i) for i in range(3)]
AGENCY_NARROWING = st.sampled_from([ANY, ANY, *AGENCIES])
FIELD_NARROWING = st.sampled_from([ANY, ANY, *FIELDS])
RULES = st.lists(
    st.tuples(st.sampled_from(ROLES), st.sampled_from(ACTIONS), FIELD_NARROWING, AGENCY_NARROWING),
    min_size=1,
    max_size=24,
)
INHERITANCE_ROWS = st.lists(
    st.tuples(st.sampled_from(ROLES), st.sampled_from(ROLES)).filter(lambda t: t[0] != t[1]),
    max_size=4,
)
# Grants are narrowed too (casbin ignores the narrowing columns of g rows: the oracle applies
# a grant's narrowing itself).
GRANTS = st.lists(
    st.lists(
        st.tuples(st.sampled_from(ROLES), AGENCY_NARROWING, FIELD_NARROWING), min_size=1, max_size=3
    ),
    min_size=len(USERS),
    max_size=len(USERS),
)


def _covers(narrowing: object, value: uuid.UUID) -> bool:
    return narrowing in (ANY, value)


@settings(max_examples=150, deadline=None)
@given(rules=RULES, inheritance=INHERITANCE_ROWS, grants=GRANTS)
def test_scope_agrees_with_casbin_enforce(
    rules: list[tuple[str, str, object, object]],
    inheritance: list[tuple[str, str]],
    grants: list[list[tuple[str, object, object]]],
) -> None:
    """The compiled Scope allows exactly what casbin allows, grant by grant. The oracle gives
    each grant a stand-in user holding its role unnarrowed, asks casbin (rules, their narrowing,
    role inheritance) and keeps the answer only where the grant's own narrowing covers."""
    base = [p(role, act, field=f, agency=a) for role, act, f, a in rules]
    base += [("g", child, parent, T) for child, parent in inheritance]
    held = dict(zip(USERS, grants, strict=True))
    stand_in = {(u, i): f"stand-in-{u}-{i}" for u, gs in held.items() for i in range(len(gs))}
    oracle = policy(
        [*base, *[("g", s, held[u][i][0], T) for (u, i), s in stand_in.items()]]
    ).enforcer
    mine = [g(u, role, agency=a, field=f) for u, gs in held.items() for role, a, f in gs]
    tenant_policy = policy(sorted(set(base + mine)))
    for user, user_grants in held.items():
        scope = scope_of(tenant_policy, user)
        for act in ACTIONS:
            expected = {
                (agency, field): any(
                    _covers(a, agency)
                    and _covers(f, field)
                    and oracle.enforce(
                        stand_in[user, i], T, {"field": str(field), "agency": str(agency)}, act
                    )
                    for i, (_, a, f) in enumerate(user_grants)
                )
                for agency, field in itertools.product(AGENCIES, FIELDS)
            }
            for (agency, field), allowed in expected.items():
                assert scope.allows_on(act, agency, field) == allowed, (user, act, agency, field)
            assert scope.allows(act) == any(expected.values()), (user, act)
            if scope.allows_everywhere(act):
                assert all(expected.values()), (user, act)
    assert dict(scope_of(tenant_policy, uuid.uuid4()).reach) == {}


def test_provincial_scope_agrees_with_casbin_in_the_province_domain() -> None:
    admin, other = uuid.uuid4(), uuid.uuid4()
    tenant_policy = policy([*PROVINCIAL_RULES, g(admin, PROVINCIAL_ADMIN, dom="*")])
    for user in (admin, other):
        scope = scope_of(tenant_policy, user)
        for act in ("tenant:onboard", MANAGE, VIEW):
            obj = {"field": str(F), "agency": str(A)}
            assert scope.allows_on(act, A, F) == tenant_policy.enforcer.enforce(
                str(user), "*", obj, act
            )
    assert scope_of(tenant_policy, admin).allows("tenant:onboard")
