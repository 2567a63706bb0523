"""Escalation (issue 12, item 4): a breach goes to the locality's leadership in the background
pass, then — still overdue one working day later — to the province; both find it in their
escalation queue; the breach reminder reaches the locality leader as well as the centre. On
demand, the centre or the locality leader escalates one level at a time. Frozen clock, real
database, the queue read through GraphQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import time_machine

from api.settings import Settings
from permissions.session import scoped_transaction
from permissions.store import store
from reports.jobs import run_once
from reports.models import Notification
from reports.service import AssignInput
from reports.workflow import WorkflowAction as A
from tenants.calendar import WorkingCalendar
from tests.clock import access_token, stop_clock, vn
from tests.conftest import GraphQLClient
from tests.factories import gid, user_named
from tests.support.services import events, fresh, scope_of, step, submit

QUEUE = """query($l: [EscalationLevel!], $from: DateTime, $to: DateTime) {
  reports(first: 100, filter: {escalations: $l, createdFrom: $from, createdTo: $to}) {
  edges { node { code escalation escalatedAt } } } }"""
ESCALATE = """mutation($i: EscalateReportInput!) { escalateReport(input: $i) {
  report { escalation version } errors { code field } } }"""


async def queue(
    gql: GraphQLClient, token: str, level: str, created: datetime | None = None
) -> dict[str, Any]:
    """The queue at ``level``; with ``created``, only reports made within a second of it (the
    shared demo tenant holds more escalated reports than one page, left by other tests)."""
    since = created.isoformat() if created else None
    until = (created + timedelta(seconds=1)).isoformat() if created else None
    body = await gql(QUEUE, {"l": [level], "from": since, "to": until}, token)
    assert "errors" not in body, body
    return {e["node"]["code"]: e["node"] for e in body["data"]["reports"]["edges"]}


async def test_a_breach_goes_to_the_locality_then_the_province(
    gql: GraphQLClient,
    sapa: dict[str, Any],
    pilot: dict[str, Any],
    settings: Settings,
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    stop_clock(time_machine, vn(2026, 3, 11, 9))  # a Wednesday
    report = await submit(sapa)
    report = await step(sapa["operator"], report, A.ASSIGN, assign=AssignInput(sapa["health"].id))
    due = report.accept_due_at
    assert due is not None and report.escalation is None

    await run_once(due - timedelta(minutes=1), ["sa-pa"])
    assert (await fresh(sapa["operator"], report.id)).escalation is None
    await run_once(due + timedelta(minutes=1), ["sa-pa"])
    breached = await fresh(sapa["operator"], report.id)
    assert breached.escalation == "locality"
    assert breached.escalated_at == due + timedelta(minutes=1)
    async with scoped_transaction(sapa["operator"]):
        breach = await Notification.filter(report_id=report.id, kind="OVERDUE").values_list(
            "audience", flat=True
        )
    # The agency's reminder goes to the centre at the breach, and to the locality leader too.
    assert sorted(breach) == ["centre_supervisor", "locality_leader"]
    # The province waits one working day past the deadline (Sa Pa keeps the default calendar).
    province_at = WorkingCalendar().add_working_days(due, 1)
    assert province_at.date() > due.date()
    await run_once(province_at, ["sa-pa"])
    assert (await fresh(sapa["operator"], report.id)).escalation == "locality"
    await run_once(province_at + timedelta(minutes=1), ["sa-pa"])
    assert (await fresh(sapa["operator"], report.id)).escalation == "province"
    steps = [e for e in await events(sapa["operator"], report.id) if e.action == "ESCALATE"]
    assert [(e.data["escalation"], e.data["automatic"], e.public) for e in steps] == [
        ("locality", True, False),
        ("province", True, False),
    ]
    await run_once(province_at + timedelta(days=3), ["sa-pa"])  # nothing above the province
    assert (
        len([e for e in await events(sapa["operator"], report.id) if e.action == "ESCALATE"]) == 2
    )

    # The queues, as the locality leader and as the province (naming the tenant).
    stop_clock(time_machine, province_at + timedelta(minutes=2))
    tenant = sapa["tenant"]
    leader = await access_token(settings, await scope_of(pilot, "sapa.locality-leader"))
    province_user = await user_named("tinh.admin")
    province = await access_token(settings, await store.scope_for(province_user.id, tenant.id))
    made = report.created_at
    assert report.code in await queue(gql, leader, "PROVINCE", made)
    assert report.code not in await queue(gql, leader, "LOCALITY", made)
    assert report.code in await queue(gql, province, "PROVINCE", made)
    # A citizen's token reads no queue of staff.
    citizen = await access_token(settings, sapa["citizen"])
    refused = await gql(QUEUE, {"l": ["PROVINCE"]}, citizen)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_escalate_on_demand_one_level_at_a_time(
    gql: GraphQLClient, sapa: dict[str, Any], pilot: dict[str, Any]
) -> None:
    report = await submit(sapa)
    password = pilot["password"]
    tokens = {
        name: await gql.login(f"sapa.{name}", password)
        for name in ("centre-supervisor", "locality-leader", "handler", "citizen")
    }
    laocai = await gql.login("laocai.intake-operator", password)

    async def escalate(token: str, version: int, comment: str = "Quá hạn nhiều lần.") -> Any:
        body = await gql(ESCALATE, {"i": {"id": gid("Report", report.id), "version": version,
                                          "comment": comment}}, token)  # fmt: skip
        return body

    for name in ("handler", "citizen"):  # no report:assign: refused by the directive
        body = await escalate(tokens[name], report.version)
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", name
    refused = (await escalate(laocai, report.version))["data"]["escalateReport"]
    assert [e["code"] for e in refused["errors"]] == ["NOT_FOUND"]  # another tenant's report
    missing = (await escalate(tokens["centre-supervisor"], report.version, " "))["data"]
    assert [e["code"] for e in missing["escalateReport"]["errors"]] == ["COMMENT_REQUIRED"]
    assert (await fresh(sapa["operator"], report.id)).version == report.version

    first = (await escalate(tokens["centre-supervisor"], report.version))["data"]["escalateReport"]
    assert first["errors"] == [] and first["report"]["escalation"] == "LOCALITY"
    second = (await escalate(tokens["locality-leader"], first["report"]["version"]))["data"]
    assert second["escalateReport"]["report"]["escalation"] == "PROVINCE"
    version = second["escalateReport"]["report"]["version"]
    third = (await escalate(tokens["locality-leader"], version))["data"]["escalateReport"]
    assert [e["code"] for e in third["errors"]] == ["ALREADY_AT_PROVINCE"]
    stale = (await escalate(tokens["centre-supervisor"], report.version))["data"]
    assert [e["code"] for e in stale["escalateReport"]["errors"]] == ["STALE_VERSION"]
    steps = [e for e in await events(sapa["operator"], report.id) if e.action == "ESCALATE"]
    assert [(e.data["escalation"], e.data["automatic"], e.actor_role) for e in steps] == [
        ("locality", False, "centre_supervisor"),
        ("province", False, "locality_leader"),
    ]
