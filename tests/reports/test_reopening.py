"""Reopening that works (issue 12, item 5): the 15-day window from the approved result is
enforced, the 7-day auto-close does not cut it short, and a rating of 1-2 goes to the centre's
review queue instead of closing. Frozen clock throughout (Sa Pa's default calendar)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine

from core.errors import DomainError
from permissions.session import scoped_transaction
from reports.jobs import run_once
from reports.models import Report
from reports.queries import ReportFilter, visible_reports
from reports.workflow import REOPEN_WINDOW, ReportState
from reports.workflow import WorkflowAction as A
from tests.clock import stop_clock, vn
from tests.support.services import (
    events,
    fresh,
    in_progress,
    step,
)

Clock = time_machine.TimeMachineFixture
APPROVED = vn(2026, 3, 18, 9)  # Wednesday


async def resolved(sapa: dict[str, Any], clock: Clock) -> Report:
    stop_clock(clock, APPROVED - timedelta(days=5))
    report = await in_progress(sapa)
    report = await step(sapa["handler"], report, A.SUBMIT_RESULT, comment="Đã xử lý.")
    stop_clock(clock, APPROVED)
    report = await step(sapa["supervisor"], report, A.APPROVE_RESULT, reason_code="FIXED")
    assert report.state == ReportState.RESOLVED and report.resolved_at == APPROVED
    return report


async def reopen(sapa: dict[str, Any], report: Report, who: str = "citizen") -> Report:
    return await step(sapa[who], report, A.REOPEN, comment="Vẫn còn vi phạm.")


async def test_reopen_after_auto_close_inside_the_window(
    sapa: dict[str, Any],
    time_machine: Clock,
) -> None:
    report = await resolved(sapa, time_machine)
    # Day 8: the rating window has passed; the job closes it.
    stats = await run_once(APPROVED + timedelta(days=8), tenant_codes=["sa-pa"])
    assert stats.closed >= 1
    closed = await fresh(sapa["operator"], report.id)
    assert closed.state == ReportState.CLOSED and closed.closed_at is not None
    # Day 14: the citizen may still reopen; the report is open again, screened anew.
    stop_clock(time_machine, APPROVED + timedelta(days=14))
    reopened = await reopen(sapa, closed)
    assert reopened.state == ReportState.REOPENED and reopened.closed_at is None
    assert reopened.screen_due_at is not None and reopened.screen_due_at > reopened.updated_at
    last = (await events(sapa["operator"], report.id))[-1]
    assert (last.action, last.from_state, last.to_state) == ("REOPEN", "CLOSED", "REOPENED")


@pytest.mark.parametrize("who", ["citizen", "operator"])
@pytest.mark.parametrize("closed_first", [False, True], ids=["resolved", "auto-closed"])
async def test_reopen_outside_the_window_is_refused(
    sapa: dict[str, Any],
    time_machine: Clock,
    who: str,
    closed_first: bool,
) -> None:
    report = await resolved(sapa, time_machine)
    if closed_first:
        await run_once(APPROVED + timedelta(days=8), tenant_codes=["sa-pa"])
        report = await fresh(sapa["operator"], report.id)
    stop_clock(time_machine, APPROVED + REOPEN_WINDOW + timedelta(minutes=1))
    with pytest.raises(DomainError) as refused:
        await reopen(sapa, report, who)
    assert refused.value.code == "WINDOW_CLOSED"
    assert "15" in refused.value.details[0].message_vi
    after = await fresh(sapa["operator"], report.id)
    assert (after.state, after.version) == (report.state, report.version)
    # At the last moment of the window it still works.
    stop_clock(time_machine, APPROVED + REOPEN_WINDOW)
    assert (await reopen(sapa, after, who)).state == ReportState.REOPENED


async def test_low_rating_goes_to_the_review_queue_not_closed(
    sapa: dict[str, Any],
    time_machine: Clock,
) -> None:
    low, fine = await resolved(sapa, time_machine), await resolved(sapa, time_machine)
    stop_clock(time_machine, APPROVED + timedelta(days=1))
    low = await step(sapa["citizen"], low, A.RATE, rating=2, comment="Chưa sạch.")
    fine = await step(sapa["citizen"], fine, A.RATE, rating=3)
    assert (low.state, low.rating, low.closed_at) == (ReportState.RATING_REVIEW, 2, None)
    assert fine.state == ReportState.CLOSED
    last = (await events(sapa["operator"], low.id))[-1]
    assert (last.action, last.to_state, last.public) == (
        "RATE_DISSATISFIED",
        "RATING_REVIEW",
        True,
    )
    # The auto-close never takes it out of the queue.
    await run_once(APPROVED + timedelta(days=10), tenant_codes=["sa-pa"])
    assert (await fresh(sapa["operator"], low.id)).state == ReportState.RATING_REVIEW
    # The centre's queue is the state filter.
    operator = sapa["operator"]
    async with scoped_transaction(operator):
        queue = ReportFilter(states=(ReportState.RATING_REVIEW,)).apply(visible_reports(operator))
        ids = set(await queue.values_list("id", flat=True))
    assert low.id in ids and fine.id not in ids
    # The centre closes it with a reason, or reopens it for another round.
    stop_clock(time_machine, APPROVED + timedelta(days=11))
    with pytest.raises(DomainError) as bare:
        await step(operator, await fresh(operator, low.id), A.CLOSE)
    assert bare.value.code == "COMMENT_REQUIRED"
    again = await reopen(sapa, await fresh(operator, low.id), "operator")
    assert again.state == ReportState.REOPENED


async def test_a_close_decided_after_review_is_not_reopened(
    sapa: dict[str, Any], time_machine: Clock
) -> None:
    """The centre closed a low-rated report with its reason: the citizen (or an operator) cannot
    undo that decision by reopening, even inside the window; a routine close can be reopened."""
    report = await resolved(sapa, time_machine)
    rated = await step(sapa["citizen"], report, A.RATE, rating=1, comment="Chưa xử lý.")
    assert rated.state == ReportState.RATING_REVIEW
    closed = await step(
        sapa["supervisor"], rated, A.CLOSE, reason_code="EXPLAINED", comment="Đã giải thích."
    )
    stop_clock(time_machine, APPROVED + timedelta(days=2))
    for who in ("citizen", "operator"):
        with pytest.raises(DomainError) as refused:
            await reopen(sapa, closed, who)
        assert refused.value.code == "CLOSED_BY_DECISION", who
    assert (await fresh(sapa["operator"], report.id)).version == closed.version
    # A routine close of a resolved report (no review) stays reopenable within the window.
    other = await resolved(sapa, time_machine)
    routine = await step(sapa["supervisor"], other, A.CLOSE)
    stop_clock(time_machine, APPROVED + timedelta(days=2))
    assert (await reopen(sapa, routine)).state == ReportState.REOPENED
