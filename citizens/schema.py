"""GraphQL: signing up, claiming reports, the citizen's own profile and data."""

from __future__ import annotations

from typing import Any

import strawberry

from accounts.schema import AuthPayload
from accounts.sessions import Session
from citizens import signup
from core.graphql import Info, UserError, run_mutation
from outbox.graphql_enums import Language
from reports.models import ReporterKind as ReporterKindSet
from reports.schema.parts import ReporterKind


@strawberry.input(
    description="Exactly one of email and phone. Send the tenant as X-Paht-Tenant: the account "
    "is made in that tenant."
)
class RequestSignUpCodeInput:
    email: str | None = None
    phone: str | None = strawberry.field(
        default=None, description="A Vietnamese number (0912345678 or +84912345678); by SMS."
    )
    language: Language = strawberry.field(
        default=Language.VI, description="Of the message and of later messages."
    )


@strawberry.type(
    description="The same answer whether or not the address has an account: a code was sent, "
    "or (to an address that has one) a reminder to log in."
)
class CodeSentPayload:
    expires_in: int | None = strawberry.field(description="Seconds the code stays valid.")
    errors: list[UserError]


@strawberry.input(description="The e-mail or phone the code was sent to, the code, the account.")
class SignUpInput:
    code: str
    password: str
    full_name: str
    email: str | None = None
    phone: str | None = None
    kind: ReporterKind = strawberry.field(
        default=ReporterKindSet.PERSON,
        description="Who reports: an organisation or a business also gives organisationName.",
    )
    organisation_name: str | None = None
    tax_code: str | None = strawberry.field(
        default=None, description="Optional mã số thuế (10 digits, or 10-3 for a branch)."
    )
    language: Language = Language.VI


@strawberry.type
class CitizenMutation:
    @strawberry.mutation(
        description="Send a one-time code to an e-mail address or phone number, to sign up. "
        "TOO_MANY_ATTEMPTS carries retryAfter."
    )
    async def request_sign_up_code(
        self, info: Info, input: RequestSignUpCodeInput
    ) -> CodeSentPayload:
        async def work() -> int:
            return await signup.request_sign_up_code(
                info.context.scope,
                input.email,
                input.phone,
                input.language,
                info.context.client_address,
            )

        def payload(seconds: int | None, errors: list[UserError]) -> Any:
            return CodeSentPayload(expires_in=seconds, errors=errors)

        return await run_mutation(info, work, payload)

    @strawberry.mutation(
        description="Prove the code and create a citizen account (its home is the tenant named "
        "by X-Paht-Tenant); answers a session. INVALID_CODE: wrong, expired, used or never sent."
    )
    async def sign_up(self, info: Info, input: SignUpInput) -> AuthPayload:
        async def work() -> Session:
            data = signup.SignUpInput(
                email=input.email,
                phone=input.phone,
                code=input.code,
                password=input.password,
                full_name=input.full_name,
                kind=input.kind,
                organisation_name=input.organisation_name,
                tax_code=input.tax_code,
                language=input.language,
            )
            return await signup.sign_up(info.context.scope, data, info.context.services.tokens)

        return await run_mutation(info, work, AuthPayload.from_session)
