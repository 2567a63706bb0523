"""Signing up (docs/citizens.md): a citizen asks for a one-time code for an e-mail address or a
phone number, then proves it with their name, password and reporter kind; the account is made
in the tenant the request names (its home), with the tenant's citizen role, and a session opens.

No enumeration: asking for a code answers the same whether the address has an account or not;
an address that has one is sent a reminder instead of a code, so no code can ever prove it.
Limits: per client address (``ASK_PER_CLIENT``), per e-mail/phone (``ASK_PER_CONTACT``), and per
code (citizens/codes.py ``GUESSES``)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from tortoise.expressions import Q

from accounts.grants import grant_role_unchecked
from accounts.models import CitizenProfile, User
from accounts.password_policy import password_problems
from accounts.service import NewUser, create_user
from accounts.sessions import Session, open_session
from accounts.tokens import TokenService
from citizens import codes
from citizens.contacts import (
    Contact,
    parse_contact,
    require_contact,
    send_already_registered,
    send_code,
)
from citizens.vocabulary import CodePurpose, ContactKind
from core import clock, throttle
from core.errors import Validator
from core.tenancy import tenant_by_id
from outbox.vocabulary import Language
from permissions.scope import Scope
from permissions.templates import CITIZEN
from reports.models import ReporterKind

# A person mistyping their address asks a few times; a script spraying addresses from one
# machine is stopped at ten an hour, and one mailbox or phone gets at most three codes a quarter.
ASK_PER_CLIENT = throttle.SlidingWindow("citizen-code-client", limit=10, window=timedelta(hours=1))
ASK_PER_CONTACT = throttle.SlidingWindow(
    "citizen-code-contact", limit=3, window=timedelta(minutes=15)
)
_TAX_CODE = re.compile(r"^\d{10}(-\d{3})?$")  # mã số thuế: 10 digits, a branch adds -003


async def account_with(tenant_id: uuid.UUID, contact: Contact) -> User | None:
    """The tenant's account known by this address (as username or as contact), if any."""
    column = "email" if contact.kind is ContactKind.EMAIL else "phone"
    return await User.filter(
        Q(username=contact.address) | Q(**{column: contact.address}),
        default_tenant_id=tenant_id,
    ).first()


async def request_sign_up_code(
    scope: Scope, email: str | None, phone: str | None, lang: Language, client_address: str
) -> int:
    """Send a code (or, to a known address, a reminder); the seconds a code stays valid."""
    tenant_id = scope.require_tenant()
    contact = require_contact(email, phone)
    now = clock.now()
    await throttle.take(ASK_PER_CLIENT, client_address, now, contact.field)
    await throttle.take(ASK_PER_CONTACT, f"{tenant_id}:{contact.address}", now, contact.field)
    if await account_with(tenant_id, contact) is not None:
        await send_already_registered(tenant_id, contact, lang)
    else:
        code = await codes.issue(tenant_id, CodePurpose.SIGN_UP, contact.kind, contact.address)
        await send_code(tenant_id, contact, code, lang)
    return int(codes.CODE_TTL.total_seconds())


@dataclass(frozen=True)
class SignUpInput:
    email: str | None
    phone: str | None
    code: str
    password: str
    full_name: str
    kind: ReporterKind = ReporterKind.PERSON
    organisation_name: str | None = None
    tax_code: str | None = None
    language: Language = Language.VI


@dataclass(frozen=True)
class Organisation:
    name: str | None
    tax_code: str | None


def validate_organisation(
    kind: ReporterKind, name: str | None, tax_code: str | None, v: Validator
) -> Organisation:
    """An organisation or a business names itself; its tax code is optional. A person has
    neither."""
    if kind is ReporterKind.PERSON:
        return Organisation(None, None)
    cleaned = v.text("organisationName", name, max_len=200)
    tax = (tax_code or "").strip() or None
    if tax is not None and not _TAX_CODE.match(tax):
        v.add(
            "INVALID_TAX_CODE",
            "taxCode",
            "Mã số thuế gồm 10 chữ số (chi nhánh: thêm 3 chữ số, ví dụ 0101234567-001).",
            "A tax code has 10 digits (a branch adds 3, e.g. 0101234567-001).",
        )
    return Organisation(cleaned, tax)


async def sign_up(scope: Scope, data: SignUpInput, tokens: TokenService) -> Session:
    tenant_id = scope.require_tenant()
    v = Validator()
    contact = parse_contact(data.email, data.phone, v)
    full_name = v.text("fullName", data.full_name, max_len=200) or ""
    if contact is not None:
        v.errors.extend(password_problems(data.password, contact.address, "password"))
    organisation = validate_organisation(data.kind, data.organisation_name, data.tax_code, v)
    v.check()
    assert contact is not None
    await codes.consume(tenant_id, CodePurpose.SIGN_UP, contact.address, data.code)
    if await account_with(tenant_id, contact) is not None:
        raise codes.invalid_code()  # made meanwhile (by staff): the code proves nothing now
    email = contact.address if contact.kind is ContactKind.EMAIL else None
    phone = contact.address if contact.kind is ContactKind.PHONE else None
    user = await create_user(
        NewUser(contact.address, data.password, full_name, email, phone), tenant_id
    )
    await grant_role_unchecked(tenant_id, user.id, CITIZEN)
    now = clock.now()
    await CitizenProfile.create(
        tenant_id=tenant_id,
        user_id=user.id,
        kind=data.kind.value,
        organisation_name=organisation.name,
        tax_code=organisation.tax_code,
        email_verified_at=now if email else None,
        phone_verified_at=now if phone else None,
        notify_email=email is not None,
        notify_sms=phone is not None,
        language=data.language.value,
    )
    tenant = await tenant_by_id(tenant_id)
    assert tenant is not None
    return await open_session(user, tenant, tokens)
