"""From a bearer token to a Scope: the only place a request's identity is established."""

from __future__ import annotations

import uuid

from accounts.service import user_by_external_subject
from accounts.tokens import TokenService, invalid_token
from core.errors import DomainError
from permissions.scope import ANONYMOUS, Scope, anonymous_in
from permissions.session import root_client
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
    # Looked up every time (one indexed read): a suspended tenant is refused at once, in every
    # process.
    tenant_id = await _tenant_id(tenant_code)
    return anonymous_in(tenant_id)


async def _tenant_id(tenant_code: str) -> uuid.UUID:
    async with root_client().acquire_connection() as con:
        tenant_id = await con.fetchval(
            "SELECT id FROM tenant WHERE code = $1 AND status = 'active'",
            tenant_code.strip().lower()[:40],
        )
    if tenant_id is None:
        raise DomainError(
            "UNKNOWN_TENANT", "Không tìm thấy đơn vị triển khai.", "Unknown tenant.", TENANT_HEADER
        )
    return tenant_id


async def scope_from_token(
    token: str | None, tokens: TokenService, tenant_code: str | None = None
) -> Scope:
    """Anonymous without a token; a typed INVALID_TOKEN error for a bad one (never anonymous:
    a client with an expired token must learn it, not silently lose its permissions)."""
    if token is None:
        return ANONYMOUS
    identity = await tokens.verify_async(token)
    user_id = identity.user_id
    tenant_id = identity.tenant_id
    if identity.external_subject is not None:
        user = await user_by_external_subject(identity.external_subject)
        if user is None:
            raise DomainError(
                "UNKNOWN_EXTERNAL_USER",
                "Tài khoản định danh chưa được liên kết với PAHT.",
                "This external identity is not linked to a PAHT account.",
            )
        user_id, tenant_id = user.id, user.default_tenant_id
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
    return scope
