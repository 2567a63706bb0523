"""Writing permissions: role templates, custom roles, grants (memberships) and revokes.

Every change writes casbin rules through the adapter in the caller's transaction, bumps the
tenant's policy version and notifies every API process (see ``permissions.store``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from tortoise.transactions import in_transaction

from accounts.models import Membership, User
from core.errors import DomainError, NotFound, Validator
from permissions.actions import Action
from permissions.adapter import PROVINCE_DOMAIN, TortoiseAdapter
from permissions.models import CasbinRule, Role
from permissions.scope import Scope
from permissions.store import ANY, policy_changed, store
from permissions.templates import (
    PROVINCIAL_ADMIN,
    PROVINCIAL_TEMPLATE,
    TEMPLATES_BY_CODE,
    TENANT_TEMPLATES,
)
from tenants.models import Agency, Field

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
        values = dict(
            ptype="p", v0=PROVINCIAL_ADMIN, v1=PROVINCE_DOMAIN, v2=ANY, v3=ANY, v4=str(action)
        )
        if not await CasbinRule.exists(tenant_id=None, **values):
            await CasbinRule.create(tenant_id=None, **values)
    await _changed(None)


async def grant_provincial_admin(user_id: uuid.UUID) -> None:
    from permissions.models import CasbinRule

    values = dict(
        ptype="g", v0=str(user_id), v1=PROVINCIAL_ADMIN, v2=PROVINCE_DOMAIN, v3=ANY, v4=ANY
    )
    if not await CasbinRule.exists(tenant_id=None, **values):
        await CasbinRule.create(tenant_id=None, **values)
    await _changed(None)


def _grant_rule(m: Membership) -> list[str]:
    return [
        str(m.user_id),
        m.role,
        str(m.tenant_id),
        str(m.agency_id) if m.agency_id else ANY,
        str(m.field_id) if m.field_id else ANY,
    ]


async def grant_role_unchecked(
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    role: str,
    agency_id: uuid.UUID | None = None,
    field_id: uuid.UUID | None = None,
) -> Membership:
    membership = await Membership.create(
        tenant_id=tenant_id, user_id=user_id, role=role, agency_id=agency_id, field_id=field_id
    )
    await _adapter.add_policy("g", "g", _grant_rule(membership))
    await _changed(tenant_id)
    return membership


@dataclass(frozen=True)
class GrantInput:
    user_id: uuid.UUID
    role: str
    agency_id: uuid.UUID | None = None
    field_id: uuid.UUID | None = None


async def grant_role(scope: Scope, data: GrantInput) -> Membership:
    """A tenant admin grants one of the tenant's roles, optionally narrowed to an agency/field."""
    scope.require(Action.TENANT_MANAGE)
    tenant_id = scope.require_tenant()
    if not await Role.exists(tenant_id=tenant_id, code=data.role):
        raise DomainError("UNKNOWN_ROLE", "Vai trò không tồn tại.", "Unknown role.", "role")
    # Agencies and fields of another tenant are invisible under RLS: "not found", never used.
    if data.agency_id and not await Agency.exists(id=data.agency_id, tenant_id=tenant_id):
        raise NotFound("agency", "agencyId")
    if data.field_id and not await Field.exists(id=data.field_id, tenant_id=tenant_id):
        raise NotFound("field", "fieldId")
    template = TEMPLATES_BY_CODE.get(data.role)
    if template and template.agency_bound and data.agency_id is None:
        raise DomainError(
            "AGENCY_REQUIRED",
            "Vai trò này cần gắn với một cơ quan.",
            "This role must be granted for an agency.",
            "agencyId",
        )
    # Only accounts of this tenant: another tenant's user (and their contact details) cannot be
    # pulled in by knowing an id.
    if not await User.exists(id=data.user_id, is_active=True, default_tenant_id=tenant_id):
        raise NotFound("user", "userId")
    if await Membership.exists(
        tenant_id=tenant_id,
        user_id=data.user_id,
        role=data.role,
        agency_id=data.agency_id,
        field_id=data.field_id,
    ):
        raise DomainError(
            "DUPLICATE_GRANT",
            "Người dùng đã có vai trò này.",
            "The user already holds this grant.",
            "role",
        )
    return await grant_role_unchecked(
        tenant_id, data.user_id, data.role, data.agency_id, data.field_id
    )


async def revoke_membership(scope: Scope, membership_id: uuid.UUID) -> None:
    scope.require(Action.TENANT_MANAGE)
    tenant_id = scope.require_tenant()
    membership = await Membership.get_or_none(id=membership_id, tenant_id=tenant_id)
    if membership is None:
        raise NotFound("membership", "id")
    await _adapter.remove_policy("g", "g", _grant_rule(membership))
    await membership.delete()
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
