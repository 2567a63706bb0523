"""A citizen's contact (an e-mail address or a Vietnamese phone number), normalised, and the
one-time-code messages sent to it through the outbox, in the citizen's language."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from citizens.codes import CODE_TTL
from citizens.vocabulary import ContactKind
from core.errors import DomainError, Validator
from outbox.enqueue import send_email, send_text
from outbox.vocabulary import Language

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_NOISE = re.compile(r"[\s.\-()]")
_PHONE = re.compile(r"^0[1-9]\d{8}$")  # ten digits, national form


@dataclass(frozen=True)
class Contact:
    kind: ContactKind
    address: str  # e-mail lower-cased; phone in the national form 0xxxxxxxxx

    @property
    def field(self) -> str:
        return "email" if self.kind is ContactKind.EMAIL else "phone"


def normalise_phone(raw: str) -> str | None:
    phone = _PHONE_NOISE.sub("", raw.strip())
    if phone.startswith("+84"):
        phone = "0" + phone[3:]
    elif phone.startswith("84") and len(phone) == 11:
        phone = "0" + phone[2:]
    return phone if _PHONE.match(phone) else None


def parse_contact(email: str | None, phone: str | None, v: Validator) -> Contact | None:
    """Exactly one of ``email`` and ``phone``; problems are added to ``v``."""
    if (email is None) == (phone is None):
        v.add(
            "CONTACT_REQUIRED",
            "email",
            "Cần đúng một trong hai: thư điện tử hoặc số điện thoại.",
            "Give exactly one of an e-mail address and a phone number.",
        )
        return None
    if email is not None:
        address = email.strip().lower()
        if len(address) > 254 or not _EMAIL.match(address):
            v.add("INVALID_EMAIL", "email", "Email không hợp lệ.", "Invalid email address.")
            return None
        return Contact(ContactKind.EMAIL, address)
    assert phone is not None
    normalised = normalise_phone(phone)
    if normalised is None:
        v.add(
            "INVALID_PHONE",
            "phone",
            "Số điện thoại không hợp lệ (10 chữ số, ví dụ 0912345678).",
            "Invalid phone number (ten digits, e.g. 0912345678).",
        )
        return None
    return Contact(ContactKind.PHONE, normalised)


def require_contact(email: str | None, phone: str | None) -> Contact:
    v = Validator()
    contact = parse_contact(email, phone, v)
    v.check()
    assert contact is not None
    return contact


_MINUTES = int(CODE_TTL.total_seconds() // 60)
_CODE_TEXT = {
    Language.VI: (
        "Mã xác minh PAHT",
        "Mã xác minh của bạn là {code}. Mã có hiệu lực trong {minutes} phút và chỉ dùng một "
        "lần. Nếu bạn không yêu cầu, hãy bỏ qua thư này.",
    ),
    Language.EN: (
        "Your PAHT verification code",
        "Your verification code is {code}. It is valid for {minutes} minutes and can be used "
        "once. If you did not ask for it, ignore this message.",
    ),
}
_KNOWN_TEXT = {
    Language.VI: (
        "Tài khoản PAHT của bạn",
        "Có người vừa yêu cầu đăng ký tài khoản PAHT bằng địa chỉ này, nhưng địa chỉ đã có tài "
        "khoản. Hãy đăng nhập; nếu quên mật khẩu, hãy liên hệ đơn vị tiếp nhận. Nếu không phải "
        "bạn, hãy bỏ qua thư này.",
    ),
    Language.EN: (
        "Your PAHT account",
        "Someone asked to sign up to PAHT with this address, which already has an account. "
        "Log in instead; if you forgot the password, contact the receiving centre. If it was "
        "not you, ignore this message.",
    ),
}


async def send_code(tenant_id: uuid.UUID, contact: Contact, code: str, lang: Language) -> None:
    subject, body = _CODE_TEXT[lang]
    await send_message(tenant_id, contact, subject, body.format(code=code, minutes=_MINUTES), lang)


async def send_already_registered(tenant_id: uuid.UUID, contact: Contact, lang: Language) -> None:
    subject, body = _KNOWN_TEXT[lang]
    await send_message(tenant_id, contact, subject, body, lang)


async def send_message(
    tenant_id: uuid.UUID, contact: Contact, subject: str, body: str, lang: Language
) -> None:
    """One ready-made message: an e-mail, or an SMS of the body alone."""
    if contact.kind is ContactKind.EMAIL:
        await send_email(tenant_id, contact.address, subject, body, language=lang)
    else:
        await send_text(tenant_id, contact.address, body, language=lang)


def contact_taken(field: str) -> DomainError:
    return DomainError(
        "CONTACT_TAKEN",
        "Địa chỉ này đã gắn với một tài khoản khác.",
        "This contact already belongs to another account.",
        field,
    )
