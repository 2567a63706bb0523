"""A citizen app talking to the API without an account first (the tenant in X-Paht-Tenant),
and the one-time codes read from the real SMTP sink (tests/support/mail.py) after a real
delivery pass of the outbox."""

from __future__ import annotations

import re
import uuid
from typing import Any

from outbox.runner import Outbox
from reports.jobs import deliver_once
from tests.conftest import GraphQLClient
from tests.support.mail import MailSink
from tests.support.workflow import SAPA_POINT, headers

PASSWORD = "Đèo Ô Quy Hồ 2026"
AUTH = "accessToken refreshToken user { id username } errors { code field message retryAfter }"
REQUEST = """mutation($i: RequestSignUpCodeInput!) { requestSignUpCode(input: $i) {
  expiresIn errors { code field message retryAfter } } }"""
SIGN_UP = f"mutation($i: SignUpInput!) {{ signUp(input: $i) {{ {AUTH} }} }}"
_CODE = re.compile(r"\b(\d{6})\b")


def new_email() -> str:
    return f"citizen-{uuid.uuid4().hex[:10]}@example.vn"


async def call(
    gql: GraphQLClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    tenant: str | None = "sa-pa",
    token: str | None = None,
) -> dict[str, Any]:
    response = await gql.http.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers=headers(token, None if token else tenant),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def request_code(gql: GraphQLClient, tenant: str = "sa-pa", **contact: str) -> Any:
    data = await call(gql, REQUEST, {"i": {**contact, "language": "EN"}}, tenant=tenant)
    return data["requestSignUpCode"]


async def mails_to(
    mail: MailSink, outbox: Outbox, address: str, tenant: str = "sa-pa"
) -> list[str]:
    """Deliver what is due, then the bodies of every message the sink holds for ``address``."""
    stats = await deliver_once(outbox, tenant_codes=[tenant])
    assert stats.errors == [], stats.errors
    return [m.get_body(("plain",)).get_content() for m in mail.to(address)]  # type: ignore[union-attr]


async def code_sent_to(mail: MailSink, outbox: Outbox, address: str, tenant: str = "sa-pa") -> str:
    bodies = await mails_to(mail, outbox, address, tenant)
    assert bodies, f"nothing was mailed to {address}"
    found = _CODE.search(bodies[-1])
    assert found, bodies[-1]
    return found.group(1)


def sign_up_input(email: str, code: str, **extra: Any) -> dict[str, Any]:
    return {"email": email, "code": code, "password": PASSWORD, "fullName": "Lò Thị Mai", **extra}


async def sign_up(gql: GraphQLClient, tenant: str = "sa-pa", **fields: Any) -> dict[str, Any]:
    return (await call(gql, SIGN_UP, {"i": fields}, tenant=tenant))["signUp"]


async def register(
    gql: GraphQLClient, mail: MailSink, outbox: Outbox, tenant: str = "sa-pa", **extra: Any
) -> tuple[str, dict[str, Any]]:
    """A citizen signed up end to end; their e-mail and the signUp payload."""
    email = new_email()
    assert (await request_code(gql, tenant, email=email))["errors"] == []
    code = await code_sent_to(mail, outbox, email, tenant)
    payload = await sign_up(gql, tenant, **sign_up_input(email, code, **extra))
    assert payload["errors"] == [], payload
    return email, payload


SUBMIT = """mutation($i: SubmitReportInput!) { submitReport(input: $i) {
  report { id code } trackingCode errors { code } } }"""
MINE = "{ myReports(first: 20) { edges { node { id code reporterKind } } } }"


async def submit_as(
    gql: GraphQLClient, token: str | None = None, tenant: str = "sa-pa", **extra: Any
) -> dict[str, Any]:
    """A report in Sa Pa's food-safety field, by ``token``'s account or anonymously in
    ``tenant``; the submitReport payload (with the tracking code of an anonymous one)."""
    fields = await call(gql, "{ fields { id code } }", tenant=tenant, token=token)
    field_id = next(f["id"] for f in fields["fields"] if f["code"] == "ve-sinh-attp")
    variables = {
        "i": {
            "title": "Rác thải trước chợ",
            "description": "Rác để qua đêm trước cổng chợ.",
            "fieldId": field_id,
            "latitude": SAPA_POINT[0],
            "longitude": SAPA_POINT[1],
            **extra,
        }
    }
    payload = (await call(gql, SUBMIT, variables, tenant=tenant, token=token))["submitReport"]
    assert payload["errors"] == [], payload
    return payload
