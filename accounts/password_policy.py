"""The password rules, applied wherever a password is set: a new account (``createUser``, an
onboarded tenant's first administrator, ``paht admins create``), a change (``changePassword``,
a forced change at login) and a reset (whose generated password passes them too).

A password has at least ``MIN_CHARS`` and at most ``MAX_CHARS`` characters, is not the username
and does not contain it (ignoring case), and is not one of the common passwords of
``common-passwords.txt`` (compared lower-cased).

``common-passwords.txt`` is the list Django 5.2 ships (BSD licence) as
``django/contrib/auth/common-passwords.txt.gz``, decompressed and otherwise unchanged: "20000
common passwords (unhexed, lowercased and deduplicated), created by Royce Williams:
https://gist.github.com/roycewilliams/226886fd01572964e1431ac8afc999ce" (Django's words), 19,640
lines, most common first. Most of them are shorter than ``MIN_CHARS`` and refused for that
already; the list still matters for the long ones (``1q2w3e4r5t``, ``qwertyuiop``, ``password12``
…) and keeps its meaning if the minimum ever changes."""

from __future__ import annotations

import secrets
from functools import cache
from pathlib import Path

from core.errors import DomainError, ErrorDetail

MIN_CHARS = 10
MAX_CHARS = 256  # argon2's cost grows with the input; no real password is this long
COMMON_PASSWORDS = Path(__file__).with_name("common-passwords.txt")
RULES = (  # for the schema's descriptions
    f"Password rules (refusal codes, on the password's field): at least {MIN_CHARS} and at most "
    f"{MAX_CHARS} characters (PASSWORD_TOO_SHORT, PASSWORD_TOO_LONG), not the username nor "
    "containing it (PASSWORD_CONTAINS_USERNAME), not a common password (PASSWORD_TOO_COMMON)."
)


@cache
def common_passwords() -> frozenset[str]:
    """Read once per process (about 160 KB)."""
    with COMMON_PASSWORDS.open(encoding="utf-8") as lines:
        return frozenset(line.rstrip("\n") for line in lines)


def password_problems(password: str, username: str | None, field: str) -> list[ErrorDetail]:
    """What is wrong with ``password`` for the account ``username``; empty when it is fine.
    A password of the wrong length gets that one answer: the other rules would not help."""
    if len(password) < MIN_CHARS:
        return [
            ErrorDetail(
                "PASSWORD_TOO_SHORT",
                f"Mật khẩu cần ít nhất {MIN_CHARS} ký tự.",
                f"A password needs at least {MIN_CHARS} characters.",
                field,
            )
        ]
    if len(password) > MAX_CHARS:
        return [
            ErrorDetail(
                "PASSWORD_TOO_LONG",
                f"Mật khẩu tối đa {MAX_CHARS} ký tự.",
                f"A password has at most {MAX_CHARS} characters.",
                field,
            )
        ]
    problems = []
    lowered = password.lower()
    if username and username.strip().lower() in lowered:
        problems.append(
            ErrorDetail(
                "PASSWORD_CONTAINS_USERNAME",
                "Mật khẩu không được là hoặc chứa tên đăng nhập.",
                "A password must not be or contain the username.",
                field,
            )
        )
    if lowered.strip() in common_passwords():
        problems.append(
            ErrorDetail(
                "PASSWORD_TOO_COMMON",
                "Mật khẩu này quá phổ biến, dễ bị dò ra. Hãy chọn mật khẩu khác.",
                "This password is too common and easily guessed; choose another one.",
                field,
            )
        )
    return problems


def check_password(password: str, username: str | None, field: str = "password") -> None:
    """Raise the typed errors of ``password_problems``, if any."""
    if problems := password_problems(password, username, field):
        raise DomainError.many(problems)


# No 0/o, 1/l/i: a one-time password is often read out over the phone or copied from paper.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def generate_password(username: str | None = None) -> str:
    """A one-time password such as ``k7mq-x3vd-9wph-t2ra``: 16 random characters of 31
    (about 79 bits), in groups of four. It passes the rules above for ``username``."""
    while True:
        groups = ("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(4))
        password = "-".join(groups)
        if not password_problems(password, username, "password"):
            return password
