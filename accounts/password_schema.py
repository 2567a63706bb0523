"""GraphQL: changing one's own password and a tenant administrator's reset.

A one-time password (after a reset, or generated for a new administrator) opens no session:
``login`` answers PASSWORD_CHANGE_REQUIRED (field ``newPassword``) and the client sends the same
login again with ``newPassword``, which sets it and returns the session."""

from __future__ import annotations

import uuid
from typing import Any

import strawberry
from strawberry import relay

from accounts import password_change
from accounts.password_policy import RULES as PASSWORD_RULES
from accounts.schema import User
from core.graphql import Info, UserError, run_mutation
from core.relay import decode
from permissions.actions import Action
from permissions.graphql import login_required, requires


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str = strawberry.field(description=PASSWORD_RULES)


@strawberry.type
class ChangePasswordPayload:
    ok: bool
    ended_sessions: int | None = strawberry.field(
        description="How many other sessions (other devices, other tabs logged in separately) "
        "were signed out."
    )
    errors: list[UserError]


@strawberry.input
class ResetUserPasswordInput:
    user_id: relay.GlobalID


@strawberry.type
class ResetUserPasswordPayload:
    user: User | None
    temporary_password: str | None = strawberry.field(
        description="One-time password, shown only in this answer: give it to the user. Their "
        "next login answers PASSWORD_CHANGE_REQUIRED until they set a new one (login with "
        "newPassword)."
    )
    errors: list[UserError]


@strawberry.type
class PasswordMutation:
    @strawberry.mutation(
        extensions=login_required(),
        description="Change the caller's own password. The current password is checked with "
        "the same limits as login (TOO_MANY_ATTEMPTS with retryAfter; WRONG_PASSWORD on "
        "currentPassword). Every other session of the account is signed out at once; the one "
        "making this request stays. PASSWORD_UNCHANGED when the new password is the current "
        "one. " + PASSWORD_RULES,
    )
    async def change_password(
        self, info: Info, input: ChangePasswordInput
    ) -> ChangePasswordPayload:
        caller = info.context.caller

        async def work() -> list[uuid.UUID]:
            return await password_change.change_password(
                info.context.scope,
                caller.session_id if caller else None,
                input.current_password,
                input.new_password,
                info.context.client_address,
            )

        def payload(ended: list[uuid.UUID] | None, errors: list[UserError]) -> Any:
            return ChangePasswordPayload(
                ok=ended is not None,
                ended_sessions=len(ended) if ended is not None else None,
                errors=errors,
            )

        return await run_mutation(info, work, payload)

    @strawberry.mutation(
        extensions=requires(Action.TENANT_MANAGE),
        description="Reset the password of an account of this tenant: a one-time password is "
        "returned once, every session of the account ends, and its next login must set a new "
        "password. Accounts of other tenants and provincial administrators are NOT_FOUND; "
        "CANNOT_RESET_SELF for the caller's own account (use changePassword).",
    )
    async def reset_user_password(
        self, info: Info, input: ResetUserPasswordInput
    ) -> ResetUserPasswordPayload:
        async def work() -> password_change.Reset:
            user_id = decode(input.user_id, "User", "userId")
            return await password_change.reset_tenant_user_password(info.context.scope, user_id)

        def payload(reset: password_change.Reset | None, errors: list[UserError]) -> Any:
            return ResetUserPasswordPayload(
                user=User.from_row(reset.user, with_contact=True) if reset else None,
                temporary_password=reset.password if reset else None,
                errors=errors,
            )

        return await run_mutation(info, work, payload)
