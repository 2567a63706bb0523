"""Access tokens (JWT) and refresh tokens (opaque).

Access tokens are short-lived and carry only identity (``sub``) and the tenant (``tid``): what a
user may do is looked up per request from the policy store, so a revoke needs no token expiry.
Algorithms are pinned: a token is verified only with the configured algorithm (never ``none``)."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from functools import cached_property

import jwt

from api.settings import Settings
from core.errors import DomainError
from permissions.scope import Scope

_ASYMMETRIC_PREFIXES = ("RS", "PS", "ES", "Ed")


@dataclass(frozen=True)
class Identity:
    """Who is calling, as established by a verified token."""

    user_id: uuid.UUID | None
    tenant_id: uuid.UUID | None
    external_subject: str | None = None
    token_id: str | None = None
    session_id: uuid.UUID | None = None  # our own tokens: the login they belong to
    expires_at: float | None = None


@dataclass(frozen=True)
class Caller:
    """A verified token: what it may do, and until when (WebSocket connections end then)."""

    scope: Scope
    session_id: uuid.UUID | None
    expires_at: float | None


def invalid_token() -> DomainError:
    return DomainError(
        "INVALID_TOKEN",
        "Phiên đăng nhập không hợp lệ hoặc đã hết hạn.",
        "The access token is invalid or expired.",
    )


class TokenService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.algorithm = settings.jwt_algorithm
        if self.algorithm.lower() == "none":
            raise ValueError("the 'none' JWT algorithm is never allowed")
        if problem := settings.jwt_secret_problem():
            raise ValueError(problem)  # whatever hosts the app; `paht serve` says it first
        # Built now, so that a bad OIDC configuration (e.g. a non-http(s) JWKS URL, which
        # PyJWKClient rejects) fails at startup instead of on every token verification.
        self._jwks_client: jwt.PyJWKClient | None = None
        if settings.oidc_jwks_url and settings.oidc_issuer:
            self._jwks_client = jwt.PyJWKClient(
                # The key set is cached for an hour; keys are not cached beyond it, so a key
                # the provider withdraws stops being trusted at the next refresh.
                settings.oidc_jwks_url,
                cache_keys=False,
                cache_jwk_set=True,
                lifespan=3600,
            )

    @cached_property
    def _signing_key(self) -> str | bytes:
        if self.algorithm.startswith(_ASYMMETRIC_PREFIXES):
            if self.settings.jwt_private_key_file is None:
                raise ValueError(f"{self.algorithm} needs PAHT_JWT_PRIVATE_KEY_FILE")
            return self.settings.jwt_private_key_file.read_bytes()
        return self.settings.signing_secret()

    @cached_property
    def _verifying_key(self) -> str | bytes:
        if self.algorithm.startswith(_ASYMMETRIC_PREFIXES):
            if self.settings.jwt_public_key_file is None:
                raise ValueError(f"{self.algorithm} needs PAHT_JWT_PUBLIC_KEY_FILE")
            return self.settings.jwt_public_key_file.read_bytes()
        return self.settings.signing_secret()

    def issue_access(
        self, user_id: uuid.UUID, tenant_id: uuid.UUID | None, session_id: uuid.UUID
    ) -> tuple[str, int]:
        now = int(time.time())
        ttl = self.settings.access_token_ttl_seconds
        claims = {
            "iss": self.settings.jwt_issuer,
            "aud": self.settings.jwt_audience,
            "sub": str(user_id),
            "sid": str(session_id),
            "iat": now,
            "nbf": now,
            "exp": now + ttl,
            "jti": secrets.token_urlsafe(12),
        }
        if tenant_id is not None:
            claims["tid"] = str(tenant_id)
        return jwt.encode(claims, self._signing_key, algorithm=self.algorithm), ttl

    def is_external(self, token: str) -> bool:
        if self._jwks_client is None:
            return False
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            return False
        return issuer == self.settings.oidc_issuer

    async def verify_async(self, token: str) -> Identity:
        """Like ``verify``, but an external token (which may fetch the provider's key set over
        the network) is verified in a worker thread, never on the event loop."""
        if self.is_external(token):
            return await asyncio.to_thread(self.verify, token)
        return self.verify(token)

    def verify(self, token: str) -> Identity:
        try:
            unverified_issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError as exc:
            raise invalid_token() from exc
        if self._jwks_client is not None and unverified_issuer == self.settings.oidc_issuer:
            return self._verify_external(token)
        try:
            claims = jwt.decode(
                token,
                self._verifying_key,
                algorithms=[self.algorithm],
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                options={"require": ["iss", "aud", "exp", "iat", "sub", "jti", "sid"]},
                leeway=5,
            )
            tenant = claims.get("tid")
            return Identity(
                user_id=uuid.UUID(claims["sub"]),
                tenant_id=uuid.UUID(tenant) if tenant else None,
                token_id=claims["jti"],
                session_id=uuid.UUID(claims["sid"]),
                expires_at=float(claims["exp"]),
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise invalid_token() from exc

    def _verify_external(self, token: str) -> Identity:
        assert self._jwks_client is not None
        try:
            signing_key = self._jwks_client.get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                signing_key.key,
                algorithms=["RS256", "ES256", "PS256", "EdDSA"],
                audience=self.settings.oidc_audience or self.settings.jwt_audience,
                issuer=self.settings.oidc_issuer,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
                leeway=5,
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise invalid_token() from exc
        return Identity(
            user_id=None,
            tenant_id=None,
            external_subject=f"{claims['iss']}|{claims['sub']}",
            token_id=claims.get("jti"),
            expires_at=float(claims["exp"]),
        )


def new_refresh_token() -> tuple[str, str]:
    """A random opaque token and the SHA-256 hash that is all the database keeps."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
