"""A citizen's own profile and data: contacts change only once the new address proves itself,
a notification channel needs a verified contact, ``myData`` holds everything stored about
them, and deleting the account keeps the reports and the statistics while wiping the person."""

from __future__ import annotations

import json
from typing import Any

from accounts.models import CitizenProfile, User
from api.demo import DEMO_PASSWORD
from core import clock
from outbox.models import OutboxMessage
from outbox.runner import Outbox
from permissions.session import tenant_transaction
from reports.models import Report, ReporterContact
from stats.maintain import refresh_tenant
from tests.conftest import GraphQLClient
from tests.support.citizens import (
    MINE,
    PASSWORD,
    call,
    code_sent_to,
    mails_to,
    new_email,
    register,
    submit_as,
)
from tests.support.mail import MailSink

PROFILE = """fullName email phone emailVerified phoneVerified kind organisationName taxCode
  notifyByEmail notifyBySms language"""
UPDATE = f"""mutation($i: UpdateMyProfileInput!) {{ updateMyProfile(input: $i) {{
  profile {{ {PROFILE} }} errors {{ code field }} }} }}"""
ASK = """mutation($i: NewContactInput!) { requestContactChangeCode(input: $i) {
  expiresIn errors { code } } }"""
CONFIRM = f"""mutation($i: ConfirmContactInput!) {{ confirmContactChange(input: $i) {{
  profile {{ {PROFILE} }} errors {{ code field }} }} }}"""
DELETE = """mutation($i: DeleteMyAccountInput!) { deleteMyAccount(input: $i) {
  ok errors { code field } } }"""
STATS = """query($p: PeriodInput!) { statistics(period: $p) { total {
  received toHandle finished openWithinDeadline openDueSoon openOverdue rejected } } }"""
LOGIN = "mutation($i: LoginInput!) { login(input: $i) { accessToken errors { code } } }"


async def test_preferences_need_a_verified_contact(
    gql: GraphQLClient, mail: MailSink, outbox: Outbox
) -> None:
    email, account = await register(gql, mail, outbox)
    token = account["accessToken"]
    shown = (await call(gql, f"{{ myProfile {{ {PROFILE} }} }}", token=token))["myProfile"]
    assert shown == {
        "fullName": "Lò Thị Mai", "email": email, "phone": None, "emailVerified": True,
        "phoneVerified": False, "kind": "PERSON", "organisationName": None, "taxCode": None,
        "notifyByEmail": True, "notifyBySms": False, "language": "VI",
    }  # fmt: skip
    refused = await call(gql, UPDATE, {"i": {"notifyBySms": True}}, token=token)
    assert refused["updateMyProfile"]["errors"] == [
        {"code": "CONTACT_NOT_VERIFIED", "field": "notifyBySms"}
    ]
    changed = await call(
        gql,
        UPDATE,
        {"i": {"notifyByEmail": False, "kind": "ORGANISATION", "organisationName": "Hội Phụ nữ"}},
        token=token,
    )
    profile = changed["updateMyProfile"]["profile"]
    assert (profile["notifyByEmail"], profile["kind"], profile["organisationName"]) == (
        False,
        "ORGANISATION",
        "Hội Phụ nữ",
    )


async def test_a_new_email_is_proven_before_it_replaces_the_old_one(
    gql: GraphQLClient, mail: MailSink, outbox: Outbox
) -> None:
    old, account = await register(gql, mail, outbox)
    token = account["accessToken"]
    new = new_email()
    asked = await call(gql, ASK, {"i": {"email": new}}, token=token)
    assert asked["requestContactChangeCode"] == {"expiresIn": 900, "errors": []}
    code = await code_sent_to(mail, outbox, new)
    wrong = await call(
        gql, CONFIRM, {"i": {"email": new, "code": f"{(int(code) + 1) % 10**6:06d}"}}, token=token
    )
    assert wrong["confirmContactChange"]["errors"] == [{"code": "INVALID_CODE", "field": "code"}]
    done = await call(gql, CONFIRM, {"i": {"email": new, "code": code}}, token=token)
    assert done["confirmContactChange"]["profile"]["email"] == new
    assert await gql.login(new, PASSWORD, "sa-pa")  # the username followed the address
    stale = await gql.ok(
        LOGIN, {"i": {"username": old, "password": PASSWORD, "tenantCode": "sa-pa"}}
    )
    assert stale["login"]["errors"] == [{"code": "INVALID_CREDENTIALS"}]

    # Another account's address: the same answer, a reminder instead of a code.
    other, _ = await register(gql, mail, outbox)
    mail.received.clear()
    taken = await call(gql, ASK, {"i": {"email": other}}, token=token)
    assert taken["requestContactChangeCode"] == {"expiresIn": 900, "errors": []}
    (reminder,) = await mails_to(mail, outbox, other)
    assert not any(ch.isdigit() for ch in reminder)


async def test_my_data_holds_what_is_stored_about_me(
    gql: GraphQLClient, mail: MailSink, outbox: Outbox
) -> None:
    email, account = await register(gql, mail, outbox, kind="BUSINESS", organisationName="HTX")
    token = account["accessToken"]
    contact = {"name": "Lò Thị Mai", "email": email, "language": "EN"}
    report = await submit_as(gql, token, contact=contact, address="Chợ Sa Pa")
    data = (await call(gql, "{ myData }", token=token))["myData"]
    assert data["account"]["email"] == email and data["profile"]["kind"] == "business"
    assert [r["code"] for r in data["reports"]] == [report["report"]["code"]]
    assert data["reports"][0]["contact"]["name"] == "Lò Thị Mai"
    assert data["reports"][0]["address"] == "Chợ Sa Pa"
    assert [r["role"] for r in data["roles"]] == ["citizen"]
    assert len(data["sessions"]) == 1
    assert {m["to"] for m in data["messages"]} == {email}  # the code, the report's receipt
    text = json.dumps(data)
    assert "hash" not in text and PASSWORD not in text


async def test_deleting_the_account_keeps_reports_and_statistics(
    gql: GraphQLClient, mail: MailSink, outbox: Outbox, pilot: dict[str, Any]
) -> None:
    sapa = pilot["tenants"]["sa-pa"].id
    email, account = await register(gql, mail, outbox)
    token = account["accessToken"]
    contact = {"name": "Lò Thị Mai", "email": email, "phone": "0912345678"}
    filed = await submit_as(gql, token, contact=contact)
    await mails_to(mail, outbox, email)  # the receipt is sent before the deletion
    supervisor = await gql.login("sapa.centre-supervisor", DEMO_PASSWORD)
    today = clock.now().date().isoformat()
    period = {"p": {"first": today, "last": today}}
    await refresh_tenant(sapa)
    before = await call(gql, STATS, period, token=supervisor)

    wrong = await call(gql, DELETE, {"i": {"password": "không phải mật khẩu"}}, token=token)
    assert wrong["deleteMyAccount"] == {
        "ok": False,
        "errors": [{"code": "WRONG_PASSWORD", "field": "password"}],
    }
    done = await call(gql, DELETE, {"i": {"password": PASSWORD}}, token=token)
    assert done["deleteMyAccount"] == {"ok": True, "errors": []}

    after_token = await gql.raw(MINE, token=token)
    assert after_token.status_code == 401
    assert after_token.json()["errors"][0]["extensions"]["code"] == "INVALID_TOKEN"
    login = await gql.ok(
        LOGIN, {"i": {"username": email, "password": PASSWORD, "tenantCode": "sa-pa"}}
    )
    assert login["login"]["errors"] == [{"code": "INVALID_CREDENTIALS"}]
    async with tenant_transaction(sapa):
        report = await Report.get(tenant_id=sapa, code=filed["report"]["code"])
        kept = await ReporterContact.get(tenant_id=sapa, report_id=report.id)
        tomb = await User.get(id=report.reporter_user_id)
        assert not await CitizenProfile.exists(user_id=tomb.id)
        assert not await OutboxMessage.filter(tenant_id=sapa, recipient=email).exists()
    assert (kept.name, kept.email, kept.phone) == ("", None, None)
    assert (tomb.username, tomb.full_name, tomb.email, tomb.is_active) == (
        f"deleted-{tomb.id.hex}",
        "",
        None,
        False,
    )
    await refresh_tenant(sapa)
    assert await call(gql, STATS, period, token=supervisor) == before


async def test_a_citizen_is_told_through_the_channels_they_chose(
    gql: GraphQLClient, mail: MailSink, outbox: Outbox
) -> None:
    """Their own report without a contact: told by their verified e-mail, in their language,
    while they keep e-mail on; nothing once they switch it off."""
    email, account = await register(gql, mail, outbox, language="EN")
    token = account["accessToken"]
    mail.received.clear()
    told = await submit_as(gql, token)
    (receipt,) = await mails_to(mail, outbox, email)
    assert told["report"]["code"] in receipt and "received" in receipt
    await call(gql, UPDATE, {"i": {"notifyByEmail": False}}, token=token)
    mail.received.clear()
    await submit_as(gql, token)
    assert await mails_to(mail, outbox, email) == []
