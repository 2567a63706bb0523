"""Changing one's own password, and an administrator's reset of someone else's.

A change needs the current password, verified under the login's limits (per account and per
client address, accounts/sessions.py), and ends every other session of the account: whoever
else held one (a stolen token, a forgotten computer) is signed out, the caller is not. A reset
gives the account a generated one-time password, shown once to the administrator, and ends all
its sessions; the next login must set a new password (``login`` with ``newPassword``)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from dataclasses import dataclass

from accounts import credentials
from accounts.models import User
from accounts.password_policy import MAX_CHARS, check_password, generate_password
from accounts.passwords import hash_password, verify_password
from accounts.sessions import (
    ACCOUNT_BACKOFF,
    ADDRESS_WINDOW,
    revoke_user_sessions,
    set_new_password,
)
from core import throttle
from core.clock import now as clock_now
from core.errors import DomainError, NotFound, TooManyAttempts
from core.glossary import Term
from permissions.actions import Action
from permissions.scope import Scope

log = logging.getLogger("paht.auth")


def _wrong_password(field: str) -> DomainError:
    return DomainError(
        "WRONG_PASSWORD",
        "Mật khẩu hiện tại không đúng.",
        "The current password is wrong.",
        field,
    )


async def change_password(
    scope: Scope, session_id: uuid.UUID | None, current: str, new: str, address: str
) -> list[uuid.UUID]:
    """The caller's own password; returns the ids of the other sessions it ended."""
    user_id = scope.require_user()
    user = await User.get(id=user_id)
    # Bad input costs no attempt and says nothing about the current password.
    check_password(new, user.username, "newPassword")
    where = {"user_id": str(user_id), "client": address}
    await verify_own_password(scope, current, address, "currentPassword", "password change")
    await set_new_password(user, current, new, "newPassword")
    ended = await revoke_user_sessions(user_id, "password", keep=session_id)
    log.info("password changed", extra={**where, "sessions_ended": len(ended)})
    return ended


async def verify_own_password(
    scope: Scope, password: str, address: str, field: str, purpose: str
) -> None:
    """The caller proves their password again (``WRONG_PASSWORD`` on ``field``), under the
    login limits: per client address and a back-off per account."""
    user_id = scope.require_user()
    now = clock_now()
    account_key = f"user:{user_id}"
    where = {"user_id": str(user_id), "client": address}
    try:
        await throttle.take(ADDRESS_WINDOW, address, now, field)
        await throttle.take(ACCOUNT_BACKOFF, account_key, now, field)
    except TooManyAttempts:
        log.warning("%s refused: too many attempts", purpose, extra=where)
        raise
    stored = await credentials.own_password_hash()
    verified = len(password) <= MAX_CHARS and await asyncio.to_thread(
        verify_password, stored, password
    )
    if not verified:
        log.warning("%s failed: wrong current password", purpose, extra=where)
        raise _wrong_password(field)
    await throttle.give_back(ADDRESS_WINDOW, address, now)
    await throttle.give_back(ACCOUNT_BACKOFF, account_key, now)


@dataclass(frozen=True)
class Reset:
    user: User
    password: str  # one-time: shown once, never stored or logged


async def reset_password(user: User, actor: uuid.UUID | None) -> Reset:
    """A generated one-time password for ``user``; all their sessions end. The caller has
    checked that it may reset this account (the database checks again: paht_set_password)."""
    password = generate_password(user.username)
    hashed = await asyncio.to_thread(hash_password, password)
    await credentials.set_password_hash(user.id, hashed, True)
    ended = await revoke_user_sessions(user.id, "admin")
    log.info(
        "password reset",
        extra={"user_id": str(user.id), "by": str(actor), "sessions_ended": len(ended)},
    )
    return Reset(user, password)


async def reset_tenant_user_password(scope: Scope, user_id: uuid.UUID) -> Reset:
    """A tenant administrator resets an account whose home tenant is theirs. Anyone else (another
    tenant's user, a provincial administrator) is not found."""
    scope.require(Action.TENANT_MANAGE)
    user = await User.get_or_none(id=user_id, default_tenant_id=scope.require_tenant())
    if user is None:
        raise NotFound(Term.USER, "userId")
    if user.id == scope.user_id:
        raise DomainError(
            "CANNOT_RESET_SELF",
            "Không thể tự đặt lại mật khẩu của mình; hãy dùng chức năng đổi mật khẩu.",
            "You cannot reset your own password; change it instead.",
            "userId",
        )
    return await reset_password(user, scope.user_id)
