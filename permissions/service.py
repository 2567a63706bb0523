"""Writing permissions: role templates, custom roles, and the casbin side of grants.

Every change writes casbin rules through the adapter in the caller's transaction, bumps the
tenant's policy version and notifies every API process (see ``permissions.store``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from tortoise.transactions import in_transaction

from core.errors import DomainError, Validator
from permissions.actions import Action
from permissions.adapter import PROVINCE_DOMAIN, TortoiseAdapter
from permissions.models import CasbinRule, Role
from permissions.scope import Scope
from permissions.store import ANY, policy_changed, store
from permissions.templates import PROVINCIAL_ADMIN, PROVINCIAL_TEMPLATE, TENANT_TEMPLATES

_adapter = TortoiseAdapter()
KNOWN_ACTIONS = {a.value for a in Action}
# Actions a tenant may never hand out: they belong to the province.
PROVINCIAL_ONLY = {Action.TENANT_ONBOARD.value, Action.PROVINCE_MANAGE_ADMINS.value}


async def _changed(tenant_id: uuid.UUID | None) -> None:
    async with in_transaction() as conn:
        await policy_changed(conn, tenant_id)
    store.invalidate(tenant_id)


async def install_templates(tenant_id: uuid.UUID) -> None:
    domain = str(tenant_id)
    rules = []
    for template in TENANT_TEMPLATES:
        await Role.create(
            tenant_id=tenant_id,
            code=template.code,
            name_vi=template.name_vi,
            name_en=template.name_en,
            is_template=True,
        )
        rules += [[template.code, domain, ANY, ANY, str(action)] for action in template.actions]
    await _adapter.add_policies("p", "p", rules)
    await _changed(tenant_id)


async def install_provincial_template() -> None:
    """The provincial role's rules live in the "*" domain (tenant_id NULL). Idempotent."""
    from permissions.models import CasbinRule

    for action in PROVINCIAL_TEMPLATE.actions:
        values: dict[str, Any] = dict(
            ptype="p", v0=PROVINCIAL_ADMIN, v1=PROVINCE_DOMAIN, v2=ANY, v3=ANY, v4=str(action)
        )
        if not await CasbinRule.exists(tenant_id=None, **values):
            await CasbinRule.create(tenant_id=None, **values)
    await _changed(None)


async def grant_provincial_admin(user_id: uuid.UUID) -> None:
    from permissions.models import CasbinRule

    values: dict[str, Any] = dict(
        ptype="g", v0=str(user_id), v1=PROVINCIAL_ADMIN, v2=PROVINCE_DOMAIN, v3=ANY, v4=ANY
    )
    if not await CasbinRule.exists(tenant_id=None, **values):
        await CasbinRule.create(tenant_id=None, **values)
    await _changed(None)


def _grant_rule(
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    role: str,
    agency_id: uuid.UUID | None,
    field_id: uuid.UUID | None,
) -> list[str]:
    # The narrowing rides in columns casbin ignores; permissions.store reads it back.
    return [
        str(user_id),
        role,
        str(tenant_id),
        str(agency_id) if agency_id else ANY,
        str(field_id) if field_id else ANY,
    ]


async def add_grant_rule(
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    role: str,
    agency_id: uuid.UUID | None = None,
    field_id: uuid.UUID | None = None,
) -> None:
    """The casbin side of a grant (accounts.grants writes the membership row)."""
    await _adapter.add_policy("g", "g", _grant_rule(tenant_id, user_id, role, agency_id, field_id))
    await _changed(tenant_id)


async def remove_grant_rule(
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    role: str,
    agency_id: uuid.UUID | None = None,
    field_id: uuid.UUID | None = None,
) -> None:
    await _adapter.remove_policy(
        "g", "g", _grant_rule(tenant_id, user_id, role, agency_id, field_id)
    )
    await _changed(tenant_id)


@dataclass(frozen=True)
class RoleInput:
    code: str
    name_vi: str
    name_en: str
    actions: list[str]


async def create_role(scope: Scope, data: RoleInput) -> Role:
    scope.require(Action.TENANT_MANAGE)
    tenant_id = scope.require_tenant()
    v = Validator()
    code = (data.code or "").strip().lower()
    if not code.replace("_", "").isalnum() or not 2 <= len(code) <= 60:
        v.add(
            "INVALID_CODE",
            "code",
            "Mã vai trò gồm chữ thường, số, dấu gạch dưới.",
            "A role code has lowercase letters, digits and underscores.",
        )
    name_vi = v.text("nameVi", data.name_vi, max_len=200)
    name_en = v.text("nameEn", data.name_en, max_len=200)
    if not data.actions:
        v.add("REQUIRED", "actions", "Cần ít nhất một quyền.", "At least one action is needed.")
    for i, action in enumerate(data.actions):
        if action not in KNOWN_ACTIONS or action in PROVINCIAL_ONLY:
            v.add(
                "UNKNOWN_ACTION",
                f"actions[{i}]",
                f"Quyền không hợp lệ: {action}.",
                f"Unknown or not grantable action: {action}.",
            )
    v.check()
    if await _provincial_role(code):
        # casbin applies the "*" rules of a role in every domain: a tenant role with the code of a
        # provincial role would inherit its rules (tenant:onboard) when granted in the tenant.
        raise DomainError(
            "RESERVED_CODE",
            "Mã vai trò này dành cho cấp tỉnh.",
            "This role code is reserved for the province.",
            "code",
        )
    if await Role.exists(tenant_id=tenant_id, code=code):
        raise DomainError(
            "DUPLICATE_CODE", "Mã vai trò đã tồn tại.", "This role code exists.", "code"
        )
    role = await Role.create(tenant_id=tenant_id, code=code, name_vi=name_vi, name_en=name_en)
    await _adapter.add_policies(
        "p", "p", [[code, str(tenant_id), ANY, ANY, a] for a in sorted(set(data.actions))]
    )
    await _changed(tenant_id)
    return role


async def _provincial_role(code: str) -> bool:
    """Is ``code`` a role of the provincial domain (its rules apply in every tenant)?"""
    return code == PROVINCIAL_ADMIN or await CasbinRule.exists(
        tenant_id__isnull=True, ptype="p", v0=code
    )
