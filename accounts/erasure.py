"""Deleting one's own account (a citizen's, issue 18): what identifies the person goes, the row
stays as a tombstone, because reports, their history and the statistics folded from it refer to
account ids (``ON DELETE RESTRICT``). The tombstone keeps no name, contact, external identity or
usable password; its roles, profile and sessions end at once, in every process."""

from __future__ import annotations

import asyncio
import secrets

from accounts.credentials import set_password_hash
from accounts.models import CitizenProfile, Membership, User
from accounts.passwords import hash_password
from accounts.sessions import revoke_user_sessions
from permissions.scope import Scope
from permissions.service import remove_grant_rule


async def erase_own_account(scope: Scope) -> None:
    user_id = scope.require_user()
    tenant_id = scope.require_tenant()
    for membership in await Membership.filter(user_id=user_id, tenant_id=tenant_id):
        await remove_grant_rule(
            tenant_id, user_id, membership.role, membership.agency_id, membership.field_id
        )
        await membership.delete()
    await CitizenProfile.filter(user_id=user_id, tenant_id=tenant_id).delete()
    unusable = await asyncio.to_thread(hash_password, secrets.token_urlsafe(32))
    await set_password_hash(user_id, unusable, False)
    await User.filter(id=user_id).update(
        username=f"deleted-{user_id.hex}",
        full_name="",
        email=None,
        phone=None,
        external_subject=None,
        is_active=False,
    )
    await revoke_user_sessions(user_id, "deactivated")
