"""Urgent reports answer twice (docs/domain.md §4): the first response within 4 hours, 24/7,
then the full result within one working day of the acceptance. On a stopped clock, deadlines
worked out by hand on Sa Pa's (default) calendar: Monday-Friday, offices close at 17:00."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
import time_machine

from permissions.scope import Scope
from permissions.session import scoped_transaction
from reports.models import ReportEvent
from reports.service import add_comment
from reports.workflow import WorkflowAction as A
from tests.clock import stop_clock, vn
from tests.support.services import fresh, in_progress, sapa_env, step

Clock = time_machine.TimeMachineFixture


@pytest.fixture
async def sapa(pilot: dict[str, Any]) -> dict[str, Any]:
    return await sapa_env(pilot)


async def comment(scope: Scope, report_id: Any, text: str, public: bool) -> ReportEvent:
    async with scoped_transaction(scope):
        return await add_comment(scope, report_id, text, public)


async def test_first_public_answer_moves_the_deadline_to_the_full_result(
    sapa: dict[str, Any], time_machine: Clock
) -> None:
    # Accepted Wednesday 11/3/2026 15:59: the first response is due 19:59 the same evening.
    stop_clock(time_machine, vn(2026, 3, 11, 15, 59))
    report = await in_progress(sapa, urgency="urgent")
    assert report.resolve_due_at == vn(2026, 3, 11, 19, 59)
    # An internal note and the reporter's own comment are not the agency's answer.
    stop_clock(time_machine, vn(2026, 3, 11, 16, 30))
    await comment(sapa["handler"], report.id, "Ghi chú nội bộ.", False)
    await comment(sapa["citizen"], report.id, "Vẫn còn nguy hiểm.", True)
    assert (await fresh(sapa["operator"], report.id)).resolve_due_at == vn(2026, 3, 11, 19, 59)
    # The handler answers publicly at 18:10: the full result is due Thursday 12/3 17:00.
    stop_clock(time_machine, vn(2026, 3, 11, 18, 10))
    event = await comment(sapa["handler"], report.id, "Đã cử người đến hiện trường.", True)
    after = await fresh(sapa["operator"], report.id)
    assert after.resolve_due_at == vn(2026, 3, 12, 17, 0)
    assert after.due_at == after.resolve_due_at  # the running deadline follows
    assert after.version == report.version + 1
    assert event.data["first_response"] is True and event.data["first_response_late"] is False
    previous = datetime.fromisoformat(event.data["previous_resolve_due_at"])
    assert previous == vn(2026, 3, 11, 19, 59)
    # A second public answer moves nothing.
    stop_clock(time_machine, vn(2026, 3, 12, 9, 0))
    second = await comment(sapa["handler"], report.id, "Đang khắc phục.", True)
    again = await fresh(sapa["operator"], report.id)
    assert (again.resolve_due_at, again.version) == (after.resolve_due_at, after.version)
    assert not (second.data or {}).get("first_response")


async def test_late_first_response_at_the_weekend(
    sapa: dict[str, Any], time_machine: Clock
) -> None:
    # Accepted Friday 13/3 23:00: first response due Saturday 03:00 (calendar time, 24/7).
    stop_clock(time_machine, vn(2026, 3, 13, 23, 0))
    report = await in_progress(sapa, urgency="urgent")
    assert report.resolve_due_at == vn(2026, 3, 14, 3, 0)
    # Answered late, Saturday 08:00: the full result is due Monday 16/3 17:00.
    stop_clock(time_machine, vn(2026, 3, 14, 8, 0))
    event = await comment(sapa["handler"], report.id, "Đã tiếp nhận, đang xử lý.", True)
    assert event.data["first_response_late"] is True
    assert (await fresh(sapa["operator"], report.id)).resolve_due_at == vn(2026, 3, 16, 17, 0)


async def test_result_within_the_four_hours_and_normal_reports_unchanged(
    sapa: dict[str, Any], time_machine: Clock
) -> None:
    stop_clock(time_machine, vn(2026, 3, 11, 9, 0))
    urgent = await in_progress(sapa, urgency="urgent")
    stop_clock(time_machine, vn(2026, 3, 11, 12, 0))
    done = await step(sapa["handler"], urgent, A.SUBMIT_RESULT, comment="Đã xử lý xong.")
    assert done.resolve_due_at == vn(2026, 3, 11, 13, 0)  # met before the first deadline
    normal = await in_progress(sapa)
    assert normal.resolve_due_at == vn(2026, 3, 18, 17, 0)  # 5 working days
    await comment(sapa["handler"], normal.id, "Đã tiếp nhận.", True)
    assert (await fresh(sapa["operator"], normal.id)).resolve_due_at == vn(2026, 3, 18, 17, 0)
