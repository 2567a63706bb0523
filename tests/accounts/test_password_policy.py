"""The password rules (accounts/password_policy.py), alone and where an account is created."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.password_policy import (
    MAX_CHARS,
    MIN_CHARS,
    common_passwords,
    generate_password,
    password_problems,
)
from tests.conftest import GraphQLClient, unique
from tests.factories import find_user


def codes(password: str, username: str | None = "sapa.handler") -> list[str]:
    return [p.code for p in password_problems(password, username, "password")]


def test_the_bundled_list_is_the_whole_list() -> None:
    passwords = common_passwords()
    assert len(passwords) == 19_640
    assert {"123456", "password", "1q2w3e4r5t", "qwertyuiop"} <= passwords
    assert all(p == p.lower() for p in passwords)


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("x" * (MIN_CHARS - 1), ["PASSWORD_TOO_SHORT"]),
        ("123456", ["PASSWORD_TOO_SHORT"]),  # common too, but its length says enough
        ("x" * (MAX_CHARS + 1), ["PASSWORD_TOO_LONG"]),
        ("sapa.handler", ["PASSWORD_CONTAINS_USERNAME"]),
        ("my-SAPA.Handler-2026", ["PASSWORD_CONTAINS_USERNAME"]),
        ("1q2w3e4r5t", ["PASSWORD_TOO_COMMON"]),
        ("QwertyUiop", ["PASSWORD_TOO_COMMON"]),  # compared lower-cased
        ("password12", ["PASSWORD_TOO_COMMON"]),
    ],
)
def test_refusals(password: str, expected: list[str]) -> None:
    assert codes(password) == expected


def test_both_username_and_list_can_apply_at_once() -> None:
    assert codes("basketball", "basket") == ["PASSWORD_CONTAINS_USERNAME", "PASSWORD_TOO_COMMON"]


@pytest.mark.parametrize(
    "password",
    ["tram-ton-9", "ab" * (MAX_CHARS // 2), "đường-lên-sa-pa", "correct horse battery staple"],
)
def test_acceptable_passwords(password: str) -> None:
    assert MIN_CHARS <= len(password) <= MAX_CHARS
    assert codes(password) == []


def test_each_refusal_is_bilingual_and_names_its_field() -> None:
    (problem,) = password_problems("short", "someone", "newPassword")
    assert problem.field == "newPassword"
    assert problem.message("vi") == f"Mật khẩu cần ít nhất {MIN_CHARS} ký tự."
    assert problem.message("en") == f"A password needs at least {MIN_CHARS} characters."


def test_generated_passwords_pass_the_rules_and_differ() -> None:
    generated = {generate_password("sapa.handler") for _ in range(50)}
    assert len(generated) == 50
    for password in generated:
        assert len(password) == 19 and password.count("-") == 3
        assert password_problems(password, "sapa.handler", "password") == []
        assert not set(password) & set("01ilo")  # nothing to misread


# --- where an account is created --------------------------------------------------------------

CREATE_USER = """
mutation($i: CreateUserInput!) {
  createUser(input: $i) { user { username } errors { code message field } }
}"""


@pytest.mark.parametrize(
    ("password", "code"),
    [
        ("short", "PASSWORD_TOO_SHORT"),
        ("y" * (MAX_CHARS + 1), "PASSWORD_TOO_LONG"),
        ("{username}-2026", "PASSWORD_CONTAINS_USERNAME"),
        ("1qaz2wsx3edc", "PASSWORD_TOO_COMMON"),
    ],
)
async def test_create_user_refuses_a_bad_password_and_creates_nothing(
    gql: GraphQLClient, pilot: dict[str, Any], password: str, code: str
) -> None:
    admin = await gql.login("sapa.admin", pilot["password"])
    username = unique("staff")
    variables = {
        "i": {
            "username": username,
            "fullName": "Cán bộ",
            "password": password.format(username=username),
        }
    }
    for lang in ("vi", "en"):
        body = await gql(CREATE_USER, variables, token=admin, lang=lang)
        payload = body["data"]["createUser"]
        assert payload["user"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, "password")]
        message = payload["errors"][0]["message"]
        assert message and (("Mật khẩu" in message) == (lang == "vi"))
    assert await find_user(username) is None


async def test_create_user_accepts_a_good_password(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    admin = await gql.login("sapa.admin", pilot["password"])
    username = unique("staff")
    variables = {
        "i": {"username": username, "fullName": "Cán bộ", "password": "rừng-thông-sương-mù"}
    }
    payload = (await gql.ok(CREATE_USER, variables, token=admin))["createUser"]
    assert payload == {"user": {"username": username}, "errors": []}
