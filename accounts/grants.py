"""Grants: a tenant's roles given to its accounts, optionally narrowed to an agency and a field.

Each membership row is mirrored into a casbin grouping rule in the same transaction
(permissions.service), so the policy every process loads says the same as the rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from accounts.models import Membership, User
from core.errors import DomainError, NotFound
from core.glossary import Term
from permissions.actions import Action
from permissions.models import Role
from permissions.scope import Scope
from permissions.service import add_grant_rule, remove_grant_rule
from permissions.templates import TEMPLATES_BY_CODE


async def grant_role_unchecked(
    tenant_id: uuid.UUID,
    user_id: uuid.UUID,
    role: str,
    agency_id: uuid.UUID | None = None,
    field_id: uuid.UUID | None = None,
) -> Membership:
    """For system work (onboarding, the demo); administrators go through ``grant_role``."""
    try:
        async with in_transaction():
            membership = await Membership.create(
                tenant_id=tenant_id,
                user_id=user_id,
                role=role,
                agency_id=agency_id,
                field_id=field_id,
            )
    except IntegrityError as error:
        # The composite foreign keys (tenant_id, agency_id) and (tenant_id, field_id) refuse an
        # agency or field of another tenant: to the caller it does not exist.
        text = str(error)
        if "membership_agency_fk" in text:
            raise NotFound(Term.AGENCY, "agencyId") from error
        if "membership_field_fk" in text:
            raise NotFound(Term.FIELD, "fieldId") from error
        raise
    await add_grant_rule(tenant_id, user_id, role, agency_id, field_id)
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
        raise NotFound(Term.USER, "userId")
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
        raise NotFound(Term.MEMBERSHIP, "id")
    await remove_grant_rule(
        tenant_id, membership.user_id, membership.role, membership.agency_id, membership.field_id
    )
    await membership.delete()


async def memberships(scope: Scope, user_id: uuid.UUID | None = None) -> list[Membership]:
    scope.require(Action.TENANT_MANAGE)
    query = Membership.filter(tenant_id=scope.require_tenant())
    if user_id is not None:
        query = query.filter(user_id=user_id)
    return await query.order_by("created_at")
