"""Webhooks end to end: a tenant admin registers an endpoint over GraphQL (the secret answered
once), report steps are delivered signed (verified by the receiver with the independent
``standardwebhooks`` package), with ids and public data only; failures are retried with
back-off, recorded, and an endpoint that keeps failing is switched off (its admins told); the
admin replays a message under the same id; tenant A's endpoint never hears of tenant B."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from core import clock
from outbox.channels import Senders, SmtpConfig
from outbox.models import OutboxMessage, WebhookEndpoint
from outbox.runner import Outbox, RetryPolicy
from outbox.service import create_endpoint
from outbox.vocabulary import EventType
from permissions.session import scoped_transaction, tenant_transaction
from reports.jobs import deliver_once
from reports.service import ContactInput
from tests.conftest import GraphQLClient
from tests.support.receiver import Receiver
from tests.support.services import scope_of, submit

CREATE = """mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) {
  endpoint { id url eventTypes active } secret errors { code field } } }"""
MESSAGES = """query($e: ID) { outboxMessages(endpointId: $e) {
  id status attempts lastStatusCode lastDurationMs lastError eventType } }"""
ENDPOINTS = "{ webhookEndpoints { id active consecutiveFailures disabledAt } }"
REPLAY = """mutation($i: ReplayOutboxMessageInput!) { replayOutboxMessage(input: $i) {
  message { id status } errors { code } } }"""
ENABLE = """mutation($i: UpdateWebhookEndpointInput!) { updateWebhookEndpoint(input: $i) {
  endpoint { active consecutiveFailures } errors { code } } }"""


async def register(
    gql: GraphQLClient, token: str, receiver: Receiver, base: str, events: list[str]
) -> tuple[str, str]:
    path = f"/hooks/{uuid.uuid4().hex[:8]}"
    data = await gql.ok(CREATE, {"i": {"url": base + path, "eventTypes": events}}, token)
    made = data["createWebhookEndpoint"]
    assert made["errors"] == [] and made["secret"].startswith("whsec_")
    receiver.secrets[path] = made["secret"]
    return path, made["endpoint"]["id"]


async def test_signed_events_reach_the_registered_endpoint_only_with_public_data(
    gql: GraphQLClient,
    pilot: dict[str, Any],
    sapa: dict[str, Any],
    receiver_server: tuple[Receiver, str],
    receiver: Receiver,
    outbox: Outbox,
) -> None:
    _, base = receiver_server
    token = await gql.login("sapa.admin", pilot["password"])
    path, endpoint_gid = await register(gql, token, receiver, base, ["REPORT_RECEIVED"])
    # The secret is never readable again: no field of the endpoint holds it.
    body = await gql("{ webhookEndpoints { secret } }", token=token)
    assert "errors" in body

    report = await submit(sapa, contact=ContactInput("Dung", "0911222333", "dung@example.vn"))
    await deliver_once(outbox, tenant_codes=["sa-pa"])
    (hit,) = [h for h in receiver.at(path) if h.json["data"]["code"] == report.code]
    assert hit.verified is True
    assert hit.headers["webhook-id"] == hit.json["id"]
    assert hit.json["type"] == "report.received" and hit.json["data"]["toState"] == "SUBMITTED"
    text = hit.body.decode()
    assert "dung@example.vn" not in text and "0911222333" not in text and "Dung" not in text
    # The admin sees it delivered, with the receiver's answer and the response time.
    data = await gql.ok(MESSAGES, {"e": endpoint_gid}, token)
    row = data["outboxMessages"][0]
    assert row["status"] == "SENT" and row["lastStatusCode"] == 200
    assert row["lastDurationMs"] is not None and row["eventType"] == "REPORT_RECEIVED"


async def test_a_tampered_signature_is_refused_by_the_independent_verifier(
    receiver_server: tuple[Receiver, str], receiver: Receiver
) -> None:
    import httpx

    from outbox.signing import new_secret, signed_headers

    _, base = receiver_server
    secret = new_secret()
    receiver.secrets["/tamper"] = secret
    body = b'{"id":"x","type":"report.received","data":{}}'
    headers = signed_headers(secret, "msg_1", int(clock.now().timestamp()), body)
    async with httpx.AsyncClient() as http:
        good = await http.post(base + "/tamper", content=body, headers=headers)
        bad = await http.post(base + "/tamper", content=body + b" ", headers=headers)
    assert good.status_code == 200 and bad.status_code == 401
    assert [h.verified for h in receiver.at("/tamper")] == [True, False]


async def test_another_tenants_endpoint_never_receives_the_event(
    pilot: dict[str, Any],
    sapa: dict[str, Any],
    receiver_server: tuple[Receiver, str],
    receiver: Receiver,
    outbox: Outbox,
) -> None:
    _, base = receiver_server
    laocai = await scope_of(pilot, "laocai.admin", "lao-cai")
    async with scoped_transaction(laocai):
        made = await create_endpoint(laocai, base + "/laocai", list(EventType)[:1])
    report = await submit(sapa)
    await deliver_once(outbox)  # every tenant
    assert not [h for h in receiver.at("/laocai") if report.code in h.body.decode()]
    # Row-level security: Sa Pa cannot even see Lào Cai's endpoint or its secret.
    async with tenant_transaction(sapa["tenant"].id):
        assert await WebhookEndpoint.filter(id=made.endpoint.id) == []
        assert await OutboxMessage.filter(endpoint_id=made.endpoint.id) == []


async def test_a_private_address_is_refused_unless_the_deployment_allows_it(
    gql: GraphQLClient,
    pilot: dict[str, Any],
    sapa: dict[str, Any],
    receiver_server: tuple[Receiver, str],
    receiver: Receiver,
    mail_server: tuple[Any, int],
) -> None:
    """An endpoint an administrator enters must not reach the server's own network: with
    private hosts not allowed (the production default) the loopback receiver hears nothing and
    the message is FAILED with the reason, not retried."""
    _, base = receiver_server
    _, port = mail_server
    token = await gql.login("sapa.admin", pilot["password"])
    path, endpoint_gid = await register(gql, token, receiver, base, ["REPORT_RECEIVED"])
    smtp = SmtpConfig(host="127.0.0.1", port=port, start_tls=False, sender="PAHT <x@test>")
    strict = Outbox(Senders.build(smtp, 5), RetryPolicy(base_seconds=60, max_attempts=3))
    await submit(sapa)
    await deliver_once(strict, tenant_codes=["sa-pa"])
    assert receiver.at(path) == []
    rows = (await gql.ok(MESSAGES, {"e": endpoint_gid}, token))["outboxMessages"]
    assert [(r["status"], r["lastError"]) for r in rows] == [
        ("FAILED", "refused: the address is not public")
    ]


async def test_failures_back_off_then_disable_the_endpoint_and_replay_keeps_the_id(
    gql: GraphQLClient,
    pilot: dict[str, Any],
    sapa: dict[str, Any],
    receiver_server: tuple[Receiver, str],
    receiver: Receiver,
    outbox: Outbox,
) -> None:
    _, base = receiver_server
    token = await gql.login("sapa.admin", pilot["password"])
    path, endpoint_gid = await register(gql, token, receiver, base, ["REPORT_RECEIVED"])
    receiver.failing[path] = 503
    policy = RetryPolicy(base_seconds=60, max_attempts=10, disable_after=3)
    flaky = Outbox(outbox.senders, policy)
    await submit(sapa)

    now = clock.now()
    moments = []
    for _ in range(3):
        await deliver_once(flaky, now=now, tenant_codes=["sa-pa"])
        async with tenant_transaction(sapa["tenant"].id):
            (row,) = await OutboxMessage.filter(endpoint_id=uuid.UUID(_local(endpoint_gid)))
        moments.append(row.next_attempt_at - now)
        # Not due again before its back-off: a pass at the same instant sends nothing.
        before = len(receiver.at(path))
        await deliver_once(flaky, now=now, tenant_codes=["sa-pa"])
        assert len(receiver.at(path)) == before
        now = row.next_attempt_at
    assert len(receiver.at(path)) == 3
    # Exponential with jitter: within [d/2, d] of 60 s, 120 s (the third failure disables).
    assert timedelta(seconds=30) <= moments[0] <= timedelta(seconds=60)
    assert timedelta(seconds=60) <= moments[1] <= timedelta(seconds=120)
    hits = receiver.at(path)
    assert len({h.headers["webhook-id"] for h in hits}) == 1  # every attempt, the same id
    assert all(h.verified for h in hits)

    data = await gql.ok(ENDPOINTS, token=token)
    (endpoint,) = [e for e in data["webhookEndpoints"] if e["id"] == endpoint_gid]
    assert endpoint["active"] is False and endpoint["consecutiveFailures"] == 3
    assert endpoint["disabledAt"] is not None
    data = await gql.ok(MESSAGES, {"e": endpoint_gid}, token)
    (message,) = data["outboxMessages"]
    assert message["lastStatusCode"] == 503 and "503" in message["lastError"]
    # The administrators were told (by e-mail, through the outbox).
    async with tenant_transaction(sapa["tenant"].id):
        told = await OutboxMessage.filter(
            tenant_id=sapa["tenant"].id, event_type="webhook.disabled", body__contains=path
        )
    assert told and told[0].recipient == "admin@sapa.example.vn"

    # Fixed: the admin switches it back on and replays; the same id arrives, now accepted.
    receiver.failing.clear()
    enabled = await gql.ok(ENABLE, {"i": {"id": endpoint_gid, "active": True}}, token)
    assert enabled["updateWebhookEndpoint"]["endpoint"] == {
        "active": True, "consecutiveFailures": 0,
    }  # fmt: skip
    replayed = await gql.ok(REPLAY, {"i": {"id": message["id"]}}, token)
    assert replayed["replayOutboxMessage"]["message"]["status"] == "PENDING"
    await deliver_once(flaky, tenant_codes=["sa-pa"])
    last = receiver.at(path)[-1]
    assert last.headers["webhook-id"] == hits[0].headers["webhook-id"] and last.verified
    data = await gql.ok(MESSAGES, {"e": endpoint_gid}, token)
    assert data["outboxMessages"][0]["status"] == "SENT"


def _local(gid: str) -> str:
    from strawberry import relay

    return relay.GlobalID.from_id(gid).node_id


async def test_only_report_events_and_real_urls_are_accepted(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    token = await gql.login("sapa.admin", pilot["password"])
    data = await gql.ok(
        CREATE, {"i": {"url": "ftp://x", "eventTypes": ["DEADLINE_REMINDER"]}}, token
    )
    errors = data["createWebhookEndpoint"]["errors"]
    assert {(e["code"], e["field"]) for e in errors} == {
        ("INVALID_URL", "url"), ("INVALID", "eventTypes"),
    }  # fmt: skip
    citizen = await gql.login("sapa.citizen", pilot["password"])
    body = await gql(CREATE, {"i": {"url": "https://x.vn", "eventTypes": ["REPORT_RECEIVED"]}},
                     citizen)  # fmt: skip
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
