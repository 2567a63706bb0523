"""GraphQL: logging in with the deployment's identity provider (citizens/external.py)."""

from __future__ import annotations

import datetime

import strawberry

from accounts.schema import AuthPayload
from accounts.sessions import Session
from citizens import external, login_nonces
from core.graphql import Info, UserError, run_mutation


@strawberry.input(description="The ID token the deployment's identity provider issued.")
class ExternalLoginInput:
    id_token: str


@strawberry.type
class ExternalLoginStart:
    nonce: str = strawberry.field(
        description="Put it in the authorisation request to the provider (`nonce=`); the ID "
        "token must carry it back to externalLogin, once."
    )
    expires_at: datetime.datetime


@strawberry.type
class StartExternalLoginPayload:
    login: ExternalLoginStart | None
    errors: list[UserError]


@strawberry.type
class ExternalLoginMutation:
    @strawberry.mutation(
        description="Start a login with the deployment's OpenID Connect provider in the tenant "
        "named by X-Paht-Tenant: the nonce for the authorisation request (valid 10 minutes, "
        "once). EXTERNAL_LOGIN_UNAVAILABLE without a provider; TOO_MANY_ATTEMPTS carries "
        "retryAfter."
    )
    async def start_external_login(self, info: Info) -> StartExternalLoginPayload:
        async def work() -> ExternalLoginStart:
            nonce, expires_at = await login_nonces.start(
                info.context.scope.require_tenant(),
                info.context.client_address,
                info.context.services.tokens,
            )
            return ExternalLoginStart(nonce=nonce, expires_at=expires_at)

        def payload(login: ExternalLoginStart | None, errors: list[UserError]) -> object:
            return StartExternalLoginPayload(login=login, errors=errors)

        return await run_mutation(info, work, payload)

    @strawberry.mutation(
        description="Log in with the deployment's OpenID Connect provider (PAHT_OIDC_*): the "
        "first login creates a citizen account in the tenant named by X-Paht-Tenant. "
        "INVALID_TOKEN for a token the provider did not sign; LOGIN_NOT_STARTED unless it "
        "carries the nonce of a startExternalLogin of this tenant, unused and unexpired."
    )
    async def external_login(self, info: Info, input: ExternalLoginInput) -> AuthPayload:
        async def work() -> Session:
            return await external.external_login(
                info.context.scope, input.id_token, info.context.services.tokens
            )

        return await run_mutation(info, work, AuthPayload.from_session)
