"""Client applications allowed to POST Open311 requests: registered and revoked by the tenant's
administrators (``tenant:manage``), each holding one api key that is shown once and kept only
as its SHA-256 (a random 256-bit key needs no slow hash; a lookup is one indexed read)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass

from core import clock
from core.errors import NotFound, Validator
from core.glossary import Term
from open311.models import Open311Client
from permissions.actions import Action
from permissions.scope import Scope

KEY_PREFIX = "o311_"


@dataclass(frozen=True)
class Registered:
    client: Open311Client
    api_key: str  # shown once; never stored


def hash_key(api_key: str) -> str:
    return hashlib.sha256(api_key.encode()).hexdigest()


def _new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


async def register_client(scope: Scope, name: str, contact: str = "") -> Registered:
    tenant_id = scope.require_tenant()
    scope.require(Action.TENANT_MANAGE)
    v = Validator()
    clean_name = v.text("name", name, max_len=200) or ""
    clean_contact = v.text("contact", contact, max_len=254, required=False) or ""
    v.check()
    key = _new_key()
    client = await Open311Client.create(
        tenant_id=tenant_id,
        name=clean_name,
        contact=clean_contact,
        key_prefix=key[: len(KEY_PREFIX) + 6],
        key_hash=hash_key(key),
        created_by=scope.user_id,
        created_at=clock.now(),
    )
    return Registered(client, key)


async def revoke_client(scope: Scope, client_id: uuid.UUID) -> Open311Client:
    """Revoking twice keeps the first revocation."""
    tenant_id = scope.require_tenant()
    scope.require(Action.TENANT_MANAGE)
    client = await Open311Client.get_or_none(tenant_id=tenant_id, id=client_id)
    if client is None:
        raise NotFound(Term.CLIENT_APP, "id")
    if client.revoked_at is None:
        client.revoked_at = clock.now()
        client.revoked_by = scope.user_id
        await client.save(update_fields=["revoked_at", "revoked_by"])
    return client


async def list_clients(scope: Scope) -> list[Open311Client]:
    tenant_id = scope.require_tenant()
    scope.require(Action.TENANT_MANAGE)
    return await Open311Client.filter(tenant_id=tenant_id).order_by("created_at", "id")


async def client_for_key(scope: Scope, api_key: str) -> Open311Client | None:
    """The active client holding ``api_key`` in the scope's tenant (RLS confines the read)."""
    if not api_key.startswith(KEY_PREFIX) or len(api_key) > 100:
        return None
    return await Open311Client.get_or_none(
        tenant_id=scope.require_tenant(), key_hash=hash_key(api_key), revoked_at=None
    )
