"""The citizens domain's fixed sets."""

from __future__ import annotations

from core.labels import Labelled


class ContactKind(Labelled):
    """How a citizen is reached, and which one-time codes prove."""

    EMAIL = "email", "thư điện tử", "e-mail"
    PHONE = "phone", "số điện thoại", "phone number"


class CodePurpose(Labelled):
    """What a one-time code is for: a code of one purpose never opens another."""

    SIGN_UP = "sign_up", "đăng ký tài khoản", "signing up"
    CONTACT_CHANGE = "contact_change", "đổi thông tin liên hệ", "changing a contact"
