"""GraphQL: what the caller may do, the tenant's roles, grants and revokes."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import relay

from accounts.models import Membership as MembershipRow
from core.graphql import Info, UserError, requires, run_mutation
from core.relay import decode, decode_optional
from permissions import queries, service
from permissions.actions import ACTION_LABELS, Action
from permissions.models import Role as RoleRow


@strawberry.type(description="Where a permission applies; null means any agency / any field.")
class PermissionReach:
    agency_id: relay.GlobalID | None
    field_id: relay.GlobalID | None


@strawberry.type(description="One action the caller may take, and where.")
class Permission:
    action: str
    description: str
    reach: list[PermissionReach]


@strawberry.type
class Role:
    code: str
    name_vi: str
    name_en: str
    is_template: bool
    actions: list[str]


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


@strawberry.input
class CreateRoleInput:
    code: str
    name_vi: str
    name_en: str
    actions: list[str] = strawberry.field(description="Actions from `permissionActions`.")


@strawberry.type
class RolePayload:
    role: Role | None
    errors: list[UserError]


@strawberry.type
class PermissionQuery:
    @strawberry.field(description="What the caller may do: drive the frontend's menus with it.")
    def my_permissions(self, info: Info) -> list[Permission]:
        scope = info.context.scope
        lang = info.context.lang
        result = []
        for action, reaches in sorted(scope.reach.items()):
            label = ACTION_LABELS.get(Action(action), (action, action))
            result.append(
                Permission(
                    action=action,
                    description=label[1] if lang == "en" else label[0],
                    reach=[
                        PermissionReach(
                            agency_id=relay.GlobalID("Agency", str(r.agency_id))
                            if r.agency_id
                            else None,
                            field_id=relay.GlobalID("Field", str(r.field_id))
                            if r.field_id
                            else None,
                        )
                        for r in sorted(reaches, key=lambda r: (str(r.agency_id), str(r.field_id)))
                    ],
                )
            )
        return result

    @strawberry.field(description="Every action a role can be given.")
    def permission_actions(self, info: Info) -> list[Permission]:
        lang = info.context.lang
        return [
            Permission(action=a.value, description=(en if lang == "en" else vi), reach=[])
            for a, (vi, en) in ACTION_LABELS.items()
        ]

    @strawberry.field(
        extensions=requires(Action.TENANT_MANAGE),
        description="Roles of the current tenant with their actions.",
    )
    async def roles(self, info: Info) -> list[Role]:
        return [
            Role(
                code=r.code,
                name_vi=r.name_vi,
                name_en=r.name_en,
                is_template=r.is_template,
                actions=actions,
            )
            for r, actions in await queries.tenant_roles(info.context.scope)
        ]

    @strawberry.field(
        extensions=requires(Action.TENANT_MANAGE), description="Grants in the current tenant."
    )
    async def memberships(
        self, info: Info, user_id: relay.GlobalID | None = None
    ) -> list[Membership]:
        user = decode(user_id, "User", "userId") if user_id is not None else None
        rows = await queries.memberships(info.context.scope, user)
        return [Membership.from_row(m) for m in rows]


@strawberry.type
class PermissionMutation:
    @strawberry.mutation(
        extensions=requires(Action.TENANT_MANAGE),
        description="Grant a role, optionally narrowed to an agency and field.",
    )
    async def grant_role(self, info: Info, input: GrantRoleInput) -> MembershipPayload:
        async def work() -> MembershipRow:
            return await service.grant_role(
                info.context.scope,
                service.GrantInput(
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
            await service.revoke_membership(info.context.scope, membership_id)
            return True

        return await run_mutation(
            info, work, lambda ok, errors: RevokePayload(ok=bool(ok), errors=errors)
        )

    @strawberry.mutation(
        extensions=requires(Action.TENANT_MANAGE),
        description="Create a tenant role from the list of actions.",
    )
    async def create_role(self, info: Info, input: CreateRoleInput) -> RolePayload:
        async def work() -> RoleRow:
            return await service.create_role(
                info.context.scope,
                service.RoleInput(input.code, input.name_vi, input.name_en, list(input.actions)),
            )

        def payload(r: RoleRow | None, errors: list[UserError]) -> Any:
            role = (
                Role(
                    code=r.code,
                    name_vi=r.name_vi,
                    name_en=r.name_en,
                    is_template=False,
                    actions=sorted(set(input.actions)),
                )
                if r
                else None
            )
            return RolePayload(role=role, errors=errors)

        return await run_mutation(info, work, payload)
