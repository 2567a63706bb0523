"""Provincial administrators: accounts without a home tenant (``default_tenant_id`` NULL) that
hold the provincial role in the "*" domain.

They are managed on the provincial path (``Scope.provincial``, which sets ``app.province = on``):
the only path on which row-level security shows provincial accounts. The ``paht admins``
commands act there as the system itself (api/demo.py ``SYSTEM_PROVINCE``), so that a fresh
installation gets its first administrator without code."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace

from tortoise.transactions import in_transaction

from accounts.models import User
from accounts.password_policy import generate_password
from accounts.service import NewUser, create_user, validate_new_user
from accounts.sessions import revoke_user_sessions
from core.errors import DomainError, NotFound, PermissionDenied, Validator
from core.glossary import Term
from permissions.actions import Action
from permissions.adapter import PROVINCE_DOMAIN
from permissions.models import CasbinRule
from permissions.scope import Scope
from permissions.service import grant_provincial_admin, install_provincial_template
from permissions.store import policy_changed, store
from permissions.templates import PROVINCIAL_ADMIN

log = logging.getLogger("paht.auth")


def _require(scope: Scope) -> None:
    scope.require(Action.PROVINCE_MANAGE_ADMINS)
    if not scope.provincial:  # only the provincial role grants it; RLS needs the path too
        raise PermissionDenied(Action.PROVINCE_MANAGE_ADMINS)


async def _admin_ids() -> list[uuid.UUID]:
    """Holders of the provincial role (its grants live in the "*" domain, tenant_id NULL)."""
    holders = await CasbinRule.filter(
        tenant_id=None, ptype="g", v1=PROVINCIAL_ADMIN, v2=PROVINCE_DOMAIN
    ).values_list("v0", flat=True)
    return [uuid.UUID(str(holder)) for holder in holders]


async def provincial_admins(scope: Scope, include_inactive: bool = False) -> list[User]:
    _require(scope)
    query = User.filter(id__in=await _admin_ids(), default_tenant_id=None)
    if not include_inactive:
        query = query.filter(is_active=True)
    return await query.order_by("username")


async def provincial_admin(scope: Scope, user_id: uuid.UUID, field: str = "id") -> User:
    _require(scope)
    user = None
    if user_id in await _admin_ids():
        user = await User.get_or_none(id=user_id, default_tenant_id=None)
    if user is None:
        raise NotFound(Term.USER, field)
    return user


async def provincial_admin_named(scope: Scope, username: str) -> User:
    _require(scope)
    user = await User.get_or_none(username=username.strip().lower(), default_tenant_id=None)
    if user is None or user.id not in await _admin_ids():
        raise NotFound(Term.USER, "username")
    return user


@dataclass(frozen=True)
class Created:
    user: User
    generated_password: str | None  # one-time: shown once, never stored or logged


async def create_provincial_admin(scope: Scope, data: NewUser) -> Created:
    """Without a password one is generated, shown once and must be changed at first login.
    Installs the provincial role first if this is the installation's first administrator."""
    _require(scope)
    v = Validator()
    cleaned = validate_new_user(data, v)
    v.check()
    generated = None
    if cleaned.password is None:
        generated = generate_password(cleaned.username)
        cleaned = replace(cleaned, password=generated)
    await install_provincial_template()
    user = await create_user(cleaned, None, must_change_password=generated is not None)
    await grant_provincial_admin(user.id)
    log.info("provincial admin created", extra={"user_id": str(user.id), "by": str(scope.user_id)})
    return Created(user, generated)


async def deactivate_provincial_admin(scope: Scope, user_id: uuid.UUID) -> User:
    """Locks the account everywhere at once: its sessions end and cached Scopes are dropped in
    every process. An administrator cannot lock themself out."""
    _require(scope)
    if user_id == scope.user_id:
        raise DomainError(
            "CANNOT_DEACTIVATE_SELF",
            "Không thể tự khóa tài khoản của mình.",
            "You cannot deactivate your own account.",
            "id",
        )
    user = await provincial_admin(scope, user_id)
    if user.is_active:
        user.is_active = False
        await user.save(update_fields=["is_active", "updated_at"])
        await revoke_user_sessions(user.id, "deactivated")
        async with in_transaction() as conn:
            await policy_changed(conn, None)  # every process drops every cached Scope
        store.invalidate()
        log.info(
            "provincial admin deactivated",
            extra={"user_id": str(user.id), "by": str(scope.user_id)},
        )
    return user
