"""Reading permissions: the tenant's roles with their actions."""

from __future__ import annotations

from permissions.actions import Action
from permissions.models import Role
from permissions.scope import Scope
from permissions.store import store


async def tenant_roles(scope: Scope) -> list[tuple[Role, list[str]]]:
    """Each role with its actions, read from the loaded policy (no query per role)."""
    scope.require(Action.TENANT_MANAGE)
    tenant_id = scope.require_tenant()
    policy = await store.policy(tenant_id)
    rows = await Role.filter(tenant_id=tenant_id).order_by("code")
    return [
        (row, sorted({act for _f, _a, act in policy.rules_by_role.get(row.code, ())}))
        for row in rows
    ]
