"""The province's escalation queue across its localities (reports/province_queue.py): two fresh
localities, reports escalated to each level, read by the provincial administrator without
naming a tenant; the levels, the tenants asked for, the order, refusals."""

from __future__ import annotations

import uuid
from typing import Any

from permissions.scope import anonymous_in
from permissions.session import scoped_transaction
from reports.service import submit_report
from reports.submission import SubmitInput
from tests.conftest import GraphQLClient
from tests.factories import gid, onboard_locality, user_with_grants

QUEUE = """query($l: [EscalationLevel!], $t: [ID!], $n: Int! = 50) {
  provinceEscalations(levels: $l, tenantIds: $t, first: $n) {
    tenant { id code } reportId code title state escalation escalatedAt } }"""
ESCALATE = """mutation($i: EscalateReportInput!) { escalateReport(input: $i) {
  report { escalation version } errors { code field } } }"""


async def _escalated(gql: GraphQLClient, locality: dict[str, Any], title: str, times: int) -> str:
    """A citizen's report (anonymous, as the app sends it), escalated ``times`` levels."""
    citizen = anonymous_in(locality["tenant_id"])
    async with scoped_transaction(citizen):
        made = await submit_report(
            citizen,
            SubmitInput(
                title=title,
                description="Phản ánh kiểm thử.",
                field_id=locality["fields"]["ha-tang"],
                latitude=10.0,
                longitude=106.0,
                idempotency_key=uuid.uuid4().hex,
            ),
        )
    report = {"id": gid("Report", made.report.id), "code": made.report.code}
    version, token = made.report.version, locality["supervisor"]
    for _ in range(times):
        body = await gql.ok(ESCALATE, {"i": {"id": report["id"], "version": version,
                                             "comment": "Quá hạn."}}, token)  # fmt: skip
        assert body["escalateReport"]["errors"] == [], body
        version = body["escalateReport"]["report"]["version"]
    return str(report["code"])


async def test_the_province_sees_escalations_of_every_locality(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    one = await onboard_locality(gql, pilot, prefix="esc1")
    two = await onboard_locality(gql, pilot, prefix="esc2")
    for locality in (one, two):
        supervisor = {"role": "centre_supervisor"}
        locality["supervisor"] = await user_with_grants(gql, locality, "supervisor", supervisor)
    high_one = await _escalated(gql, one, "Sạt lở chưa xử lý", 2)
    low_one = await _escalated(gql, one, "Đèn đường hỏng", 1)
    high_two = await _escalated(gql, two, "Cầu treo hư hỏng", 2)
    await _escalated(gql, two, "Không chuyển cấp", 0)
    province = await gql.login("tinh.admin", pilot["password"])
    both = [gid("Tenant", one["tenant_id"]), gid("Tenant", two["tenant_id"])]

    async def lines(token: str = province, **variables: Any) -> list[dict[str, Any]]:
        return list((await gql.ok(QUEUE, {"t": both, **variables}, token))["provinceEscalations"])

    # By default the province's own level, in both localities, the longest waiting first.
    default = await lines()
    assert [(x["code"], x["tenant"]["code"]) for x in default] == [
        (high_one, one["code"]),
        (high_two, two["code"]),
    ]
    assert {x["escalation"] for x in default} == {"PROVINCE"}
    assert all(x["state"] == "SUBMITTED" and x["reportId"].startswith("UmVwb3J0") for x in default)
    # Every level: the province's first; one tenant only.
    assert [x["code"] for x in await lines(l=["LOCALITY", "PROVINCE"])] == [
        high_one,
        high_two,
        low_one,
    ]
    only_one = await lines(l=["LOCALITY", "PROVINCE"], t=[both[0]])
    assert [x["code"] for x in only_one] == [high_one, low_one]
    assert [x["code"] for x in await lines(n=1)] == [high_one]
    # Without tenantIds: every locality the province reads, ordered the same way.
    everywhere = (await gql.ok(QUEUE, {"n": 200}, province))["provinceEscalations"]
    assert {x["escalation"] for x in everywhere} <= {"PROVINCE"}
    times = [x["escalatedAt"] for x in everywhere]
    assert times == sorted(times)

    # Refusals: a locality's own staff, a bad size, an id of another kind.
    body = await gql(QUEUE, {"t": both}, one["admin"])
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = await gql(QUEUE, {"t": both, "n": 0}, province)
    assert [(e["extensions"]["code"], e["extensions"].get("field")) for e in bad["errors"]] == [
        ("INVALID", "first")
    ]
    wrong = await gql(QUEUE, {"t": [gid("Field", one["fields"]["ha-tang"])]}, province)
    assert wrong["errors"][0]["extensions"]["code"] == "NOT_FOUND"
