"""GraphQL: the caller, in the tenant the request acts in (an account and a locality: this
sits above both)."""

from __future__ import annotations

import strawberry

from accounts import models as account_models
from accounts.schema import User
from core.graphql import Info
from permissions.graphql import login_required
from tenants import models
from tenants.types import Tenant


@strawberry.type
class Me:
    user: User
    tenant: Tenant | None
    roles: list[str]


@strawberry.type
class MeQuery:
    @strawberry.field(extensions=login_required(), description="The caller.")
    async def me(self, info: Info) -> Me:
        scope = info.context.scope
        user = await account_models.User.get(id=scope.require_user())
        tenant = None
        if scope.tenant_id is not None:
            # The tenant the request acts in, even with no role left there.
            tenant = Tenant.from_row(await models.Tenant.get(id=scope.tenant_id))
        return Me(
            user=User.from_row(user, with_contact=True), tenant=tenant, roles=sorted(scope.roles)
        )
