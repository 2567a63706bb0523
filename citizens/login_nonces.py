"""Nonces of external logins (OpenID Connect Core §3.1.2.1 and §15.5.2): the citizen app asks
PAHT to start a login (``startExternalLogin``), puts the nonce in its authorisation request to
the provider, and sends the ID token back to ``externalLogin``, which accepts it only if it
carries a nonce this tenant issued, unused and unexpired — and uses it up. A token copied from
elsewhere, replayed, or from a login PAHT never started is refused.

A nonce is 32 random bytes; only its SHA-256 is kept (unguessable, so unkeyed). Using one is a
single conditional DELETE, so two concurrent logins with one token cannot both win. Issuing
removes the tenant's expired ones; it is limited per client address (core/throttle.py)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import datetime, timedelta

from tortoise import connections

from accounts.tokens import TokenService
from citizens.models import ExternalLoginNonce
from core import clock, throttle
from core.errors import DomainError

NONCE_TTL = timedelta(minutes=10)
STARTS = throttle.SlidingWindow("external-login-start", limit=30, window=timedelta(minutes=10))


def _hash(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def login_not_started() -> DomainError:
    # One answer for a missing, unknown, expired or used nonce.
    return DomainError(
        "LOGIN_NOT_STARTED",
        "Phiên đăng nhập không hợp lệ hoặc đã hết hạn: vui lòng đăng nhập lại.",
        "This login was not started here, has expired or was already used: log in again.",
        "idToken",
    )


async def start(
    tenant_id: uuid.UUID, client_address: str, tokens: TokenService
) -> tuple[str, datetime]:
    """A new nonce for a login in ``tenant_id``, and until when it may be used."""
    if not tokens.external_enabled:
        raise DomainError(
            "EXTERNAL_LOGIN_UNAVAILABLE",
            "Đơn vị chưa cấu hình đăng nhập bằng tài khoản định danh.",
            "No external identity provider is configured.",
        )
    now = clock.now()
    await throttle.take(STARTS, client_address, now)
    await ExternalLoginNonce.filter(tenant_id=tenant_id, expires_at__lt=now).delete()
    nonce = secrets.token_urlsafe(32)
    expires_at = now + NONCE_TTL
    await ExternalLoginNonce.create(
        tenant_id=tenant_id, nonce_hash=_hash(nonce), expires_at=expires_at, created_at=now
    )
    return nonce, expires_at


async def use(tenant_id: uuid.UUID, nonce: object) -> None:
    """Use up the nonce an ID token carries (LOGIN_NOT_STARTED otherwise)."""
    if not isinstance(nonce, str) or not 16 <= len(nonce) <= 128:
        raise login_not_started()
    used = await connections.get("default").execute_query(
        "DELETE FROM external_login_nonce WHERE tenant_id = $1 AND nonce_hash = $2 "
        "AND expires_at > $3",
        [tenant_id, _hash(nonce), clock.now()],
    )
    if used[0] != 1:
        raise login_not_started()
