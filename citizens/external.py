"""Citizens logging in through the deployment's OpenID Connect provider (``PAHT_OIDC_*``: the
national VNeID, or a Zalo login gateway). The citizen app starts the login here
(``startExternalLogin``: a nonce, citizens/login_nonces.py), runs the authorisation-code flow
with the provider and sends its ID token; it is verified against the provider's published keys
(accounts/tokens.py), must carry that nonce (used up), and the first login creates the account.

Claims mapped, nothing else stored: ``sub`` (with the issuer, as the link), ``name``, and
``email`` / ``phone_number`` only when the provider says they are verified (and no other
account of the tenant holds them). Birth dates, identity-card numbers and addresses the
provider may send are not kept.

Concurrent first logins of one identity (two tabs, a retried callback) make one account: the
subject is locked for the transaction (``pg_advisory_xact_lock``), so the second waits for the
first to commit and then finds its account. The unique ``external_subject`` column backs it.

The account's home is the tenant of its first login; logging in with the same identity in
another tenant of the province makes the person a citizen there too (a role and a profile in
that tenant), never anything more."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from tortoise import connections

from accounts.credentials import user_by_external_subject
from accounts.grants import grant_role_unchecked
from accounts.models import CitizenProfile, Membership, User
from accounts.service import NewUser, create_user
from accounts.sessions import Session, open_session
from accounts.tokens import TokenService, external_subject
from citizens import login_nonces
from citizens.contacts import Contact, normalise_phone
from citizens.signup import account_with
from citizens.vocabulary import ContactKind
from core import clock
from core.errors import DomainError
from core.tenancy import tenant_by_id
from permissions.scope import Scope
from permissions.session import act_as_user
from permissions.templates import CITIZEN

_LOCK_SPACE = 7_305_022  # beside the jobs' and migrations' advisory locks


def _not_a_citizen_here() -> DomainError:
    return DomainError(
        "NO_MEMBERSHIP",
        "Tài khoản không thuộc đơn vị triển khai này.",
        "This account has no role in that tenant.",
    )


async def _verified(
    tenant_id: uuid.UUID, claims: dict[str, Any], key: str, flag: str, kind: ContactKind
) -> str | None:
    raw = claims.get(key)
    if not isinstance(raw, str) or claims.get(flag) is not True:
        return None
    address = raw.strip().lower() if kind is ContactKind.EMAIL else normalise_phone(raw)
    if not address or len(address) > 254:
        return None
    taken = await account_with(tenant_id, Contact(kind, address))
    return None if taken is not None else address


async def external_login(scope: Scope, id_token: str, tokens: TokenService) -> Session:
    tenant_id = scope.require_tenant()
    claims = await tokens.external_claims(id_token)
    await login_nonces.use(tenant_id, claims.get("nonce"))
    subject = external_subject(claims)
    await connections.get("default").execute_query(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))", [_LOCK_SPACE, subject]
    )
    tenant = await tenant_by_id(tenant_id)
    assert tenant is not None
    linked = await user_by_external_subject(subject)
    if linked is None:
        user = await _first_login(tenant_id, subject, claims)
    else:
        user_id, _home = linked
        await act_as_user(user_id)
        if not await Membership.exists(user_id=user_id, tenant_id=tenant_id, active=True):
            await grant_role_unchecked(tenant_id, user_id, CITIZEN)
            await CitizenProfile.create(
                tenant_id=tenant_id, user_id=user_id, external_verified_at=clock.now()
            )
        found = await User.get_or_none(id=user_id)
        if found is None:
            raise _not_a_citizen_here()
        user = found
    return await open_session(user, tenant, tokens)


async def _first_login(tenant_id: uuid.UUID, subject: str, claims: dict[str, Any]) -> User:
    name = claims.get("name")
    full_name = name.strip()[:200] if isinstance(name, str) else ""
    email = await _verified(tenant_id, claims, "email", "email_verified", ContactKind.EMAIL)
    phone = await _verified(
        tenant_id, claims, "phone_number", "phone_number_verified", ContactKind.PHONE
    )
    username = "ext-" + hashlib.sha256(subject.encode()).hexdigest()[:24]
    user = await create_user(NewUser(username, None, full_name, email, phone), tenant_id)
    user.external_subject = subject
    await user.save(update_fields=["external_subject"])
    await grant_role_unchecked(tenant_id, user.id, CITIZEN)
    now = clock.now()
    await CitizenProfile.create(
        tenant_id=tenant_id,
        user_id=user.id,
        email_verified_at=now if email else None,
        phone_verified_at=now if phone else None,
        external_verified_at=now,
        notify_email=email is not None,
        notify_sms=phone is not None,
    )
    return user
