"""Login, token refresh with rotation and reuse detection, logout, and user administration."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from accounts.models import Membership, RefreshToken, User
from accounts.passwords import hash_password, needs_rehash, verify_password
from accounts.tokens import TokenService, hash_refresh_token, new_refresh_token
from core.errors import DomainError, NotFound, Validator
from permissions.actions import Action
from permissions.scope import Scope
from permissions.store import policy_changed, store
from tenants.models import Tenant, TenantStatus


def _invalid_credentials() -> DomainError:
    # One error for unknown user, wrong password and disabled account: no user enumeration.
    return DomainError(
        "INVALID_CREDENTIALS",
        "Tên đăng nhập hoặc mật khẩu không đúng.",
        "Wrong username or password.",
    )


def _invalid_refresh() -> DomainError:
    return DomainError(
        "INVALID_REFRESH_TOKEN",
        "Phiên làm việc đã hết hạn, vui lòng đăng nhập lại.",
        "The session has expired; please log in again.",
        "refreshToken",
    )


@dataclass(frozen=True)
class Session:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User
    tenant: Tenant | None


@dataclass(frozen=True)
class RefreshOutcome:
    session: Session | None
    error: DomainError | None


async def _tenant_by_code(code: str) -> Tenant:
    tenant = await Tenant.get_or_none(code=code.strip().lower())
    if tenant is None or tenant.status != TenantStatus.ACTIVE:
        raise NotFound("tenant", "tenantCode")
    return tenant


async def _open_session(
    user: User, tenant: Tenant | None, tokens: TokenService, family_id: uuid.UUID | None = None
) -> Session:
    access, ttl = tokens.issue_access(user.id, tenant.id if tenant else None)
    refresh, refresh_hash = new_refresh_token()
    await RefreshToken.create(
        user_id=user.id,
        tenant_id=tenant.id if tenant else None,
        family_id=family_id or uuid.uuid4(),
        token_hash=refresh_hash,
        expires_at=datetime.now(UTC) + timedelta(seconds=tokens.settings.refresh_token_ttl_seconds),
    )
    return Session(access, refresh, ttl, user, tenant)


async def login(
    username: str, password: str, tenant_code: str | None, tokens: TokenService
) -> Session:
    user = await User.get_or_none(username=username.strip().lower())
    if len(password) > 256:  # argon2 cost grows with the input; no real password is this long
        raise _invalid_credentials()
    # argon2 is deliberately slow (tens of ms): keep it off the event loop.
    ok = await asyncio.to_thread(verify_password, user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        raise _invalid_credentials()
    if needs_rehash(user.password_hash or ""):
        user.password_hash = await asyncio.to_thread(hash_password, password)
        await user.save(update_fields=["password_hash"])
    tenant: Tenant | None = None
    if tenant_code:
        tenant = await _tenant_by_code(tenant_code)
    elif user.default_tenant_id:
        tenant = await Tenant.get_or_none(id=user.default_tenant_id, status=TenantStatus.ACTIVE)
    scope = await store.scope_for(user.id, tenant.id if tenant else None)
    if not scope.roles:
        raise (
            _invalid_credentials()
            if tenant_code is None
            else DomainError(
                "NO_MEMBERSHIP",
                "Tài khoản không thuộc đơn vị triển khai này.",
                "This account has no role in that tenant.",
                "tenantCode",
            )
        )
    return await _open_session(user, tenant, tokens)


async def refresh(token: str, tokens: TokenService) -> RefreshOutcome:
    now = datetime.now(UTC)
    row = await RefreshToken.get_or_none(token_hash=hash_refresh_token(token))
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return RefreshOutcome(None, _invalid_refresh())
    if row.used_at is not None:
        # A rotated token came back: someone kept a copy. Revoke the whole family.
        await RefreshToken.filter(family_id=row.family_id, revoked_at__isnull=True).update(
            revoked_at=now
        )
        return RefreshOutcome(
            None,
            DomainError(
                "REFRESH_TOKEN_REUSED",
                "Phiên làm việc bị dùng lại và đã bị thu hồi; vui lòng đăng nhập lại.",
                "This refresh token was already used; the session is revoked. Log in again.",
                "refreshToken",
            ),
        )
    claimed = await RefreshToken.filter(id=row.id, used_at__isnull=True).update(used_at=now)
    if claimed == 0:  # a concurrent refresh won the race
        return RefreshOutcome(None, _invalid_refresh())
    user = await User.get(id=row.user_id)
    tenant = await Tenant.get_or_none(id=row.tenant_id) if row.tenant_id else None
    if not user.is_active or (tenant is not None and tenant.status != TenantStatus.ACTIVE):
        return RefreshOutcome(None, _invalid_refresh())
    if not (await store.scope_for(user.id, tenant.id if tenant else None)).roles:
        return RefreshOutcome(None, _invalid_refresh())  # every role was revoked: session over
    return RefreshOutcome(await _open_session(user, tenant, tokens, row.family_id), None)


async def logout(token: str) -> None:
    row = await RefreshToken.get_or_none(token_hash=hash_refresh_token(token))
    if row is not None:
        await RefreshToken.filter(family_id=row.family_id, revoked_at__isnull=True).update(
            revoked_at=datetime.now(UTC)
        )


async def user_by_external_subject(subject: str) -> User | None:
    return await User.get_or_none(external_subject=subject, is_active=True)


# --- administration (tenant admins) ------------------------------------------------------------


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
    if data.password is not None and len(data.password) < 10:
        v.add(
            "WEAK_PASSWORD",
            f"{prefix}password",
            "Mật khẩu cần ít nhất 10 ký tự.",
            "A password needs at least 10 characters.",
        )
    if data.password is not None and len(data.password) > 256:
        v.add("TOO_LONG", f"{prefix}password", "Tối đa 256 ký tự.", "At most 256 characters.")
    email = v.text(f"{prefix}email", data.email, max_len=254, required=False)
    if email and "@" not in email:
        v.add("INVALID_EMAIL", f"{prefix}email", "Email không hợp lệ.", "Invalid email address.")
    phone = v.text(f"{prefix}phone", data.phone, max_len=32, required=False)
    return NewUser(username.lower(), data.password, full_name, email or None, phone or None)


async def create_user(data: NewUser, default_tenant_id: uuid.UUID | None) -> User:
    if await User.exists(username=data.username):
        raise DomainError(
            "DUPLICATE_USERNAME", "Tên đăng nhập đã tồn tại.", "This username is taken.", "username"
        )
    return await User.create(
        username=data.username,
        password_hash=await asyncio.to_thread(hash_password, data.password)
        if data.password
        else None,
        full_name=data.full_name,
        email=data.email,
        phone=data.phone,
        default_tenant_id=default_tenant_id,
    )


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
        raise NotFound("user")
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
        raise NotFound("user", "id")
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
        await RefreshToken.filter(user_id=user.id, revoked_at__isnull=True).update(
            revoked_at=datetime.now(UTC)
        )
        async with in_transaction() as conn:
            await policy_changed(conn, None)  # every process drops every cached Scope
        store.invalidate()
    await user.save()
    return user
