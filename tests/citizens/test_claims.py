"""Claiming anonymous reports by their tracking codes: only with the right code, all or none,
never another account's report, never another tenant's; the claimed report is then followed in
myReports, and its state and history are untouched."""

from __future__ import annotations

from typing import Any

from api.demo import DEMO_PASSWORD
from outbox.runner import Outbox
from permissions.session import tenant_transaction
from reports.models import Report, ReportEvent
from tests.conftest import GraphQLClient
from tests.support.citizens import MINE, call, register, submit_as
from tests.support.mail import MailSink

CLAIM = """mutation($i: ClaimReportsInput!) { claimReports(input: $i) {
  reports { id code state } errors { code field } } }"""
LAO_CAI_POINT = {"latitude": 22.493, "longitude": 103.963}  # Phường Cốc Lếu


async def claim(gql: GraphQLClient, token: str, *codes: str) -> dict[str, Any]:
    return (await call(gql, CLAIM, {"i": {"trackingCodes": list(codes)}}, token=token))[
        "claimReports"
    ]


async def mine(gql: GraphQLClient, token: str) -> list[str]:
    return [e["node"]["code"] for e in (await call(gql, MINE, token=token))["myReports"]["edges"]]


async def test_a_citizen_claims_their_anonymous_reports_with_the_codes(
    gql: GraphQLClient, mail: MailSink, outbox: Outbox, pilot: dict[str, Any]
) -> None:
    first = await submit_as(gql, anonymous=True)
    second = await submit_as(gql)  # no token at all: anonymous too
    assert first["trackingCode"] and second["trackingCode"]
    sapa = pilot["tenants"]["sa-pa"].id
    async with tenant_transaction(sapa):
        filed = await Report.get(tenant_id=sapa, code=first["report"]["code"])
        before = await ReportEvent.filter(report_id=filed.id).count()
    _, account = await register(gql, mail, outbox)
    token = account["accessToken"]

    wrong = await claim(gql, token, first["trackingCode"], "KHONGCOMA1234")
    assert wrong == {"reports": [], "errors": [{"code": "NOT_FOUND", "field": "trackingCodes.1"}]}
    assert await mine(gql, token) == []  # all or none: the right code was not claimed either

    done = await claim(gql, token, first["trackingCode"].lower(), second["trackingCode"])
    assert done["errors"] == []
    codes = {first["report"]["code"], second["report"]["code"]}
    assert {r["code"] for r in done["reports"]} == codes
    assert {r["state"] for r in done["reports"]} == {"SUBMITTED"}
    assert set(await mine(gql, token)) == codes
    again = await claim(gql, token, first["trackingCode"])  # a retry is answered again
    assert again["errors"] == [] and len(again["reports"]) == 1
    async with tenant_transaction(sapa):
        report = await Report.get(tenant_id=sapa, code=first["report"]["code"])
        assert report.version == 1 and report.state == "SUBMITTED"
        assert await ReportEvent.filter(report_id=report.id).count() == before

    _, other = await register(gql, mail, outbox)
    taken = await claim(gql, other["accessToken"], first["trackingCode"])
    assert taken["errors"] == [{"code": "ALREADY_CLAIMED", "field": "trackingCodes.0"}]


async def test_another_tenants_code_is_not_found(
    gql: GraphQLClient, mail: MailSink, outbox: Outbox
) -> None:
    elsewhere = await submit_as(gql, tenant="lao-cai", **LAO_CAI_POINT)
    _, account = await register(gql, mail, outbox)
    refused = await claim(gql, account["accessToken"], elsewhere["trackingCode"])
    assert refused["errors"] == [{"code": "NOT_FOUND", "field": "trackingCodes.0"}]


async def test_a_hotline_entry_is_claimed_by_the_caller(
    gql: GraphQLClient, mail: MailSink, outbox: Outbox
) -> None:
    operator = await gql.login("sapa.intake-operator", DEMO_PASSWORD)
    entry = await submit_as(gql, operator, onBehalf=True)
    assert entry["trackingCode"]
    assert await mine(gql, operator) == []  # an entry for someone else is not the operator's
    _, account = await register(gql, mail, outbox)
    done = await claim(gql, account["accessToken"], entry["trackingCode"])
    assert [r["code"] for r in done["reports"]] == [entry["report"]["code"]]


async def test_staff_without_report_submit_cannot_claim(gql: GraphQLClient) -> None:
    anonymous = await submit_as(gql)
    handler = await gql.login("sapa.handler", DEMO_PASSWORD)
    body = await gql(CLAIM, {"i": {"trackingCodes": [anonymous["trackingCode"]]}}, token=handler)
    assert body["data"] is None or body["data"]["claimReports"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
