"""SMS and Zalo ZNS gateways configured per tenant by its admin (tokens write-only, never
readable by another tenant), against a real local HTTP receiver; the admin's own template
replaces the default wording."""

from __future__ import annotations

import uuid
from typing import Any

from outbox.models import ChannelSettings, OutboxMessage
from outbox.runner import Outbox
from permissions.session import tenant_transaction
from reports.jobs import deliver_once
from reports.service import ContactInput
from tests.conftest import GraphQLClient
from tests.support.mail import MailSink
from tests.support.receiver import Receiver
from tests.support.services import submit

SETTINGS = """mutation($i: UpdateChannelSettingsInput!) { updateChannelSettings(input: $i) {
  settings { smsUrl hasSmsToken zaloUrl hasZaloToken zaloTemplateIds { eventType templateId } }
  errors { code field } } }"""
TEMPLATE = """mutation($i: SetMessageTemplateInput!) { setMessageTemplate(input: $i) {
  template { subject body } errors { code } } }"""


async def configure(gql: GraphQLClient, token: str, base: str, sms: str, zalo: str) -> None:
    data = await gql.ok(
        SETTINGS,
        {"i": {"smsUrl": base + sms, "smsToken": "tok-sms", "smsSender": "SAPA",
               "zaloUrl": base + zalo, "zaloToken": "tok-zalo",
               "zaloTemplateIds": [{"eventType": "REPORT_RECEIVED", "templateId": "zns-123"}]}},
        token,
    )  # fmt: skip
    settings = data["updateChannelSettings"]["settings"]
    assert settings["hasSmsToken"] and settings["hasZaloToken"]
    assert settings["zaloTemplateIds"] == [
        {"eventType": "REPORT_RECEIVED", "templateId": "zns-123"}
    ]


async def test_sms_and_zalo_go_through_the_tenants_gateways(
    gql: GraphQLClient,
    pilot: dict[str, Any],
    sapa: dict[str, Any],
    receiver_server: tuple[Receiver, str],
    receiver: Receiver,
    outbox: Outbox,
) -> None:
    _, base = receiver_server
    token = await gql.login("sapa.admin", pilot["password"])
    sms_path, zalo_path = f"/sms/{uuid.uuid4().hex[:6]}", f"/zalo/{uuid.uuid4().hex[:6]}"
    await configure(gql, token, base, sms_path, zalo_path)
    receiver.answers[zalo_path] = {"error": 0, "message": "Success"}
    # Tokens are write-only: no field answers them.
    assert "errors" in await gql("{ channelSettings { smsToken } }", token=token)

    by_sms = await submit(sapa, contact=ContactInput("Em", "0912000111", None, "vi", "SMS"))
    by_zalo = await submit(sapa, contact=ContactInput("Gia", "0912000222", None, "vi", "ZALO"))
    await deliver_once(outbox, tenant_codes=["sa-pa"])

    (sms,) = [h for h in receiver.at(sms_path) if by_sms.code in h.body.decode()]
    assert sms.headers["authorization"] == "Bearer tok-sms"
    assert sms.json["to"] == "0912000111" and sms.json["sender"] == "SAPA"
    assert sms.json["text"] == f"Đã tiếp nhận phản ánh {by_sms.code}"
    assert sms.headers["idempotency-key"] == sms.json["id"]

    (zns,) = [h for h in receiver.at(zalo_path) if by_zalo.code in h.body.decode()]
    assert zns.headers["access_token"] == "tok-zalo"
    assert zns.json["phone"] == "84912000222" and zns.json["template_id"] == "zns-123"
    assert zns.json["template_data"]["code"] == by_zalo.code
    async with tenant_transaction(sapa["tenant"].id):
        rows = await OutboxMessage.filter(id__in=[sms.json["id"], zns.json["tracking_id"]])
    assert {r.status for r in rows} == {"SENT"} and len(rows) == 2

    # A ZNS refusal (HTTP 200 with an error code) is a failure, recorded and retried.
    receiver.answers[zalo_path] = {"error": -124, "message": "Invalid template"}
    refused = await submit(sapa, contact=ContactInput("Hà", "0912000333", None, "vi", "ZALO"))
    await deliver_once(outbox, tenant_codes=["sa-pa"])
    async with tenant_transaction(sapa["tenant"].id):
        (row,) = await OutboxMessage.filter(channel="ZALO", subject__contains=refused.code)
    assert row.status == "PENDING" and row.attempts == 1 and "ZNS error -124" in row.last_error
    assert "0912000333" not in row.last_error and "84912000333" not in (row.last_error or "")

    # Lào Cai cannot read Sa Pa's gateway settings (row-level security).
    laocai = pilot["tenants"]["lao-cai"]
    async with tenant_transaction(laocai.id):
        assert await ChannelSettings.filter(tenant_id=sapa["tenant"].id) == []


async def test_the_admins_own_template_replaces_the_default(
    gql: GraphQLClient,
    pilot: dict[str, Any],
    sapa: dict[str, Any],
    mail: MailSink,
    outbox: Outbox,
) -> None:
    token = await gql.login("sapa.admin", pilot["password"])
    own = {
        "eventType": "REPORT_RECEIVED",
        "channel": "EMAIL",
        "language": "EN",
        "subject": "Sa Pa got {code}",
        "body": "Thanks, {title} is with us ({unknown}).",
    }
    try:
        data = await gql.ok(TEMPLATE, {"i": own}, token)
        assert data["setMessageTemplate"]["template"]["subject"] == "Sa Pa got {code}"
        to = f"tpl-{uuid.uuid4().hex[:6]}@example.vn"
        report = await submit(sapa, title="Đèn hỏng", contact=ContactInput("I", None, to, "en"))
        await deliver_once(outbox, tenant_codes=["sa-pa"])
        (received,) = mail.to(to)
        assert received["Subject"] == f"Sa Pa got {report.code}"
        assert received.get_content().strip() == "Thanks, Đèn hỏng is with us ({unknown})."
    finally:  # back to the default for the other tests
        data = await gql.ok(TEMPLATE, {"i": {**own, "body": ""}}, token)
        assert data["setMessageTemplate"]["template"] is None
