"""From a bearer token to a Scope: the only place a request's identity is established."""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict

from accounts.credentials import user_by_external_subject
from accounts.revocations import revocations
from accounts.tokens import Caller, Identity, TokenService, invalid_token
from core.errors import DomainError
from core.tenancy import tenant_by_code, tenant_by_id
from permissions.scope import ANONYMOUS, Scope, anonymous_in
from permissions.store import store


def bearer(header: str | None) -> str | None:
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


TENANT_HEADER = "x-paht-tenant"


async def anonymous_scope(tenant_code: str | None) -> Scope:
    """Unauthenticated requests may name their tenant (a citizen app configured for its
    locality): public reads and anonymous submissions then run inside that tenant."""
    if not tenant_code:
        return ANONYMOUS
    return anonymous_in(await _tenant_id(tenant_code))


async def _tenant_id(tenant_code: str) -> uuid.UUID:
    tenant = await tenant_by_code(tenant_code)
    if tenant is not None and tenant.successor_id is not None:
        # A citizen app still configured for a merged locality reaches its successor, where
        # the locality's reports (and their codes) now live.
        tenant = await tenant_by_id(tenant.successor_id)
    if tenant is None or not tenant.active:
        raise DomainError(
            "UNKNOWN_TENANT", "Không tìm thấy đơn vị triển khai.", "Unknown tenant.", TENANT_HEADER
        )
    return tenant.id


class VerifiedTokens:
    """Our own access tokens, verified once for their lifetime: the signature and claims of a
    token do not change, so a repeated bearer costs a dictionary lookup instead of two JWT
    decodes. What can change is checked on every request as before: the session's revocation
    (the NOTIFY-fed cache), the account's activity and grants (the Scope store). External
    (OIDC) tokens are not kept."""

    def __init__(self, maxsize: int = 10_000) -> None:
        self.maxsize = maxsize
        self.entries: OrderedDict[tuple[int, str], Identity] = OrderedDict()

    def get(self, tokens: TokenService, token: str) -> Identity | None:
        key = (id(tokens), token)
        identity = self.entries.get(key)
        if identity is None:
            return None
        if (
            identity.expires_at is None or time.time() >= identity.expires_at
        ):  # expired: verify again (and be refused)
            del self.entries[key]
            return None
        return identity

    def put(self, tokens: TokenService, token: str, identity: Identity) -> None:
        if identity.session_id is None or identity.expires_at is None:
            return  # external (OIDC) identities are verified each time
        self.entries[(id(tokens), token)] = identity
        if len(self.entries) > self.maxsize:
            self.entries.popitem(last=False)


verified_tokens = VerifiedTokens()


async def _verified(token: str, tokens: TokenService) -> Identity:
    identity = verified_tokens.get(tokens, token)
    if identity is None:
        identity = await tokens.verify_async(token)
        verified_tokens.put(tokens, token, identity)
    return identity


async def scope_from_token(
    token: str, tokens: TokenService, tenant_code: str | None = None
) -> Caller:
    """A typed INVALID_TOKEN error for a bad, expired or revoked token (never anonymous: a
    client with an expired token must learn it, not silently lose its permissions)."""
    identity = await _verified(token, tokens)
    if identity.session_id is not None and await revocations.is_revoked(identity.session_id):
        raise invalid_token()  # logged out, reused refresh token, deactivated
    user_id = identity.user_id
    tenant_id = identity.tenant_id
    if identity.external_subject is not None:
        linked = await user_by_external_subject(identity.external_subject)
        if linked is None:
            raise DomainError(
                "UNKNOWN_EXTERNAL_USER",
                "Tài khoản định danh chưa được liên kết với PAHT.",
                "This external identity is not linked to a PAHT account.",
            )
        user_id, tenant_id = linked
    assert user_id is not None
    if tenant_id is None and tenant_code:
        # A token without a tenant (provincial staff) may act inside one named tenant; what it
        # may do there is whatever its grants allow in that tenant (provincial rules apply in
        # every tenant).
        tenant_id = await _tenant_id(tenant_code)
    scope = await store.scope_for(uuid.UUID(str(user_id)), tenant_id)
    if not scope.active:
        # Deactivated or deleted account: refused at once, not when the token expires.
        raise invalid_token()
    return Caller(scope, identity.session_id, identity.expires_at)
