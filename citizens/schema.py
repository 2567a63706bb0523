"""GraphQL: signing up, claiming reports, the citizen's own profile and data."""

from __future__ import annotations

from typing import Any, Self, TypeAlias

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from accounts import models as account_models
from accounts.schema import AuthPayload
from accounts.sessions import Session
from citizens import deletion, invitations, personal_data, profile, signup
from citizens.vocabulary import ContactKind as ContactKindSet
from core.graphql import Info, UserError, labelled_enum, run_mutation
from core.relay import decode
from outbox.graphql_enums import Language
from permissions.actions import Action
from permissions.graphql import login_required, requires
from reports import models as report_models
from reports.models import ReporterKind as ReporterKindSet
from reports.schema.parts import ReporterKind
from reports.schema.types import Report
from reports.service import claim_reports


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


ContactKind: TypeAlias = ContactKindSet
labelled_enum(ContactKind, "ContactKind")


@strawberry.input(
    description="A hotline report and where to send its tracking code: email or phone, or "
    "neither for the contact taken down with the report."
)
class InviteToClaimInput:
    report_id: relay.GlobalID
    email: str | None = None
    phone: str | None = None


@strawberry.type
class InviteToClaimPayload:
    sent_by: ContactKind | None = strawberry.field(description="E-mail or SMS.")
    errors: list[UserError]


@strawberry.type
class CitizenMutation:
    @strawberry.mutation(
        extensions=requires(Action.REPORT_SUBMIT_ON_BEHALF),
        description="Send a hotline caller their report's tracking code (and the citizen app's "
        "claim link) by e-mail or SMS, to sign up and claim it. NOT_CLAIMABLE: no tracking code, "
        "or the report already has an account.",
    )
    async def invite_to_claim(self, info: Info, input: InviteToClaimInput) -> InviteToClaimPayload:
        async def work() -> ContactKindSet:
            return await invitations.invite_to_claim(
                info.context.scope,
                decode(input.report_id, "Report", "reportId"),
                input.email,
                input.phone,
                info.context.services.settings.citizen_app_url,
            )

        def payload(kind: ContactKindSet | None, errors: list[UserError]) -> Any:
            return InviteToClaimPayload(sent_by=kind, errors=errors)

        return await run_mutation(info, work, payload)

    @strawberry.mutation(
        extensions=requires(Action.REPORT_SUBMIT),
        description="Attach anonymous reports (or hotline entries) to the caller's account by "
        "their tracking codes, all or none: NOT_FOUND or ALREADY_CLAIMED on trackingCodes.N.",
    )
    async def claim_reports(self, info: Info, input: ClaimReportsInput) -> ClaimReportsPayload:
        async def work() -> list[report_models.Report]:
            return await claim_reports(info.context.scope, input.tracking_codes)

        def payload(rows: list[report_models.Report] | None, errors: list[UserError]) -> Any:
            return ClaimReportsPayload(
                reports=[Report.from_row(r) for r in rows or []], errors=errors
            )

        return await run_mutation(info, work, payload)

    @strawberry.mutation(
        extensions=login_required(), description="Change the caller's citizen profile."
    )
    async def update_my_profile(
        self, info: Info, input: UpdateMyProfileInput
    ) -> CitizenProfilePayload:
        patch = profile.ProfilePatch(
            full_name=input.full_name,
            kind=input.kind,
            organisation_name=input.organisation_name,
            tax_code=input.tax_code,
            notify_by_email=input.notify_by_email,
            notify_by_sms=input.notify_by_sms,
            language=input.language,
        )
        return await run_mutation(
            info, lambda: profile.update_profile(info.context.scope, patch), _profile_payload
        )

    @strawberry.mutation(
        extensions=login_required(),
        description="Send a one-time code to a new e-mail address or phone number (the same "
        "answer whether another account holds it).",
    )
    async def request_contact_change_code(
        self, info: Info, input: NewContactInput
    ) -> CodeSentPayload:
        async def work() -> int:
            return await profile.request_contact_change(
                info.context.scope, input.email, input.phone, info.context.client_address
            )

        def payload(seconds: int | None, errors: list[UserError]) -> Any:
            return CodeSentPayload(expires_in=seconds, errors=errors)

        return await run_mutation(info, work, payload)

    @strawberry.mutation(
        extensions=login_required(),
        description="Prove the code sent to the new contact; it replaces the old one, verified.",
    )
    async def confirm_contact_change(
        self, info: Info, input: ConfirmContactInput
    ) -> CitizenProfilePayload:
        return await run_mutation(
            info,
            lambda: profile.confirm_contact_change(
                info.context.scope, input.email, input.phone, input.code
            ),
            _profile_payload,
        )

    @strawberry.mutation(
        extensions=login_required(),
        description="Delete the caller's citizen account: reports stay, the contact details "
        "kept for them are wiped, every session ends.",
    )
    async def delete_my_account(
        self, info: Info, input: DeleteMyAccountInput
    ) -> DeleteMyAccountPayload:
        async def work() -> bool:
            await deletion.delete_my_account(
                info.context.scope, input.password, info.context.client_address
            )
            return True

        def payload(done: bool | None, errors: list[UserError]) -> Any:
            return DeleteMyAccountPayload(ok=bool(done), errors=errors)

        return await run_mutation(info, work, payload)

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


@strawberry.type(description="A self-registered citizen's own profile.")
class CitizenProfile:
    full_name: str
    email: str | None
    phone: str | None
    email_verified: bool
    phone_verified: bool
    kind: ReporterKind
    organisation_name: str | None
    tax_code: str | None
    notify_by_email: bool = strawberry.field(description="Told about their reports by e-mail.")
    notify_by_sms: bool = strawberry.field(description="Told about their reports by SMS.")
    language: Language

    @classmethod
    def of(cls, row: tuple[account_models.User, account_models.CitizenProfile]) -> Self:
        user, p = row
        return cls(
            full_name=user.full_name,
            email=user.email,
            phone=user.phone,
            email_verified=p.email_verified_at is not None,
            phone_verified=p.phone_verified_at is not None,
            kind=ReporterKindSet(p.kind),
            organisation_name=p.organisation_name,
            tax_code=p.tax_code,
            notify_by_email=p.notify_email,
            notify_by_sms=p.notify_sms,
            language=Language(p.language),
        )


@strawberry.type
class CitizenProfilePayload:
    profile: CitizenProfile | None
    errors: list[UserError]


def _profile_payload(
    row: tuple[account_models.User, account_models.CitizenProfile] | None,
    errors: list[UserError],
) -> Any:
    return CitizenProfilePayload(profile=CitizenProfile.of(row) if row else None, errors=errors)


@strawberry.input(description="Only the fields given change.")
class UpdateMyProfileInput:
    full_name: str | None = None
    kind: ReporterKind | None = None
    organisation_name: str | None = None
    tax_code: str | None = None
    notify_by_email: bool | None = strawberry.field(
        default=None, description="true needs a verified e-mail (CONTACT_NOT_VERIFIED)."
    )
    notify_by_sms: bool | None = strawberry.field(
        default=None, description="true needs a verified phone (CONTACT_NOT_VERIFIED)."
    )
    language: Language | None = None


@strawberry.input(description="Exactly one of email and phone: the new contact.")
class NewContactInput:
    email: str | None = None
    phone: str | None = None


@strawberry.input(description="The new contact and the code sent to it.")
class ConfirmContactInput:
    code: str
    email: str | None = None
    phone: str | None = None


@strawberry.input(description="Tracking codes shown when the reports were filed anonymously.")
class ClaimReportsInput:
    tracking_codes: list[str]


@strawberry.type
class ClaimReportsPayload:
    reports: list[Report]
    errors: list[UserError]


@strawberry.input
class DeleteMyAccountInput:
    password: str | None = strawberry.field(
        default=None, description="Required when the account has a password."
    )


@strawberry.type
class DeleteMyAccountPayload:
    ok: bool
    errors: list[UserError]


@strawberry.type
class CitizenQuery:
    @strawberry.field(
        extensions=login_required(),
        description="The caller's citizen profile (NOT_A_CITIZEN for staff accounts).",
    )
    async def my_profile(self, info: Info) -> CitizenProfile:
        return CitizenProfile.of(await profile.own_profile(info.context.scope))

    @strawberry.field(
        extensions=login_required(),
        description="Everything stored about the calling citizen, as one JSON document.",
    )
    async def my_data(self, info: Info) -> JSON:
        return JSON(await personal_data.my_data(info.context.scope))
