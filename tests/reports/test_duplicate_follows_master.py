"""A duplicate follows its master (issue 12, item 6): its reporter reads the master's code,
state and outcome on their own report, and is told of the master's outcome (the result, a
rejection, a closing) in the master's transaction, through the outbox. Real database."""

from __future__ import annotations

import uuid
from typing import Any

from outbox.models import OutboxMessage
from permissions.session import scoped_transaction
from reports.service import AssignInput, ContactInput, mark_duplicate, submit_report
from reports.workflow import WorkflowAction as A
from tests.conftest import GraphQLClient
from tests.support.services import new_input, step, submit

TRACK = """query($c: String!) { trackReport(trackingCode: $c) { code state
  master { code state outcome resolvedAt } } }"""


async def track(gql: GraphQLClient, code: str) -> dict[str, Any]:
    response = await gql.http.post(
        "/graphql",
        json={"query": TRACK, "variables": {"c": code}},
        headers={"X-Paht-Tenant": "sa-pa"},
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["trackReport"]


async def messages_to(sapa: dict[str, Any], address: str) -> list[OutboxMessage]:
    async with scoped_transaction(sapa["operator"]):
        return await OutboxMessage.filter(recipient=address).order_by("created_at", "id")


async def test_the_duplicates_reporter_follows_the_masters_outcome(
    gql: GraphQLClient, sapa: dict[str, Any]
) -> None:
    master = await submit(sapa)
    caller = f"dup-{uuid.uuid4().hex[:8]}@example.vn"
    operator = sapa["operator"]
    async with scoped_transaction(operator):
        entered = await submit_report(
            operator,
            new_input(sapa, on_behalf=True, contact=ContactInput("Vàng Thị Dua", email=caller)),
        )
    duplicate, tracking = entered.report, entered.tracking_code
    assert tracking is not None
    async with scoped_transaction(operator):
        duplicate = await mark_duplicate(operator, duplicate.id, duplicate.version, master.id)
    before = {m.event_type for m in await messages_to(sapa, caller)}
    assert before == {"report.received", "report.rejected"}  # its own receipt and marking
    seen = await track(gql, tracking)
    assert seen["state"] == "DUPLICATE"
    assert seen["master"] == {"code": master.code, "state": "SUBMITTED", "outcome": None,
                              "resolvedAt": None}  # fmt: skip

    # The master is handled; its intermediate steps are not the duplicate's news.
    master = await step(operator, master, A.ASSIGN, assign=AssignInput(sapa["health"].id))
    master = await step(sapa["contact"], master, A.ACCEPT)
    master = await step(sapa["handler"], master, A.SUBMIT_RESULT, comment="Đã xử phạt.")
    assert {m.event_type for m in await messages_to(sapa, caller)} == before
    master = await step(sapa["supervisor"], master, A.APPROVE_RESULT, reason_code="CANNOT_FIX")
    told = [m for m in await messages_to(sapa, caller) if m.event_type == "report.resolved"]
    assert len(told) == 1
    assert duplicate.code in told[0].subject and master.code not in told[0].body
    seen = await track(gql, tracking)
    assert seen["master"]["state"] == "RESOLVED" and seen["master"]["outcome"] == "CANNOT_FIX"
    assert seen["master"]["resolvedAt"] is not None
    # Closing the master reaches the duplicate's reporter too, once.
    await step(sapa["supervisor"], master, A.CLOSE)
    closed = [m for m in await messages_to(sapa, caller) if m.event_type == "report.closed"]
    assert len(closed) == 1 and duplicate.code in closed[0].subject
