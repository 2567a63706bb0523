"""What staff see of self-registered reporters: whether the reporter's account proved its
contact; and the hotline's invitation to claim a report, sent through the outbox to the caller,
which the caller follows to sign up and claim the report."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.database import DatabaseUrls
from api.demo import DEMO_PASSWORD
from api.settings import Settings
from outbox.runner import Outbox
from tests.conftest import GraphQLClient, with_client_address
from tests.support.citizens import (
    call,
    code_sent_to,
    mails_to,
    new_email,
    request_code,
    sign_up,
    sign_up_input,
    submit_as,
)
from tests.support.mail import MailSink

APP_URL = "https://phananh.example.vn"
INVITE = """mutation($i: InviteToClaimInput!) { inviteToClaim(input: $i) {
  sentBy errors { code field } } }"""
CLAIM = """mutation($i: ClaimReportsInput!) { claimReports(input: $i) {
  reports { code } errors { code field } } }"""
VERIFIED = "query($id: ID!) { node(id: $id) { ... on Report { code reporterVerified } } }"


@pytest.fixture(scope="module")
async def api(settings: Settings, database: DatabaseUrls) -> AsyncIterator[GraphQLClient]:
    """The API with a citizen app address (PAHT_CITIZEN_APP_URL) for the claim links."""
    configured = settings.model_copy(update={"citizen_app_url": APP_URL})
    app = create_app(configured, database.app, manage_db=False)
    transport = httpx.ASGITransport(app=with_client_address(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://paht.test") as http:
        yield GraphQLClient(http)


async def verified(gql: GraphQLClient, token: str, report_id: str) -> Any:
    return (await call(gql, VERIFIED, {"id": report_id}, token=token))["node"]["reporterVerified"]


async def test_a_hotline_caller_is_invited_signs_up_and_claims(
    api: GraphQLClient, mail: MailSink, outbox: Outbox
) -> None:
    operator = await api.login("sapa.intake-operator", DEMO_PASSWORD)
    caller = new_email()
    entry = await submit_as(
        api, operator, onBehalf=True, contact={"name": "Sùng Thị Mỷ", "email": caller}
    )
    report_id = entry["report"]["id"]
    assert await verified(api, operator, report_id) is None  # no account yet

    invited = await call(api, INVITE, {"i": {"reportId": report_id}}, token=operator)
    assert invited["inviteToClaim"] == {"sentBy": "EMAIL", "errors": []}
    bodies = await mails_to(mail, outbox, caller)
    # The receipt names the code too; the invitation (in the caller's language) asks to sign up.
    (invitation,) = [b for b in bodies if "Đăng ký tài khoản" in b]
    assert entry["trackingCode"] in invitation
    link = re.search(r"https://\S+", invitation)
    assert link and link.group(0) == (
        f"{APP_URL}/claim?tenant=sa-pa&trackingCode={entry['trackingCode']}"
    )

    await request_code(api, email=caller)
    code = await code_sent_to(mail, outbox, caller)
    account = await sign_up(api, **sign_up_input(caller, code))
    token = account["accessToken"]
    claimed = await call(api, CLAIM, {"i": {"trackingCodes": [entry["trackingCode"]]}}, token=token)
    assert claimed["claimReports"] == {"reports": [{"code": entry["report"]["code"]}], "errors": []}
    assert await verified(api, operator, report_id) is True
    assert await verified(api, token, report_id) is None  # staff only (report:view_reporter)

    again = await call(api, INVITE, {"i": {"reportId": report_id}}, token=operator)
    assert again["inviteToClaim"]["errors"] == [{"code": "NOT_CLAIMABLE", "field": "reportId"}]


async def test_an_account_made_by_staff_is_not_verified(gql: GraphQLClient) -> None:
    citizen = await gql.login("sapa.citizen", DEMO_PASSWORD)  # the demo's, made by an admin
    filed = await submit_as(gql, citizen)
    operator = await gql.login("sapa.intake-operator", DEMO_PASSWORD)
    assert await verified(gql, operator, filed["report"]["id"]) is False


async def test_an_invitation_by_sms_and_who_may_send_one(
    gql: GraphQLClient, mail: MailSink
) -> None:
    operator = await gql.login("sapa.intake-operator", DEMO_PASSWORD)
    entry = await submit_as(gql, operator, onBehalf=True)
    report_id = entry["report"]["id"]
    no_contact = await call(gql, INVITE, {"i": {"reportId": report_id}}, token=operator)
    assert no_contact["inviteToClaim"]["errors"][0]["code"] == "CONTACT_REQUIRED"
    by_sms = await call(
        gql, INVITE, {"i": {"reportId": report_id, "phone": "0912 345 678"}}, token=operator
    )
    assert by_sms["inviteToClaim"] == {"sentBy": "PHONE", "errors": []}
    handler = await gql.login("sapa.handler", DEMO_PASSWORD)
    refused = await gql(INVITE, {"i": {"reportId": report_id}}, token=handler)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    laocai = await gql.login("laocai.intake-operator", DEMO_PASSWORD)
    elsewhere = await call(gql, INVITE, {"i": {"reportId": report_id}}, token=laocai)
    assert elsewhere["inviteToClaim"]["errors"] == [{"code": "NOT_FOUND", "field": "reportId"}]
