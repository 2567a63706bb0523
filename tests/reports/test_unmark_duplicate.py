"""Un-marking a duplicate (issue 12, item 6): a report marked as a duplicate by mistake goes back
to intake, its link to the master cleared and a new screening clock started. Frozen clock."""

from __future__ import annotations

from typing import Any

import pytest
import time_machine

from core.errors import DomainError, PermissionDenied
from permissions.session import scoped_transaction
from reports.service import mark_duplicate
from reports.workflow import ReportState
from reports.workflow import WorkflowAction as A
from tests.clock import stop_clock, vn
from tests.support.services import events, step, submit


async def test_unmark_duplicate_returns_to_intake(
    sapa: dict[str, Any],
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    stop_clock(time_machine, vn(2026, 3, 11, 9))
    master, report = await submit(sapa), await submit(sapa)
    operator = sapa["operator"]
    async with scoped_transaction(operator):
        marked = await mark_duplicate(operator, report.id, report.version, master.id)
    assert (marked.state, marked.duplicate_of_id) == (ReportState.DUPLICATE, master.id)
    with pytest.raises(DomainError) as bare:
        await step(operator, marked, A.UNMARK_DUPLICATE)
    assert bare.value.code == "COMMENT_REQUIRED"
    with pytest.raises(PermissionDenied):
        await step(sapa["citizen"], marked, A.UNMARK_DUPLICATE, comment="Không trùng.")
    stop_clock(time_machine, vn(2026, 3, 11, 14))
    back = await step(operator, marked, A.UNMARK_DUPLICATE, comment="Khác địa điểm.")
    assert (back.state, back.duplicate_of_id, back.closed_at) == (ReportState.SUBMITTED, None, None)
    assert back.screen_due_at == vn(2026, 3, 12, 8, 30)  # 4 working hours: 3 h, then 1 h Thursday
    last = (await events(operator, report.id))[-1]
    assert (last.action, last.from_state, last.public) == ("UNMARK_DUPLICATE", "DUPLICATE", True)
