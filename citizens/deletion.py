"""A citizen deletes their account (docs/citizens.md): the password proves it is them; their
reports stay (the history and the statistics folded from it are untouched) with the contact
details kept for them wiped, the messages sent to them lose address and text, their pending
codes go, and the account becomes a tombstone (accounts/erasure.py) whose sessions end."""

from __future__ import annotations

from accounts.credentials import own_password_hash
from accounts.erasure import erase_own_account
from accounts.password_change import verify_own_password
from citizens.models import VerificationCode
from citizens.profile import own_profile
from outbox.enqueue import forget_recipient
from permissions.scope import Scope
from reports.service import forget_reporter


async def delete_my_account(scope: Scope, password: str | None, client_address: str) -> None:
    user, _ = await own_profile(scope)
    tenant_id = scope.require_tenant()
    if await own_password_hash() is not None:  # an external-login account may have none
        await verify_own_password(
            scope, password or "", client_address, "password", "account deletion"
        )
    await forget_reporter(scope)
    await forget_recipient(tenant_id, [a for a in (user.email, user.phone) if a])
    await VerificationCode.filter(tenant_id=tenant_id, user_id=user.id).delete()
    await erase_own_account(scope)
