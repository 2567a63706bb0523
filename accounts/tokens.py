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
from typing import Any

import jwt

from core.errors import DomainError
from permissions.scope import Scope

_ASYMMETRIC_PREFIXES = ("RS", "PS", "ES", "Ed")


@dataclass(frozen=True)
class TokenConfig:
    """What token issuing and verification need, built by the API from its settings."""

    algorithm: str = "HS256"
    secret: str | None = None  # HS*: the shared secret
    private_key: bytes | None = None  # RS/ES/PS/EdDSA: PEM keys
    public_key: bytes | None = None
    issuer: str = "paht"
    audience: str = "paht-api"
    access_ttl_seconds: int = 900
    refresh_ttl_seconds: int = 30 * 24 * 3600
    oidc_issuer: str | None = None  # an external identity provider whose tokens are accepted
    oidc_jwks_url: str | None = None
    oidc_audience: str | None = None

    def __post_init__(self) -> None:
        if self.algorithm.lower() == "none":
            raise ValueError("the 'none' JWT algorithm is never allowed")
        if self.algorithm.startswith(_ASYMMETRIC_PREFIXES):
            if self.private_key is None:
                raise ValueError(f"{self.algorithm} needs PAHT_JWT_PRIVATE_KEY_FILE")
            if self.public_key is None:
                raise ValueError(f"{self.algorithm} needs PAHT_JWT_PUBLIC_KEY_FILE")
        elif not self.secret:
            raise ValueError(f"{self.algorithm} needs a secret (PAHT_JWT_SECRET)")


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
    def __init__(self, config: TokenConfig) -> None:
        self.config = config
        self.algorithm = config.algorithm
        # Built now, so that a bad OIDC configuration (e.g. a non-http(s) JWKS URL, which
        # PyJWKClient rejects) fails at startup instead of on every token verification.
        self._jwks_client: jwt.PyJWKClient | None = None
        if config.oidc_jwks_url and config.oidc_issuer:
            self._jwks_client = jwt.PyJWKClient(
                # The key set is cached for an hour; keys are not cached beyond it, so a key
                # the provider withdraws stops being trusted at the next refresh.
                config.oidc_jwks_url,
                cache_keys=False,
                cache_jwk_set=True,
                lifespan=3600,
            )

    @property
    def _signing_key(self) -> str | bytes:
        return self.config.private_key or self.config.secret or ""

    @property
    def _verifying_key(self) -> str | bytes:
        return self.config.public_key or self.config.secret or ""

    def issue_access(
        self, user_id: uuid.UUID, tenant_id: uuid.UUID | None, session_id: uuid.UUID
    ) -> tuple[str, int]:
        now = int(time.time())
        ttl = self.config.access_ttl_seconds
        claims = {
            "iss": self.config.issuer,
            "aud": self.config.audience,
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

    @property
    def external_enabled(self) -> bool:
        """Is an external identity provider configured (PAHT_OIDC_*)?"""
        return self._jwks_client is not None

    def is_external(self, token: str) -> bool:
        if self._jwks_client is None:
            return False
        try:
            issuer = jwt.decode(token, options={"verify_signature": False}).get("iss")
        except jwt.PyJWTError:
            return False
        return issuer == self.config.oidc_issuer

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
        if self._jwks_client is not None and unverified_issuer == self.config.oidc_issuer:
            return self._verify_external(token)
        try:
            claims = jwt.decode(
                token,
                self._verifying_key,
                algorithms=[self.algorithm],
                audience=self.config.audience,
                issuer=self.config.issuer,
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

    async def external_claims(self, token: str) -> dict[str, Any]:
        """The verified claims of the identity provider's ID token (INVALID_TOKEN for anything
        else, our own tokens included), verified in a worker thread (the key set may be
        fetched over the network)."""
        if not self.is_external(token):
            raise invalid_token()
        return await asyncio.to_thread(self._external_claims, token)

    def _verify_external(self, token: str) -> Identity:
        claims = self._external_claims(token)
        return Identity(
            user_id=None,
            tenant_id=None,
            external_subject=external_subject(claims),
            token_id=claims.get("jti"),
            expires_at=float(claims["exp"]),
        )

    def _provider_key(self, token: str) -> jwt.PyJWK:
        """The provider's key named by the token's ``kid``; a token without one (allowed when
        the provider publishes a single key) is verified with that only key, never a choice."""
        assert self._jwks_client is not None
        if jwt.get_unverified_header(token).get("kid") is not None:
            return self._jwks_client.get_signing_key_from_jwt(token)
        keys = self._jwks_client.get_signing_keys()
        if len(keys) != 1:
            raise _no_key()
        return keys[0]

    def _external_claims(self, token: str) -> dict[str, Any]:
        assert self._jwks_client is not None
        try:
            signing_key = self._provider_key(token)
            claims = jwt.decode(
                token,
                signing_key.key,
                algorithms=["RS256", "ES256", "PS256", "EdDSA"],
                audience=self.config.oidc_audience or self.config.audience,
                issuer=self.config.oidc_issuer,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
                leeway=5,
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise invalid_token() from exc
        return dict(claims)


def _no_key() -> jwt.PyJWTError:
    return jwt.InvalidTokenError("no single signing key for a token without kid")


def external_subject(claims: dict[str, Any]) -> str:
    """How an external identity is stored (``app_user.external_subject``): issuer and subject."""
    return f"{claims['iss']}|{claims['sub']}"


def new_refresh_token() -> tuple[str, str]:
    """A random opaque token and the SHA-256 hash that is all the database keeps."""
    token = secrets.token_urlsafe(32)
    return token, hash_refresh_token(token)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
