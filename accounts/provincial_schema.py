"""GraphQL: provincial administrators, managed by provincial administrators."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry import relay

from accounts import models, provincial
from accounts.schema import User, UserPayload
from accounts.service import NewUser
from core.graphql import Info, UserError, run_mutation
from core.relay import decode
from permissions.actions import Action
from permissions.graphql import requires


@strawberry.input
class CreateProvincialAdminInput:
    username: str = strawberry.field(description="Unique among provincial accounts.")
    full_name: str
    email: str | None = None
    phone: str | None = None


@strawberry.type
class ProvincialAdminPayload:
    user: User | None
    temporary_password: str | None = strawberry.field(
        description="One-time password, shown only in this answer: give it to the new "
        "administrator. Their first login answers PASSWORD_CHANGE_REQUIRED until they set a new "
        "one (login with newPassword)."
    )
    errors: list[UserError]


@strawberry.input
class DeactivateProvincialAdminInput:
    id: relay.GlobalID


@strawberry.type
class ProvincialAdminQuery:
    @strawberry.field(
        extensions=requires(Action.PROVINCE_MANAGE_ADMINS),
        description="Provincial administrators (accounts of no tenant holding the provincial "
        "role), by username.",
    )
    async def provincial_admins(self, info: Info, include_inactive: bool = False) -> list[User]:
        rows = await provincial.provincial_admins(info.context.scope, include_inactive)
        return [User.from_row(r, with_contact=True) for r in rows]


@strawberry.type
class ProvincialAdminMutation:
    @strawberry.mutation(
        extensions=requires(Action.PROVINCE_MANAGE_ADMINS),
        description="Create a provincial administrator with a one-time password (returned "
        "once). DUPLICATE_USERNAME when a provincial account has that username.",
    )
    async def create_provincial_admin(
        self, info: Info, input: CreateProvincialAdminInput
    ) -> ProvincialAdminPayload:
        async def work() -> provincial.Created:
            data = NewUser(input.username, None, input.full_name, input.email, input.phone)
            return await provincial.create_provincial_admin(info.context.scope, data)

        def payload(created: provincial.Created | None, errors: list[UserError]) -> Any:
            return ProvincialAdminPayload(
                user=User.from_row(created.user, with_contact=True) if created else None,
                temporary_password=created.generated_password if created else None,
                errors=errors,
            )

        return await run_mutation(info, work, payload)

    @strawberry.mutation(
        extensions=requires(Action.PROVINCE_MANAGE_ADMINS),
        description="Deactivate a provincial administrator: every session ends at once. "
        "CANNOT_DEACTIVATE_SELF for the caller's own account; NOT_FOUND for anyone who is not a "
        "provincial administrator.",
    )
    async def deactivate_provincial_admin(
        self, info: Info, input: DeactivateProvincialAdminInput
    ) -> UserPayload:
        async def work() -> models.User:
            user_id = decode(input.id, "User", "id")
            return await provincial.deactivate_provincial_admin(info.context.scope, user_id)

        def payload(row: models.User | None, errors: list[UserError]) -> Any:
            return UserPayload(
                user=User.from_row(row, with_contact=True) if row else None, errors=errors
            )

        return await run_mutation(info, work, payload)
