"""User administration: accounts of a tenant, created and edited by its administrators."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from accounts.credentials import set_password_hash
from accounts.models import Membership, User
from accounts.password_policy import password_problems
from accounts.passwords import hash_password
from accounts.sessions import revoke_user_sessions
from core.errors import DomainError, NotFound, Validator
from core.glossary import Term
from permissions.actions import Action
from permissions.scope import Scope
from permissions.store import policy_changed, store


@dataclass(frozen=True)
class NewUser:
    username: str
    password: str | None
    full_name: str
    email: str | None = None
    phone: str | None = None


def validate_new_user(data: NewUser, v: Validator, prefix: str = "") -> NewUser:
    username = v.text(f"{prefix}username", data.username, min_len=3, max_len=120) or ""
    if username and not all(c.isalnum() or c in "._-@" for c in username):
        v.add(
            "INVALID_USERNAME",
            f"{prefix}username",
            "Tên đăng nhập chỉ gồm chữ, số và . _ - @.",
            "A username may contain letters, digits and . _ - @ only.",
        )
    full_name = v.text(f"{prefix}fullName", data.full_name, max_len=200) or ""
    if data.password is not None:
        v.errors.extend(password_problems(data.password, username, f"{prefix}password"))
    email = v.text(f"{prefix}email", data.email, max_len=254, required=False)
    if email and "@" not in email:
        v.add("INVALID_EMAIL", f"{prefix}email", "Email không hợp lệ.", "Invalid email address.")
    phone = v.text(f"{prefix}phone", data.phone, max_len=32, required=False)
    return NewUser(username.lower(), data.password, full_name, email or None, phone or None)


async def create_user(
    data: NewUser, default_tenant_id: uuid.UUID | None, *, must_change_password: bool = False
) -> User:
    """Usernames are unique within the home tenant: the check (and the unique index behind it)
    sees only this tenant's accounts, so the answer says nothing about other tenants."""
    if await User.exists(username=data.username, default_tenant_id=default_tenant_id):
        raise DomainError(
            "DUPLICATE_USERNAME", "Tên đăng nhập đã tồn tại.", "This username is taken.", "username"
        )
    user = await User.create(
        username=data.username,
        full_name=data.full_name,
        email=data.email,
        phone=data.phone,
        default_tenant_id=default_tenant_id,
    )
    if data.password:
        hashed = await asyncio.to_thread(hash_password, data.password)
        await set_password_hash(user.id, hashed, must_change_password)
    return user


async def create_tenant_user(scope: Scope, data: NewUser) -> User:
    """A tenant admin creates a staff account whose home tenant is theirs."""
    scope.require(Action.TENANT_MANAGE)
    v = Validator()
    cleaned = validate_new_user(data, v)
    if cleaned.password is None:
        v.add("REQUIRED", "password", "Cần đặt mật khẩu.", "A password is required.")
    v.check()
    return await create_user(cleaned, scope.require_tenant())


async def tenant_user(scope: Scope, user_id: uuid.UUID) -> User:
    """A user who holds a membership in the caller's tenant; anyone else is not found."""
    tenant_id = scope.require_tenant()
    member = await Membership.exists(tenant_id=tenant_id, user_id=user_id)
    user = await User.get_or_none(id=user_id) if member else None
    if user is None:
        raise NotFound(Term.USER)
    return user


async def tenant_users(scope: Scope, search: str | None, limit: int) -> list[User]:
    tenant_id = scope.require_tenant()
    user_ids = Membership.filter(tenant_id=tenant_id).values_list("user_id", flat=True)
    query = User.filter(id__in=await user_ids)
    if search:
        query = query.filter(Q(username__icontains=search) | Q(full_name__icontains=search))
    return await query.order_by("username").limit(limit)


@dataclass(frozen=True)
class UserPatch:
    full_name: str | None = None
    email: str | None = None
    phone: str | None = None
    active: bool | None = None


async def update_user(scope: Scope, user_id: uuid.UUID, patch: UserPatch) -> User:
    """A tenant admin edits or (de)activates an account whose home tenant is theirs (also one
    whose roles were all revoked: offboarding must still be able to lock it).

    Deactivation takes effect in every API process at once: cached Scopes are dropped."""
    scope.require(Action.TENANT_MANAGE)
    user = await User.get_or_none(id=user_id, default_tenant_id=scope.require_tenant())
    if user is None:
        raise NotFound(Term.USER, "id")
    v = Validator()
    if patch.full_name is not None:
        user.full_name = v.text("fullName", patch.full_name, max_len=200) or user.full_name
    if patch.email is not None:
        email = v.text("email", patch.email, max_len=254, required=False)
        if email and "@" not in email:
            v.add("INVALID_EMAIL", "email", "Email không hợp lệ.", "Invalid email address.")
        user.email = email or None
    if patch.phone is not None:
        user.phone = v.text("phone", patch.phone, max_len=32, required=False) or None
    v.check()
    if patch.active is not None and patch.active != user.is_active:
        if user.id == scope.user_id and not patch.active:
            raise DomainError(
                "CANNOT_DEACTIVATE_SELF",
                "Không thể tự khóa tài khoản của mình.",
                "You cannot deactivate your own account.",
                "active",
            )
        user.is_active = patch.active
        if not patch.active:
            await revoke_user_sessions(user.id, "deactivated")
        async with in_transaction() as conn:
            await policy_changed(conn, None)  # every process drops every cached Scope
        store.invalidate()
    await user.save()
    return user
