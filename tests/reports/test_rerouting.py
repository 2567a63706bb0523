"""Re-routing (issue 12, item 2): the centre moves an ASSIGNED or IN_PROGRESS report to another
lead agency with a reason (a new accept clock for the new agency; the old one loses it), and
changes the coordinating agencies while an agency holds the report. Frozen clock."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from core.errors import DomainError, PermissionDenied
from permissions.session import scoped_transaction
from reports.service import AssignInput, set_coordinating_agencies
from reports.workflow import ReportState
from reports.workflow import WorkflowAction as A
from tests.clock import stop_clock, vn
from tests.support.services import (
    events,
    fresh,
    in_progress,
    step,
)

Clock = time_machine.TimeMachineFixture


async def test_reroute_in_progress_restarts_the_accept_clock(
    sapa: dict[str, Any],
    time_machine: Clock,
) -> None:
    stop_clock(time_machine, vn(2026, 3, 11, 9))  # Wednesday
    report = await in_progress(sapa)
    operator, urban = sapa["operator"], sapa["urban"]
    # A reason is required, and the new lead must be another agency.
    with pytest.raises(DomainError) as bare:
        await step(operator, report, A.REROUTE, assign=AssignInput(urban.id))
    assert bare.value.code == "COMMENT_REQUIRED"
    with pytest.raises(DomainError) as same:
        await step(operator, report, A.REROUTE, comment="x", assign=AssignInput(sapa["health"].id))
    assert (same.value.code, same.value.field) == ("SAME_AGENCY", "leadAgencyId")
    # The agency itself cannot move it (it returns it instead).
    with pytest.raises(PermissionDenied):
        await step(sapa["contact"], report, A.REROUTE, comment="x", assign=AssignInput(urban.id))

    stop_clock(time_machine, vn(2026, 3, 12, 10))  # Thursday 10:00
    moved = await step(
        operator, report, A.REROUTE, comment="Thuộc Phòng Quản lý đô thị.",
        assign=AssignInput(urban.id),
    )  # fmt: skip
    assert moved.state == ReportState.ASSIGNED and moved.lead_agency_id == urban.id
    # 8 working hours from Thursday 10:00: 1.5 h + 3.5 h, then 3 h on Friday: 10:30.
    assert moved.accept_due_at == vn(2026, 3, 13, 10, 30)
    last = (await events(operator, report.id))[-1]
    assert (last.action, last.from_state, last.to_state) == ("REROUTE", "IN_PROGRESS", "ASSIGNED")
    assert last.data["lead_agency_id"] == str(urban.id) and last.public is False
    # The health office's contact no longer reaches it.
    with pytest.raises(PermissionDenied):
        await step(sapa["contact"], moved, A.ACCEPT)


async def test_coordinating_agencies_added_and_removed_later(
    sapa: dict[str, Any],
    time_machine: Clock,
) -> None:
    stop_clock(time_machine, vn(2026, 3, 11, 9))
    report = await in_progress(sapa)
    operator, urban = sapa["operator"], sapa["urban"]

    async def change(scope: Any, version: int, ids: list[Any], comment: str | None = None) -> Any:
        async with scoped_transaction(scope):
            return await set_coordinating_agencies(scope, report.id, version, ids, comment)

    added = await change(operator, report.version, [urban.id], "Cần đo đạc hiện trường.")
    assert added.coordinating_agency_ids == [urban.id] and added.version == report.version + 1
    assert added.state == ReportState.IN_PROGRESS and added.lead_agency_id == report.lead_agency_id
    last = (await events(operator, report.id))[-1]
    assert (last.action, last.data["added"], last.data["removed"]) == (
        "SET_COORDINATORS",
        [str(urban.id)],
        [],
    )
    for ids, code in (
        ([urban.id], "NO_CHANGE"),
        ([sapa["health"].id], "LEAD_NOT_COORDINATING"),
    ):
        with pytest.raises(DomainError) as refused:
            await change(operator, added.version, ids)
        assert refused.value.code == code
    with pytest.raises(DomainError) as stale:
        await change(operator, report.version, [])
    assert stale.value.code == "STALE_VERSION"
    with pytest.raises(PermissionDenied):
        await change(sapa["handler"], added.version, [])
    removed = await change(operator, added.version, [])
    assert removed.coordinating_agency_ids == []
    assert (await events(operator, report.id))[-1].data["removed"] == [str(urban.id)]
    # Not once the result is approved.
    done = await step(sapa["handler"], removed, A.SUBMIT_RESULT, comment="Xong.")
    done = await step(sapa["supervisor"], done, A.APPROVE_RESULT, reason_code="FIXED")
    with pytest.raises(DomainError) as late:
        await change(operator, done.version, [urban.id])
    assert late.value.code == "INVALID_STATE"
    assert (await fresh(operator, report.id)).coordinating_agency_ids == []
