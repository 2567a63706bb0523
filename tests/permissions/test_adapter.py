"""The Tortoise casbin adapter, round-tripping through a real casbin AsyncEnforcer and PostgreSQL
(with row-level security: every test runs in a tenant's transaction)."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from tortoise.exceptions import IntegrityError, OperationalError

from permissions.adapter import TenantFilter, TortoiseAdapter
from permissions.models import CasbinRule
from permissions.scope import Scope
from permissions.session import scoped_transaction, tenant_transaction
from permissions.store import new_enforcer

VIEW, SCREEN, ASSIGN = "report:view", "report:screen", "report:assign"


def province_scope(tenant_id: uuid.UUID | None = None) -> Scope:
    """May write provincial ("*") rules (app.province = on)."""
    return Scope(user_id=uuid.UUID(int=0), tenant_id=tenant_id, provincial=True)


async def rows_of(tenant: uuid.UUID) -> set[tuple[str, ...]]:
    async with tenant_transaction(tenant):
        rows = await CasbinRule.filter(tenant_id=tenant)
    return {(r.ptype, r.v0, r.v1, r.v2, r.v3, r.v4, r.v5) for r in rows}


async def reloaded(tenant: uuid.UUID) -> tuple[list[list[str]], list[list[str]]]:
    """The tenant's p and g rules as a fresh enforcer loads them (without provincial rules)."""
    enforcer = new_enforcer()
    async with tenant_transaction(tenant):
        await enforcer.load_filtered_policy(TenantFilter(tenant))
    domain = str(tenant)
    return (
        sorted(r for r in enforcer.get_policy() if r[1] == domain),
        sorted(r for r in enforcer.get_grouping_policy() if r[2] == domain),
    )


@asynccontextmanager
async def fresh_tenant() -> AsyncIterator[uuid.UUID]:
    """A tenant id of our own (casbin_rule.tenant_id has no foreign key); rules removed after."""
    tenant = uuid.uuid4()
    try:
        yield tenant
    finally:
        async with tenant_transaction(tenant):
            await CasbinRule.filter(tenant_id=tenant).delete()


@asynccontextmanager
async def provincial_role() -> AsyncIterator[str]:
    """A role name for provincial ("*") rules created by a test; its rows removed after."""
    role = f"test-province-{uuid.uuid4().hex[:8]}"
    try:
        yield role
    finally:
        async with scoped_transaction(province_scope()):
            await CasbinRule.filter(tenant_id__isnull=True, v0=role).delete()


async def test_add_and_remove_round_trip_through_the_enforcer() -> None:
    async with fresh_tenant() as tenant:
        t, role, user = str(tenant), "inspector", str(uuid.uuid4())
        agency, field = str(uuid.uuid4()), str(uuid.uuid4())
        enforcer = new_enforcer()
        async with tenant_transaction(tenant):
            await enforcer.load_filtered_policy(TenantFilter(tenant))
            assert await enforcer.add_policy(role, t, "*", "*", VIEW)
            assert await enforcer.add_policies(
                [[role, t, field, "*", SCREEN], [role, t, "*", agency, ASSIGN]]
            )
            assert await enforcer.add_grouping_policy(user, role, t, agency, "*")
            assert not await enforcer.add_policy(role, t, "*", "*", VIEW)  # already there

        assert await rows_of(tenant) == {
            ("p", role, t, "*", "*", VIEW, ""),
            ("p", role, t, field, "*", SCREEN, ""),
            ("p", role, t, "*", agency, ASSIGN, ""),
            ("g", user, role, t, agency, "*", ""),
        }
        async with tenant_transaction(tenant):
            assert await CasbinRule.filter(tenant_id=tenant).count() == 4

        p_rules, g_rules = await reloaded(tenant)
        assert p_rules == sorted(
            [
                [role, t, "*", "*", VIEW],
                [role, t, field, "*", SCREEN],
                [role, t, "*", agency, ASSIGN],
            ]
        )
        assert g_rules == [[user, role, t, agency, "*"]]

        # the reloaded enforcer decides with them
        check = new_enforcer()
        async with tenant_transaction(tenant):
            await check.load_filtered_policy(TenantFilter(tenant))
        assert check.enforce(user, t, {"field": field, "agency": agency}, SCREEN)
        assert not check.enforce(user, t, {"field": str(uuid.uuid4()), "agency": agency}, SCREEN)
        assert check.enforce(user, t, {"field": field, "agency": agency}, ASSIGN)
        assert not check.enforce(str(uuid.uuid4()), t, {"field": field, "agency": agency}, VIEW)

        async with tenant_transaction(tenant):
            assert await enforcer.remove_policy(role, t, "*", "*", VIEW)
            assert await enforcer.remove_policies([[role, t, field, "*", SCREEN]])
            assert await enforcer.remove_grouping_policy(user, role, t, agency, "*")
        assert await rows_of(tenant) == {("p", role, t, "*", agency, ASSIGN, "")}
        assert await reloaded(tenant) == ([[role, t, "*", agency, ASSIGN]], [])


async def test_remove_policy_of_a_missing_rule_reports_false() -> None:
    async with fresh_tenant() as tenant:
        adapter = TortoiseAdapter()
        async with tenant_transaction(tenant):
            await adapter.add_policy("p", "p", ["r", str(tenant), "*", "*", VIEW])
            assert not await adapter.remove_policy("p", "p", ["r", str(tenant), "*", "*", SCREEN])
            assert await adapter.remove_policy("p", "p", ["r", str(tenant), "*", "*", VIEW])
            assert not await adapter.remove_policy("p", "p", ["r", str(tenant), "*", "*", VIEW])


async def test_remove_filtered_policy_touches_only_its_ptype() -> None:
    """Removing a subject's p rules must leave its g rows (the published adapter's bug)."""
    async with fresh_tenant() as tenant:
        t, subject = str(tenant), "auditor"
        enforcer = new_enforcer()
        async with tenant_transaction(tenant):
            await enforcer.load_filtered_policy(TenantFilter(tenant))
            await enforcer.add_policies(
                [[subject, t, "*", "*", VIEW], [subject, t, "*", "*", SCREEN]]
            )
            # the same value in v0 of g rows: the subject inherits a role and holds one
            await enforcer.add_grouping_policy(subject, "base", t)
            await enforcer.add_grouping_policy(subject, "viewer", t, "*", "*")
            assert await enforcer.remove_filtered_policy(0, subject)

        p_rules, g_rules = await reloaded(tenant)
        assert p_rules == []
        assert g_rules == sorted([[subject, "base", t], [subject, "viewer", t, "*", "*"]])
        async with tenant_transaction(tenant):
            assert await CasbinRule.filter(tenant_id=tenant, ptype="g").count() == 2

        # and the other way round: removing the g rows leaves the p rules
        async with tenant_transaction(tenant):
            await enforcer.add_policy(subject, t, "*", "*", ASSIGN)
            assert await enforcer.remove_filtered_grouping_policy(0, subject)
        assert await reloaded(tenant) == ([[subject, t, "*", "*", ASSIGN]], [])


async def test_remove_filtered_policy_treats_empty_values_as_wildcards() -> None:
    async with fresh_tenant() as tenant:
        t, agency = str(tenant), str(uuid.uuid4())
        adapter = TortoiseAdapter()
        async with tenant_transaction(tenant):
            await adapter.add_policies(
                "p",
                "p",
                [
                    ["a", t, "*", "*", VIEW],
                    ["b", t, "*", agency, VIEW],
                    ["b", t, "*", "*", SCREEN],
                ],
            )
            # v1 = tenant, v2 any, v3 = agency
            assert await adapter.remove_filtered_policy("p", "p", 1, t, "", agency)
            assert not await adapter.remove_filtered_policy("p", "p", 4, "report:none")
            assert not await adapter.remove_filtered_policy("p", "p", 9, "a")  # out of range
        assert await rows_of(tenant) == {
            ("p", "a", t, "*", "*", VIEW, ""),
            ("p", "b", t, "*", "*", SCREEN, ""),
        }
        async with tenant_transaction(tenant):
            assert await adapter.remove_filtered_policy("p", "p", 4, VIEW)
        assert await rows_of(tenant) == {("p", "b", t, "*", "*", SCREEN, "")}


async def test_values_with_comma_space_survive() -> None:
    async with fresh_tenant() as tenant:
        t = str(tenant)
        role, user, field = "role, with comma", "user, with comma", "field, a, b"
        enforcer = new_enforcer()
        async with tenant_transaction(tenant):
            await enforcer.load_filtered_policy(TenantFilter(tenant))
            await enforcer.add_policy(role, t, field, "*", VIEW)
            await enforcer.add_grouping_policy(user, role, t)
        assert await reloaded(tenant) == ([[role, t, field, "*", VIEW]], [[user, role, t]])
        check = new_enforcer()
        async with tenant_transaction(tenant):
            await check.load_policy()
        assert [role, t, field, "*", VIEW] in check.get_policy()
        assert check.enforce(user, t, {"field": field, "agency": "x"}, VIEW)
        assert not check.enforce(user, t, {"field": "field", "agency": "x"}, VIEW)
        async with tenant_transaction(tenant):
            assert await check.remove_policy(role, t, field, "*", VIEW)
        assert await reloaded(tenant) == ([], [[user, role, t]])


async def test_filtered_load_sees_one_tenant_and_the_province() -> None:
    async with fresh_tenant() as mine, fresh_tenant() as other, provincial_role() as province:
        adapter = TortoiseAdapter()
        for tenant in (mine, other):
            async with tenant_transaction(tenant):
                await adapter.add_policy("p", "p", [f"r-{tenant}", str(tenant), "*", "*", VIEW])
                await adapter.add_policy("g", "g", [f"u-{tenant}", f"r-{tenant}", str(tenant)])
        async with scoped_transaction(province_scope()):
            await adapter.add_policy("p", "p", [province, "*", "*", "*", VIEW])
            await adapter.add_policy("g", "g", ["u-province", province, "*"])
        async with tenant_transaction(mine):
            rows = await CasbinRule.filter(v0=province)
        assert [r.tenant_id for r in rows] == [None]  # "*" is stored as the provincial NULL

        enforcer = new_enforcer()
        # a transaction that may read both tenants (the audited provincial read path)
        both = Scope(
            user_id=uuid.UUID(int=0), tenant_id=mine, readable_tenant_ids=frozenset({mine, other})
        )
        async with scoped_transaction(both):
            await enforcer.load_policy()
            assert enforcer.is_filtered() is False
            subjects = {r[0] for r in enforcer.get_policy()}
            assert {f"r-{mine}", f"r-{other}", province} <= subjects  # unfiltered: everything

            await enforcer.load_filtered_policy(TenantFilter(mine))
            assert enforcer.is_filtered() is True
        domains = {r[1] for r in enforcer.get_policy()} | {
            r[2] for r in enforcer.get_grouping_policy()
        }
        assert domains == {str(mine), "*"}
        assert [f"r-{mine}", str(mine), "*", "*", VIEW] in enforcer.get_policy()
        assert [province, "*", "*", "*", VIEW] in enforcer.get_policy()
        assert ["u-province", province, "*"] in enforcer.get_grouping_policy()
        assert f"r-{other}" not in {r[0] for r in enforcer.get_policy()}
        assert enforcer.enforce(f"u-{mine}", str(mine), {"field": "f", "agency": "a"}, VIEW)
        assert not enforcer.enforce(f"u-{other}", str(other), {"field": "f", "agency": "a"}, VIEW)

        # a filtered policy is partial: saving it would delete everything else
        async with scoped_transaction(both):
            with pytest.raises(RuntimeError):
                await enforcer.save_policy()
            with pytest.raises(RuntimeError, match="filtered"):
                await enforcer.adapter.save_policy(enforcer.model)
        assert len(await rows_of(other)) == 2
        assert len(await rows_of(mine)) == 2

        async with scoped_transaction(both):
            await enforcer.load_policy()
        assert enforcer.is_filtered() is False


def test_is_filtered_is_synchronous() -> None:
    """casbin's CoreEnforcer.is_filtered() calls the adapter without await: an async method
    would return a (truthy) coroutine and make every enforcer look filtered."""
    adapter = TortoiseAdapter()
    assert not inspect.iscoroutinefunction(TortoiseAdapter.is_filtered)
    assert adapter.is_filtered() is False
    enforcer = new_enforcer()
    assert enforcer.is_filtered() is False


async def test_the_same_rule_twice_fails_at_the_database() -> None:
    async with fresh_tenant() as tenant:
        rule = ["dup", str(tenant), "*", "*", VIEW]
        async with tenant_transaction(tenant):
            await TortoiseAdapter().add_policy("p", "p", rule)
        with pytest.raises(IntegrityError):
            async with tenant_transaction(tenant):
                await TortoiseAdapter().add_policy("p", "p", rule)
        # an enforcer that has not loaded the rule cannot sneak a second copy in either
        with pytest.raises(IntegrityError):
            async with tenant_transaction(tenant):
                await new_enforcer().add_policy(*rule)
        with pytest.raises(IntegrityError):
            async with tenant_transaction(tenant):
                await TortoiseAdapter().add_policies("p", "p", [rule, rule])
        assert await rows_of(tenant) == {("p", *rule, "")}
        # rows differing in one value or in the ptype are distinct
        async with tenant_transaction(tenant):
            await TortoiseAdapter().add_policy("p", "p", ["dup", str(tenant), "*", "*", SCREEN])
            await TortoiseAdapter().add_policy("p", "p2", rule)
        assert len(await rows_of(tenant)) == 3


async def test_provincial_rules_are_unique_too() -> None:
    """tenant_id NULL rows: the unique index uses NULLS NOT DISTINCT."""
    async with provincial_role() as role:
        rule = [role, "*", "*", "*", VIEW]
        async with scoped_transaction(province_scope()):
            await TortoiseAdapter().add_policy("p", "p", rule)
        with pytest.raises(IntegrityError):
            async with scoped_transaction(province_scope()):
                await TortoiseAdapter().add_policy("p", "p", rule)
        async with scoped_transaction(province_scope()):
            assert await CasbinRule.filter(tenant_id__isnull=True, v0=role).count() == 1


async def test_rules_of_another_tenant_cannot_be_written() -> None:
    """The adapter derives tenant_id from the rule's domain; RLS refuses a foreign one."""
    async with fresh_tenant() as mine, fresh_tenant() as other:
        with pytest.raises(OperationalError, match="row-level security"):
            async with tenant_transaction(mine):
                await TortoiseAdapter().add_policy("p", "p", ["x", str(other), "*", "*", VIEW])
        with pytest.raises(OperationalError, match="row-level security"):
            async with tenant_transaction(mine):
                await TortoiseAdapter().add_policy("p", "p", ["x", "*", "*", "*", VIEW])
        assert await rows_of(other) == set()


async def test_a_tenant_cannot_remove_provincial_rules() -> None:
    async with fresh_tenant() as tenant, provincial_role() as role:
        rule = [role, "*", "*", "*", VIEW]
        async with scoped_transaction(province_scope()):
            await TortoiseAdapter().add_policy("p", "p", rule)
        async with tenant_transaction(tenant):
            assert await CasbinRule.exists(tenant_id__isnull=True, v0=role)  # readable
            assert not await TortoiseAdapter().remove_policy("p", "p", rule)
            assert not await TortoiseAdapter().remove_filtered_policy("p", "p", 0, role)
        async with scoped_transaction(province_scope(tenant)):
            assert await CasbinRule.filter(tenant_id__isnull=True, v0=role).count() == 1
            assert await TortoiseAdapter().remove_policy("p", "p", rule)
