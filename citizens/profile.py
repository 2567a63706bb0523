"""A citizen's own profile: their name and organisation, notification preferences per
channel, and their contacts, each changed only once the new address proves itself with a
one-time code (sent to the new address; the same answer whether another account holds it)."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import CitizenProfile, User
from citizens import codes
from citizens.contacts import (
    Contact,
    contact_taken,
    require_contact,
    send_already_registered,
    send_code,
)
from citizens.signup import ASK_PER_CLIENT, ASK_PER_CONTACT, account_with, validate_organisation
from citizens.vocabulary import CodePurpose, ContactKind
from core import clock, throttle
from core.errors import DomainError, Validator
from outbox.vocabulary import Language
from permissions.scope import Scope
from reports.models import ReporterKind


def not_a_citizen() -> DomainError:
    return DomainError(
        "NOT_A_CITIZEN",
        "Chỉ tài khoản công dân tự đăng ký mới dùng được chức năng này.",
        "Only a self-registered citizen account can do this.",
    )


async def own_profile(scope: Scope) -> tuple[User, CitizenProfile]:
    user_id, tenant_id = scope.require_user(), scope.require_tenant()
    profile = await CitizenProfile.get_or_none(user_id=user_id, tenant_id=tenant_id)
    if profile is None:
        raise not_a_citizen()
    return await User.get(id=user_id), profile


@dataclass(frozen=True)
class ProfilePatch:
    full_name: str | None = None
    kind: ReporterKind | None = None
    organisation_name: str | None = None
    tax_code: str | None = None
    notify_by_email: bool | None = None
    notify_by_sms: bool | None = None
    language: Language | None = None


async def update_profile(scope: Scope, patch: ProfilePatch) -> tuple[User, CitizenProfile]:
    """A channel can be chosen only for a verified contact (``CONTACT_NOT_VERIFIED``)."""
    user, profile = await own_profile(scope)
    v = Validator()
    if patch.full_name is not None:
        user.full_name = v.text("fullName", patch.full_name, max_len=200) or user.full_name
    kind = patch.kind or ReporterKind(profile.kind)
    if patch.kind is not None or patch.organisation_name is not None or patch.tax_code is not None:
        organisation = validate_organisation(
            kind,
            patch.organisation_name if patch.organisation_name is not None
            else profile.organisation_name,
            patch.tax_code if patch.tax_code is not None else profile.tax_code,
            v,
        )  # fmt: skip
        profile.kind = kind.value
        profile.organisation_name, profile.tax_code = organisation.name, organisation.tax_code
    if patch.notify_by_email and not (user.email and profile.email_verified_at):
        v.add(*_unverified("notifyByEmail"))
    if patch.notify_by_sms and not (user.phone and profile.phone_verified_at):
        v.add(*_unverified("notifyBySms"))
    v.check()
    if patch.notify_by_email is not None:
        profile.notify_email = patch.notify_by_email
    if patch.notify_by_sms is not None:
        profile.notify_sms = patch.notify_by_sms
    if patch.language is not None:
        profile.language = patch.language.value
    await user.save()
    await profile.save()
    return user, profile


def _unverified(field: str) -> tuple[str, str, str, str]:
    return (
        "CONTACT_NOT_VERIFIED",
        field,
        "Cần xác minh địa chỉ này trước khi nhận thông báo qua đó.",
        "Verify this contact before choosing to be told through it.",
    )


async def request_contact_change(
    scope: Scope, email: str | None, phone: str | None, client_address: str
) -> int:
    user, profile = await own_profile(scope)
    tenant_id = scope.require_tenant()
    contact = require_contact(email, phone)
    now = clock.now()
    await throttle.take(ASK_PER_CLIENT, client_address, now, contact.field)
    await throttle.take(ASK_PER_CONTACT, f"{tenant_id}:{contact.address}", now, contact.field)
    lang = Language(profile.language)
    holder = await account_with(tenant_id, contact)
    if holder is not None and holder.id != user.id:
        await send_already_registered(tenant_id, contact, lang)
    else:
        code = await codes.issue(
            tenant_id, CodePurpose.CONTACT_CHANGE, contact.kind, contact.address, user.id
        )
        await send_code(tenant_id, contact, code, lang)
    return int(codes.CODE_TTL.total_seconds())


async def confirm_contact_change(
    scope: Scope, email: str | None, phone: str | None, code: str
) -> tuple[User, CitizenProfile]:
    """The new contact replaces the old one of its kind, verified; a username that was the old
    address follows it (citizens log in with their address)."""
    user, profile = await own_profile(scope)
    tenant_id = scope.require_tenant()
    contact: Contact = require_contact(email, phone)
    await codes.consume(tenant_id, CodePurpose.CONTACT_CHANGE, contact.address, code, user.id)
    holder = await account_with(tenant_id, contact)
    if holder is not None and holder.id != user.id:
        raise contact_taken(contact.field)
    now = clock.now()
    if contact.kind is ContactKind.EMAIL:
        old, user.email, profile.email_verified_at = user.email, contact.address, now
    else:
        old, user.phone, profile.phone_verified_at = user.phone, contact.address, now
    if old is not None and user.username == old:
        user.username = contact.address
    await user.save()
    await profile.save()
    return user, profile
