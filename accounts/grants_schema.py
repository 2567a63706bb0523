"""GraphQL: grants of the tenant's roles to its accounts (memberships)."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import relay

from accounts import grants
from accounts.models import Membership as MembershipRow
from core.graphql import Info, UserError, run_mutation
from core.relay import decode, decode_optional
from permissions.actions import Action
from permissions.graphql import requires


@strawberry.type(description="A role granted to a user in the tenant, maybe narrowed.")
class Membership:
    id: relay.GlobalID
    user_id: relay.GlobalID
    role: str
    agency_id: relay.GlobalID | None
    field_id: relay.GlobalID | None

    @classmethod
    def from_row(cls, m: MembershipRow) -> Membership:
        return cls(
            id=relay.GlobalID("Membership", str(m.id)),
            user_id=relay.GlobalID("User", str(m.user_id)),
            role=m.role,
            agency_id=relay.GlobalID("Agency", str(m.agency_id)) if m.agency_id else None,
            field_id=relay.GlobalID("Field", str(m.field_id)) if m.field_id else None,
        )


@strawberry.input
class GrantRoleInput:
    user_id: relay.GlobalID
    role: str
    agency_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Narrow the grant to reports of this agency."
    )
    field_id: relay.GlobalID | None = strawberry.field(
        default=None, description="Narrow the grant to reports of this field."
    )


@strawberry.type
class MembershipPayload:
    membership: Membership | None
    errors: list[UserError]


@strawberry.input
class RevokeRoleInput:
    membership_id: relay.GlobalID


@strawberry.type
class RevokePayload:
    ok: bool
    errors: list[UserError]


@strawberry.type
class GrantQuery:
    @strawberry.field(
        extensions=requires(Action.TENANT_MANAGE), description="Grants in the current tenant."
    )
    async def memberships(
        self, info: Info, user_id: relay.GlobalID | None = None
    ) -> list[Membership]:
        user = decode(user_id, "User", "userId") if user_id is not None else None
        rows = await grants.memberships(info.context.scope, user)
        return [Membership.from_row(m) for m in rows]


@strawberry.type
class GrantMutation:
    @strawberry.mutation(
        extensions=requires(Action.TENANT_MANAGE),
        description="Grant a role, optionally narrowed to an agency and field.",
    )
    async def grant_role(self, info: Info, input: GrantRoleInput) -> MembershipPayload:
        async def work() -> MembershipRow:
            return await grants.grant_role(
                info.context.scope,
                grants.GrantInput(
                    user_id=decode(input.user_id, "User", "userId"),
                    role=input.role,
                    agency_id=decode_optional(input.agency_id, "Agency", "agencyId"),
                    field_id=decode_optional(input.field_id, "Field", "fieldId"),
                ),
            )

        def payload(m: MembershipRow | None, errors: list[UserError]) -> Any:
            return MembershipPayload(
                membership=Membership.from_row(m) if m else None, errors=errors
            )

        return await run_mutation(info, work, payload)

    @strawberry.mutation(
        extensions=requires(Action.TENANT_MANAGE),
        description="Revoke a grant; takes effect in every API process at once.",
    )
    async def revoke_role(self, info: Info, input: RevokeRoleInput) -> RevokePayload:
        async def work() -> bool:
            membership_id = decode(input.membership_id, "Membership", "membershipId")
            await grants.revoke_membership(info.context.scope, membership_id)
            return True

        return await run_mutation(
            info, work, lambda ok, errors: RevokePayload(ok=bool(ok), errors=errors)
        )
