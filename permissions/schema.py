"""GraphQL: what the caller may do, the tenant's roles, grants and revokes."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import relay

from core.graphql import Info, UserError, run_mutation
from permissions import queries, service
from permissions.actions import Action
from permissions.graphql import requires
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
            known = action in Action._value2member_map_
            description = Action(action).label(lang) if known else action
            result.append(
                Permission(
                    action=action,
                    description=description,
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
        return [Permission(action=a.value, description=a.label(lang), reach=[]) for a in Action]

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


@strawberry.type
class PermissionMutation:
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
