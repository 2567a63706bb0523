"""GraphQL: login, token refresh, logout, the current user, and user administration."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from typing import Any, Self

import strawberry
from strawberry import relay

from accounts import models, service, sessions
from accounts.password_policy import RULES as PASSWORD_RULES
from core.errors import DomainError
from core.graphql import Info, UserError, run_mutation, user_errors
from core.relay import decode, in_order
from permissions.actions import Action
from permissions.graphql import requires


@strawberry.type(description="A person with an account.")
class User(relay.Node):
    id: relay.NodeID[str]
    username: str
    full_name: str
    is_active: bool
    created_at: datetime.datetime
    # Contact details are personal data: only tenant administrators see them.
    email: str | None = None
    phone: str | None = None

    @classmethod
    def from_row(cls, row: models.User, *, with_contact: bool) -> Self:
        return cls(
            id=str(row.id),
            username=row.username,
            full_name=row.full_name,
            is_active=row.is_active,
            created_at=row.created_at,
            email=row.email if with_contact else None,
            phone=row.phone if with_contact else None,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # one body for strawberry's overloads
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        ids = list(node_ids)
        scope = info.context.scope
        admin = scope.allows(Action.TENANT_MANAGE)
        rows = []
        for node_id in ids:
            # Staff directories are for tenant admins; anyone else sees only themself.
            if not admin and node_id != str(scope.user_id):
                continue
            try:
                rows.append(await service.tenant_user(scope, uuid.UUID(node_id)))
            except (DomainError, ValueError):
                continue
        return [
            cls.from_row(r, with_contact=admin) if r else None
            for r in in_order(ids, rows, required)
        ]


@strawberry.type(description="Tokens of a new session. Keep the refresh token secret.")
class AuthPayload:
    access_token: str | None
    refresh_token: str | None
    expires_in: int | None = strawberry.field(description="Access token lifetime in seconds.")
    user: User | None
    errors: list[UserError]

    @classmethod
    def from_session(cls, session: sessions.Session | None, errors: list[UserError]) -> Self:
        if session is None:
            return cls(
                access_token=None, refresh_token=None, expires_in=None, user=None, errors=errors
            )
        return cls(
            access_token=session.access_token,
            refresh_token=session.refresh_token,
            expires_in=session.expires_in,
            user=User.from_row(session.user, with_contact=True),
            errors=errors,
        )


@strawberry.input
class LoginInput:
    username: str
    password: str
    tenant_code: str | None = strawberry.field(
        default=None, description="The locality to log in to; default: the user's home tenant."
    )
    new_password: str | None = strawberry.field(
        default=None,
        description="Replaces the password as the login succeeds (the other sessions of the "
        "account end). Required when login answered PASSWORD_CHANGE_REQUIRED: the password was "
        "one-time (a reset, or generated for a new administrator); send the same login again "
        "with the new password. Refusals carry the field newPassword (see changePassword).",
    )


@strawberry.input
class RefreshTokenInput:
    refresh_token: str


@strawberry.type
class LogoutPayload:
    ok: bool
    errors: list[UserError]


@strawberry.input
class CreateUserInput:
    username: str
    full_name: str
    password: str = strawberry.field(description=PASSWORD_RULES)
    email: str | None = None
    phone: str | None = None


@strawberry.input
class UpdateUserInput:
    id: relay.GlobalID
    full_name: str | None = None
    email: str | None = None
    phone: str | None = None
    active: bool | None = strawberry.field(
        default=None, description="false deactivates the account everywhere, at once."
    )


@strawberry.type
class UserPayload:
    user: User | None
    errors: list[UserError]


@strawberry.type
class AccountQuery:
    @strawberry.field(
        extensions=requires(Action.TENANT_MANAGE),
        description="Users holding a role in the current tenant.",
    )
    async def users(self, info: Info, search: str | None = None, first: int = 50) -> list[User]:
        rows = await service.tenant_users(info.context.scope, search, min(max(first, 1), 200))
        return [User.from_row(r, with_contact=True) for r in rows]


@strawberry.type
class AccountMutation:
    @strawberry.mutation(
        description="Exchange a username and password for tokens. PASSWORD_CHANGE_REQUIRED "
        "(no tokens): the password is one-time; log in again with newPassword."
    )
    async def login(self, info: Info, input: LoginInput) -> AuthPayload:
        tokens = info.context.services.tokens

        async def work() -> sessions.Session:
            return await sessions.login(
                input.username,
                input.password,
                input.tenant_code,
                tokens,
                info.context.client_address,
                input.new_password,
            )

        return await run_mutation(info, work, AuthPayload.from_session)

    @strawberry.mutation(
        description="Rotate a refresh token. Reusing an old one revokes the whole session family."
    )
    async def refresh_token(self, info: Info, input: RefreshTokenInput) -> AuthPayload:
        outcome = await sessions.refresh(input.refresh_token, info.context.services.tokens)
        errors = user_errors(outcome.error, info.context.lang) if outcome.error else []
        return AuthPayload.from_session(outcome.session, errors)

    @strawberry.mutation(description="Revoke the session family of a refresh token.")
    async def logout(self, info: Info, input: RefreshTokenInput) -> LogoutPayload:
        await sessions.logout(input.refresh_token)
        return LogoutPayload(ok=True, errors=[])

    @strawberry.mutation(
        extensions=requires(Action.TENANT_MANAGE),
        description="Create a staff account in the current tenant (grant it a "
        "role next with grantRole).",
    )
    async def create_user(self, info: Info, input: CreateUserInput) -> UserPayload:
        scope = info.context.scope

        async def work() -> models.User:
            return await service.create_tenant_user(
                scope,
                service.NewUser(
                    input.username, input.password, input.full_name, input.email, input.phone
                ),
            )

        def payload(row: models.User | None, errors: list[UserError]) -> Any:
            return UserPayload(
                user=User.from_row(row, with_contact=True) if row else None, errors=errors
            )

        return await run_mutation(info, work, payload)

    @strawberry.mutation(
        extensions=requires(Action.TENANT_MANAGE),
        description="Edit, deactivate or reactivate an account of this tenant.",
    )
    async def update_user(self, info: Info, input: UpdateUserInput) -> UserPayload:
        async def work() -> models.User:
            patch = service.UserPatch(input.full_name, input.email, input.phone, input.active)
            return await service.update_user(
                info.context.scope, decode(input.id, "User", "id"), patch
            )

        def payload(row: models.User | None, errors: list[UserError]) -> Any:
            return UserPayload(
                user=User.from_row(row, with_contact=True) if row else None, errors=errors
            )

        return await run_mutation(info, work, payload)
