"""Hand-off inside an agency (issue 12, item 1): the contact gives the report to a named officer
of the lead agency, reassigning is recorded with who had it before, and only staff see the
assignee. Against the real database, frozen clock."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from core.errors import DomainError, PermissionDenied
from permissions.session import scoped_transaction
from reports.service import AssignInput, hand_off
from reports.workflow import WorkflowAction as A
from tests.clock import stop_clock, vn
from tests.conftest import GraphQLClient
from tests.support.services import (
    events,
    fresh,
    in_progress,
    scope_of,
    step,
)

MINE = """query($t: String!) { reports(first: 5, filter: {assignedToMe: true, text: $t}) {
  edges { node { code } } } }"""


async def test_hand_off_then_reassign_is_recorded(
    sapa: dict[str, Any],
    pilot: dict[str, Any],
    gql: GraphQLClient,
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    stop_clock(time_machine, vn(2026, 3, 11, 9))
    report = await in_progress(sapa)
    contact, handler = sapa["contact"], sapa["handler"]
    leader = await scope_of(pilot, "sapa.agency-leader")

    async def give(scope: Any, version: int, officer: Any, comment: str | None = None) -> Any:
        async with scoped_transaction(scope):
            return await hand_off(scope, report.id, version, officer, comment)

    given = await give(contact, report.version, handler.user_id, "Anh Minh xử lý.")
    assert given.assignee_user_id == handler.user_id and given.version == report.version + 1
    assert given.state == report.state
    tokens = {
        n: await gql.login(f"sapa.{n}", pilot["password"]) for n in ("handler", "agency-leader")
    }

    async def mine(who: str) -> list[str]:
        found = await gql.ok(MINE, {"t": report.code}, token=tokens[who])
        return [e["node"]["code"] for e in found["reports"]["edges"]]

    assert (await mine("handler"), await mine("agency-leader")) == ([report.code], [])
    again = await give(contact, given.version, leader.user_id)
    assert again.assignee_user_id == leader.user_id
    assert (await mine("handler"), await mine("agency-leader")) == ([], [report.code])
    handoffs = [e for e in await events(sapa["operator"], report.id) if e.action == "HAND_OFF"]
    pairs = [(e.data["previous_assignee_user_id"], e.data["assignee_user_id"]) for e in handoffs]
    assert pairs == [
        (None, str(handler.user_id)),
        (str(handler.user_id), str(leader.user_id)),
    ]
    assert [e.public for e in handoffs] == [False, False]  # the reporter never sees officers
    assert handoffs[0].comment == "Anh Minh xử lý." and handoffs[0].actor_role == "agency_contact"
    # Refusals change nothing.
    for scope, officer, code in (
        (contact, leader.user_id, "NO_CHANGE"),
        (contact, sapa["citizen"].user_id, "NOT_AN_OFFICER"),  # not an officer of the agency
        (contact, sapa["operator"].user_id, "NOT_AN_OFFICER"),  # the centre's, not the agency's
    ):
        with pytest.raises(DomainError) as refused:
            await give(scope, again.version, officer)
        assert (refused.value.code, refused.value.field) == (code, "officerId")
    with pytest.raises(PermissionDenied):
        await give(handler, again.version, handler.user_id)  # an officer does not hand off
    with pytest.raises(PermissionDenied):
        await give(sapa["operator"], again.version, handler.user_id)  # nor the centre
    assert (await fresh(sapa["operator"], report.id)).version == again.version


async def test_a_reroute_lets_the_previous_agencys_officer_go(
    sapa: dict[str, Any], time_machine: time_machine.TimeMachineFixture
) -> None:
    """The officer belongs to the agency that held the report: once it leads no more, nobody
    of it is the assignee (found in review: the assignee used to survive a re-route)."""
    stop_clock(time_machine, vn(2026, 3, 11, 9))
    report = await in_progress(sapa)
    async with scoped_transaction(sapa["contact"]):
        given = await hand_off(sapa["contact"], report.id, report.version, sapa["handler"].user_id)
    assert given.assignee_user_id == sapa["handler"].user_id
    moved = await step(
        sapa["operator"], given, A.REROUTE, comment="Thuộc Phòng Quản lý đô thị.",
        assign=AssignInput(sapa["urban"].id),
    )  # fmt: skip
    assert moved.lead_agency_id == sapa["urban"].id and moved.assignee_user_id is None
