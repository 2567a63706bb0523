"""Helpers shared by test modules (instead of importing them from one another)."""

from __future__ import annotations

from accounts.credentials import login_candidates
from accounts.models import User
from permissions.scope import Scope
from permissions.session import scoped_transaction, tenant_transaction


async def find_user(username: str) -> User | None:
    """The account of that name in any tenant, read as its own tenant's requests see it.

    ``app_user`` is row-level secured, so a bare ``User.get`` as the application role finds
    nothing; the login lookup (which sees every tenant) says which tenant to read it in. Also
    an honest "was nothing created?" check: it is not limited by the test's own tenant."""
    candidates = await login_candidates(username.strip().lower(), None)
    if not candidates:
        return None
    home = candidates[0].home_tenant_id
    if home is None:
        province = Scope(user_id=candidates[0].user_id, tenant_id=None, provincial=True)
        async with scoped_transaction(province):
            return await User.get(id=candidates[0].user_id)
    async with tenant_transaction(home):
        return await User.get(id=candidates[0].user_id)


async def user_named(username: str) -> User:
    user = await find_user(username)
    assert user is not None, f"no account named {username}"
    return user
