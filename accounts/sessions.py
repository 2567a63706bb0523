"""Logging in, refreshing and ending sessions.

A login opens an ``AuthSession``; its access tokens carry the session id and its refresh
tokens rotate within it. Ending a session (logout, a reused refresh token, deactivation, a
password change or reset) ends its access tokens too, in every process (accounts/revocations.py)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from tortoise import connections

from accounts import credentials
from accounts.models import AuthSession, RefreshToken, User
from accounts.password_policy import MAX_CHARS as MAX_PASSWORD_CHARS
from accounts.password_policy import check_password
from accounts.passwords import hash_password, needs_rehash, verify_password
from accounts.revocations import announce_revoked, revocations
from accounts.tokens import TokenService, hash_refresh_token, new_refresh_token
from core import throttle
from core.clock import now as clock_now
from core.errors import DomainError, NotFound, TooManyAttempts
from core.glossary import Term
from core.tenancy import TenantRef, tenant_by_code, tenant_by_id
from permissions.session import act_as_user
from permissions.store import store

log = logging.getLogger("paht.auth")

# Defaults and why: five wrong passwords in a row are a typo streak, not an attack; after that
# each failure doubles the wait (1 s, 2 s, 4 s … 15 min), so 600 guesses take days, and the
# account's owner is never locked out for long. Per client address, 30 failed logins in ten
# minutes (successes give theirs back) stops one machine trying many accounts, while an office
# behind one NAT address logging in at 07:30 is unaffected.
ACCOUNT_BACKOFF = throttle.BackOff(
    "login-account", free=5, base=timedelta(seconds=1), cap=timedelta(minutes=15)
)
ADDRESS_WINDOW = throttle.SlidingWindow("login-address", limit=30, window=timedelta(minutes=10))
# Two tabs refreshing at the same moment: the second gets the pair the first one got.
REFRESH_GRACE = timedelta(seconds=10)


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
    tenant: TenantRef | None
    session_id: uuid.UUID


@dataclass(frozen=True)
class RefreshOutcome:
    session: Session | None
    error: DomainError | None


async def _tenant_by_code(code: str) -> TenantRef:
    tenant = await tenant_by_code(code)
    if tenant is None or not tenant.active:
        raise NotFound(Term.TENANT, "tenantCode")
    return tenant


async def _active_tenant(tenant_id: uuid.UUID | None) -> TenantRef | None:
    tenant = await tenant_by_id(tenant_id) if tenant_id else None
    return tenant if tenant is not None and tenant.active else None


async def _issue(
    user: User, tenant: TenantRef | None, tokens: TokenService, session_id: uuid.UUID, now: datetime
) -> tuple[str, str, int]:
    access, ttl = tokens.issue_access(user.id, tenant.id if tenant else None, session_id)
    refresh, refresh_hash = new_refresh_token()
    await RefreshToken.create(
        user_id=user.id,
        tenant_id=tenant.id if tenant else None,
        family_id=session_id,
        token_hash=refresh_hash,
        expires_at=now + timedelta(seconds=tokens.config.refresh_ttl_seconds),
    )
    return access, refresh, ttl


async def _open_session(
    user: User, tenant: TenantRef | None, tokens: TokenService, now: datetime
) -> Session:
    session = await AuthSession.create(user_id=user.id, tenant_id=tenant.id if tenant else None)
    access, refresh, ttl = await _issue(user, tenant, tokens, session.id, now)
    return Session(access, refresh, ttl, user, tenant, session.id)


async def open_session(user: User, tenant: TenantRef, tokens: TokenService) -> Session:
    """A session for an account that has just proven itself another way than a password (a
    one-time code at sign-up, an external identity provider); RLS must reach the user."""
    await act_as_user(user.id)
    return await _open_session(user, tenant, tokens, clock_now())


async def _authenticate(
    candidates: list[credentials.LoginCandidate], password: str
) -> credentials.LoginCandidate | None:
    """The first candidate the password opens. argon2 is deliberately slow (tens of ms), so it
    runs off the event loop; with no candidate a dummy hash is verified, so an unknown username
    takes as long as a wrong password."""
    tried: list[credentials.LoginCandidate | None] = list(candidates) or [None]
    for candidate in tried:
        stored = candidate.password_hash if candidate else None
        if await asyncio.to_thread(verify_password, stored, password) and candidate:
            return candidate
    return None


async def login(
    username: str,
    password: str,
    tenant_code: str | None,
    tokens: TokenService,
    address: str,
    new_password: str | None = None,
) -> Session:
    """With ``new_password`` the account's password is replaced as it logs in: required when
    its password is one-time (a reset or a generated one), which otherwise answers
    PASSWORD_CHANGE_REQUIRED and opens no session."""
    now = clock_now()
    name = username.strip().lower()[:120]
    tenant = await _tenant_by_code(tenant_code) if tenant_code else None
    account_key = f"{tenant.code if tenant else '*'}:{name}"
    where = {"username": name, "client": address, "tenant_code": tenant_code or ""}
    try:
        await throttle.take(ADDRESS_WINDOW, address, now, "username")
        await throttle.take(ACCOUNT_BACKOFF, account_key, now, "username")
    except TooManyAttempts:
        log.warning("login refused: too many attempts", extra=where)
        raise
    found = None
    if len(password) <= MAX_PASSWORD_CHARS:
        found = await _authenticate(
            await credentials.login_candidates(name, tenant.id if tenant else None), password
        )
    if found is None or not found.is_active:
        log.warning("login failed", extra=where)
        raise _invalid_credentials()
    await act_as_user(found.user_id)
    user = await User.get(id=found.user_id)
    if found.password_hash and needs_rehash(found.password_hash):
        rehashed = await asyncio.to_thread(hash_password, password)
        await credentials.set_password_hash(user.id, rehashed, found.must_change)
    if tenant is None:
        tenant = await _active_tenant(user.default_tenant_id)
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
    await throttle.give_back(ADDRESS_WINDOW, address, now)
    await throttle.give_back(ACCOUNT_BACKOFF, account_key, now)
    if found.must_change and new_password is None:
        raise password_change_required()
    if new_password is not None:
        await set_new_password(user, password, new_password, "newPassword")
        await revoke_user_sessions(user.id, "password")
        log.info("password changed at login", extra={"user_id": str(user.id)})
    return await _open_session(user, tenant, tokens, now)


def password_change_required() -> DomainError:
    return DomainError(
        "PASSWORD_CHANGE_REQUIRED",
        "Mật khẩu này chỉ dùng một lần: hãy đặt mật khẩu mới để đăng nhập.",
        "This password is for one use only: choose a new password to log in.",
        "newPassword",
    )


async def set_new_password(user: User, current: str, new: str, field: str) -> None:
    """Replace a password the caller has just verified (``current``) by ``new``, if the
    password rules allow it. The new one is not one-time."""
    check_password(new, user.username, field)
    if new == current:
        raise DomainError(
            "PASSWORD_UNCHANGED",
            "Mật khẩu mới phải khác mật khẩu hiện tại.",
            "The new password must differ from the current one.",
            field,
        )
    hashed = await asyncio.to_thread(hash_password, new)
    await credentials.set_password_hash(user.id, hashed, False)


# --- refresh with rotation, reuse detection and a grace window ----------------------------------


def _seal_key(token: str) -> bytes:
    # Only a holder of the old token can open the pair it was rotated into.
    return hashlib.sha256(b"paht-refresh-successor:" + token.encode()).digest()


def _seal(token: str, pair: dict[str, object]) -> bytes:
    nonce = os.urandom(12)
    return nonce + AESGCM(_seal_key(token)).encrypt(nonce, json.dumps(pair).encode(), None)


def _unseal(token: str, sealed: bytes) -> dict[str, object] | None:
    try:
        plain = AESGCM(_seal_key(token)).decrypt(sealed[:12], sealed[12:], None)
    except (InvalidTag, ValueError):
        return None
    return json.loads(plain)


async def _replay(token: str, row: credentials.RefreshRow, now: datetime) -> RefreshOutcome | None:
    """Within the grace window, the pair this token was already rotated into."""
    if row.used_at is None or row.successor_sealed is None or now - row.used_at > REFRESH_GRACE:
        return None
    pair = _unseal(token, bytes(row.successor_sealed))
    if pair is None:
        return None
    user = await User.get(id=row.user_id)
    tenant = await tenant_by_id(row.tenant_id) if row.tenant_id else None
    session = Session(
        str(pair["access"]), str(pair["refresh"]), int(str(pair["expiresIn"])), user, tenant,
        row.session_id,
    )  # fmt: skip
    return RefreshOutcome(session, None)


async def refresh(token: str, tokens: TokenService) -> RefreshOutcome:
    now = clock_now()
    token_hash = hash_refresh_token(token)
    row = await credentials.refresh_row(token_hash)
    if (
        row is None
        or row.revoked_at is not None
        or row.session_revoked
        or row.expires_at <= now
        or not row.user_active
    ):
        return RefreshOutcome(None, _invalid_refresh())
    await act_as_user(row.user_id)
    if row.used_at is not None:
        if replayed := await _replay(token, row, now):
            return replayed
        # A rotated token came back after the grace window: someone kept a copy.
        await revoke_sessions([row.session_id], "reuse")
        return RefreshOutcome(
            None,
            DomainError(
                "REFRESH_TOKEN_REUSED",
                "Phiên làm việc bị dùng lại và đã bị thu hồi; vui lòng đăng nhập lại.",
                "This refresh token was already used; the session is revoked. Log in again.",
                "refreshToken",
            ),
        )
    user = await User.get(id=row.user_id)
    tenant = await tenant_by_id(row.tenant_id) if row.tenant_id else None
    if tenant is not None and not tenant.active:
        return RefreshOutcome(None, _invalid_refresh())
    if not (await store.scope_for(user.id, tenant.id if tenant else None)).roles:
        return RefreshOutcome(None, _invalid_refresh())  # every role was revoked: session over
    access, ttl = tokens.issue_access(user.id, tenant.id if tenant else None, row.session_id)
    new_token, new_hash = new_refresh_token()
    sealed = _seal(token, {"access": access, "refresh": new_token, "expiresIn": ttl})
    # Claim the old token; a concurrent refresh of the same token waits on this row and then
    # replays what this one sealed.
    claimed = await RefreshToken.filter(id=row.id, used_at__isnull=True).update(
        used_at=now, successor_sealed=sealed
    )
    if claimed == 0:
        again = await credentials.refresh_row(token_hash)
        replayed = await _replay(token, again, now) if again else None
        return replayed or RefreshOutcome(None, _invalid_refresh())
    await RefreshToken.create(
        user_id=user.id,
        tenant_id=row.tenant_id,
        family_id=row.session_id,
        token_hash=new_hash,
        expires_at=now + timedelta(seconds=tokens.config.refresh_ttl_seconds),
    )
    return RefreshOutcome(Session(access, new_token, ttl, user, tenant, row.session_id), None)


async def revoke_sessions(session_ids: list[uuid.UUID], reason: str) -> None:
    """End sessions: their refresh tokens stop at once and their access tokens at the next
    request, in every process (the NOTIFY is sent when this transaction commits)."""
    if not session_ids:
        return
    now = clock_now()
    await AuthSession.filter(id__in=session_ids, revoked_at__isnull=True).update(
        revoked_at=now, revoked_reason=reason
    )
    await RefreshToken.filter(family_id__in=session_ids, revoked_at__isnull=True).update(
        revoked_at=now
    )
    await announce_revoked(connections.get("default"), session_ids)
    for session_id in session_ids:  # this process need not wait for its own notification
        revocations.revoked(session_id)


async def revoke_user_sessions(
    user_id: uuid.UUID, reason: str, *, keep: uuid.UUID | None = None
) -> list[uuid.UUID]:
    """End every session of an account but ``keep`` (the caller's own, for a password change)
    and return their ids. Through ``paht_revoke_user_sessions`` (migration 0009): a provincial
    account's sessions opened inside a tenant carry that tenant, which the provincial path
    cannot see; the function reaches the accounts ``paht_set_password`` would."""
    conn = connections.get("default")
    rows = await conn.execute_query_dict(
        "SELECT id FROM paht_revoke_user_sessions($1, $2, $3, $4) AS ended (id)",
        [user_id, reason, keep, clock_now()],
    )
    ids = [row["id"] for row in rows]
    await announce_revoked(conn, ids)
    for session_id in ids:
        revocations.revoked(session_id)
    return ids


async def logout(token: str) -> None:
    row = await credentials.refresh_row(hash_refresh_token(token))
    if row is not None:
        await act_as_user(row.user_id)
        await revoke_sessions([row.session_id], "logout")
