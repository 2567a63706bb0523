"""Reminders at 50 %, 80 % and at the breach of a running deadline, each once, to the right
people (handler → agency leader → centre)."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from permissions.scope import Scope
from permissions.session import scoped_transaction
from permissions.store import store
from reports.jobs import run_once
from reports.models import Report, ReportEvent
from reports.service import AssignInput, SubmitInput, submit_report, transition
from reports.workflow import WorkflowAction as A
from tenants.calendar import WorkingCalendar
from tenants.models import Field
from tests.conftest import GraphQLClient
from tests.factories import user_named

# The largest page: one pass also reminds of every other overdue report the suite left in Sa Pa,
# all at the same instant, so this report's notices need not be among the newest 50.
# About the one report: the shared Sa Pa accounts hold more than a page after the whole suite.
INBOX = """query($r: ID) { myNotifications(first: 200, reportId: $r) {
  id kind message reportId createdAt } }"""


async def scope_of(username: str, tenant_id: uuid.UUID) -> Scope:
    return await store.scope_for((await user_named(username)).id, tenant_id)


async def test_reminders_escalate_once_each(gql: GraphQLClient, pilot: dict[str, Any]) -> None:
    tenant = pilot["tenants"]["sa-pa"]
    names = ("citizen", "intake-operator", "agency-contact")
    scopes = {n: await scope_of(f"sapa.{n}", tenant.id) for n in names}
    async with scoped_transaction(scopes["intake-operator"]):
        food = await Field.get(tenant_id=tenant.id, code="ve-sinh-attp")
    async with scoped_transaction(scopes["citizen"]):
        report = (
            await submit_report(
                scopes["citizen"],
                SubmitInput(
                    title="Nhắc hạn kiểm thử",
                    description="x",
                    field_id=food.id,
                    latitude=22.332,
                    longitude=103.842,
                    idempotency_key=uuid.uuid4().hex,
                ),
            )
        ).report
    async with scoped_transaction(scopes["intake-operator"]):
        report = await transition(
            scopes["intake-operator"],
            report.id,
            A.ASSIGN,
            report.version,
            assign=AssignInput(lead_agency_id=food.default_agency_id),
        )
    async with scoped_transaction(scopes["agency-contact"]):
        report = await transition(scopes["agency-contact"], report.id, A.ACCEPT, report.version)
        report = await Report.get(id=report.id)
        event = await ReportEvent.filter(report_id=report.id, action="ACCEPT").first()
    assert report.state == "IN_PROGRESS" and report.due_at == report.resolve_due_at
    assert event is not None
    accepted, due = event.created_at, report.resolve_due_at
    # Fractions are of working time on the tenant's calendar (Sa Pa keeps the default one).
    calendar = WorkingCalendar()
    total = calendar.working_time_between(accepted, due)
    password = pilot["password"]
    handler = await gql.login("sapa.handler", password)
    leader = await gql.login("sapa.agency-leader", password)
    supervisor = await gql.login("sapa.centre-supervisor", password)
    gid = (
        await gql.ok(
            "query($c: String!) { reportByCode(code: $c) { id } }",
            {"c": report.code},
            token=supervisor,
        )
    )["reportByCode"]["id"]

    async def inbox(token: str) -> list[str]:
        rows = (await gql.ok(INBOX, {"r": gid}, token=token))["myNotifications"]
        assert {n["reportId"] for n in rows} <= {gid}  # the filter holds
        return sorted(n["kind"] for n in rows)

    assert await inbox(handler) == []
    assert (
        await run_once(calendar.add_working_time(accepted, total * 0.4), tenant_codes=["sa-pa"])
    ).errors == []
    assert await inbox(handler) == []  # 40 %: nothing yet
    halfway = calendar.add_working_time(accepted, total * 0.6)
    assert (await run_once(halfway, tenant_codes=["sa-pa"])).reminded >= 1
    assert await inbox(handler) == ["DUE_HALF"]
    assert await inbox(leader) == []
    # Dated by the pass that sent it (not by the database's clock).
    [half] = [n for n in (await gql.ok(INBOX, {"r": gid}, token=handler))["myNotifications"]]
    assert datetime.fromisoformat(half["createdAt"]) == halfway
    # 85 %: past the 80 % threshold (and short of 90 %, so the threshold itself is pinned).
    await run_once(calendar.add_working_time(accepted, total * 0.85), tenant_codes=["sa-pa"])
    assert await inbox(leader) == ["DUE_SOON"]
    later = await run_once(due + timedelta(hours=1), tenant_codes=["sa-pa"])
    assert not later.errors
    assert await inbox(supervisor) == ["OVERDUE"]
    await run_once(due + timedelta(hours=2), tenant_codes=["sa-pa"])  # nothing new: once each
    assert await inbox(handler) == ["DUE_HALF"] and await inbox(leader) == ["DUE_SOON"]
    assert await inbox(supervisor) == ["OVERDUE"]
    # Another tenant's staff never see these.
    laocai = await gql.login("laocai.centre-supervisor", password)
    assert await inbox(laocai) == []
    # Read receipts.
    ids = [n["id"] for n in (await gql.ok(INBOX, {"r": gid}, token=handler))["myNotifications"]]
    marked = await gql.ok(
        "mutation($i: MarkNotificationsReadInput!) { markNotificationsRead(input: $i) { marked } }",
        {"i": {"ids": ids}},
        token=handler,
    )
    assert marked["markNotificationsRead"]["marked"] == 1
    assert await inbox(handler) == []


def test_a_reminder_follows_the_grant_of_its_role() -> None:
    """Handler in agency A and leader in agency B: leader reminders of A are not theirs."""
    from types import MappingProxyType

    from permissions.scope import Reach
    from reports.models import Notification
    from reports.reminders import addressed_to

    a, b, field = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    scope = Scope(
        user_id=uuid.uuid4(),
        tenant_id=uuid.uuid4(),
        roles=frozenset({"handler", "agency_leader"}),
        role_reach=MappingProxyType(
            {
                "handler": frozenset({Reach(agency_id=a)}),
                "agency_leader": frozenset({Reach(agency_id=b, field_id=field)}),
            }
        ),
    )

    def reminder(audience: str, agency: uuid.UUID, field_id: uuid.UUID) -> Notification:
        return Notification(audience=audience, agency_id=agency, field_id=field_id)

    assert addressed_to(scope, reminder("handler", a, uuid.uuid4()))
    assert not addressed_to(scope, reminder("agency_leader", a, field))
    assert addressed_to(scope, reminder("agency_leader", b, field))
    assert not addressed_to(scope, reminder("agency_leader", b, uuid.uuid4()))  # other field
    assert not addressed_to(scope, reminder("centre_supervisor", b, field))
