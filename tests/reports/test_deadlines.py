"""Deadlines of the workflow on a stopped clock, through the services and the real database.

Each test runs at the office-hour edges (07:29, 11:31, 15:59, 16:59) of a plain working
Wednesday and of the eve of the 30/4 holidays; tests/clock.py has the instants and the deadlines
worked out by hand on Sa Pa's calendar (the default one). The field is food safety: normal
urgency, not quick-fix, so screening and review take 4 working hours, acceptance 8 and
resolution 5 working days."""

from __future__ import annotations

from datetime import UTC, timedelta
from typing import Any

import pytest
import time_machine

from reports.models import Report
from reports.service import AssignInput
from reports.workflow import WorkflowAction as A
from tests.clock import MOMENTS, Moment, moment_id, on, stop_clock, vn
from tests.support.services import events, sapa_env, step, submit

by_moment = pytest.mark.parametrize("moment", MOMENTS, ids=moment_id)
Clock = time_machine.TimeMachineFixture


@pytest.fixture
async def sapa(pilot: dict[str, Any]) -> dict[str, Any]:
    return await sapa_env(pilot)


async def in_progress(sapa: dict[str, Any]) -> Report:
    """Submitted, assigned to the health office and accepted, all at the clock's instant."""
    report = await submit(sapa)
    report = await step(sapa["operator"], report, A.ASSIGN, assign=AssignInput(sapa["health"].id))
    return await step(sapa["contact"], report, A.ACCEPT)


@by_moment
async def test_each_step_reads_the_clock_once(
    sapa: dict[str, Any], moment: Moment, time_machine: Clock
) -> None:
    """Every step at the stopped instant: its created_at, its event's time, its deadline by hand.
    (A stopped clock cannot tell two readings apart; the running-clock test below can.)"""
    stop_clock(time_machine, moment.at)
    report = await submit(sapa)
    assert (report.created_at, report.screen_due_at) == (moment.at, moment.plus_4_working_hours)
    report = await step(sapa["operator"], report, A.ASSIGN, assign=AssignInput(sapa["health"].id))
    assert report.accept_due_at == moment.plus_8_working_hours
    report = await step(sapa["contact"], report, A.ACCEPT)
    assert report.resolve_due_at == moment.plus_5_working_days
    report = await step(sapa["handler"], report, A.SUBMIT_RESULT, comment="Đã xử lý.")
    assert report.review_due_at == moment.plus_4_working_hours
    assert report.due_at == report.review_due_at and report.updated_at == moment.at
    history = await events(sapa["operator"], report.id)
    assert [(e.action, e.created_at) for e in history] == [
        ("SUBMIT", moment.at),
        ("ASSIGN", moment.at),
        ("ACCEPT", moment.at),
        ("SUBMIT_RESULT", moment.at),
    ]


async def test_one_reading_of_a_running_clock_per_step(
    sapa: dict[str, Any], time_machine: Clock
) -> None:
    """On a clock that runs (from Wednesday 09:00), a deadline taken from one reading and
    created_at from another would be short by the time between them."""
    time_machine.move_to(vn(2026, 3, 11, 9).astimezone(UTC), tick=True)
    report = await submit(sapa)
    assert vn(2026, 3, 11, 9) <= report.created_at < vn(2026, 3, 11, 9, 1)
    # 4 working hours from 09:00:ss.µs end at 15:00:ss.µs (2.5 h, lunch, 1.5 h): 6 h later.
    assert report.screen_due_at - report.created_at == timedelta(hours=6)
    report = await step(sapa["operator"], report, A.ASSIGN, assign=AssignInput(sapa["health"].id))
    submitted, assigned = await events(sapa["operator"], report.id)
    assert submitted.created_at == report.created_at
    # 8 working hours: 6 h on Wednesday, 07:30-09:30 on Thursday: 24.5 h later.
    assert report.accept_due_at - assigned.created_at == timedelta(hours=24, minutes=30)


@by_moment
async def test_rework_gives_the_review_time_back(
    sapa: dict[str, Any], moment: Moment, time_machine: Clock
) -> None:
    """Accepted at 09:00 two working days before; the result went in at 09:00 the day before and
    the centre asks for rework at ``moment``: the time the result waited for review does not
    count against the agency, so the resolve deadline moves by that much working time.

    Kills the removal of the review-time credit: the deadline would stay where it was."""
    day = moment.day
    stop_clock(time_machine, on(day.two_before, 9))
    report = await in_progress(sapa)
    assert report.resolve_due_at == day.resolve_from_two_before
    stop_clock(time_machine, on(day.one_before, 9))
    report = await step(sapa["handler"], report, A.SUBMIT_RESULT, comment="Đã xử lý.")
    stop_clock(time_machine, moment.at)
    report = await step(sapa["supervisor"], report, A.REQUEST_REWORK, comment="Thiếu ảnh.")
    assert (report.state, report.review_due_at) == ("IN_PROGRESS", None)
    assert report.resolve_due_at == moment.resolve_pushed
    assert report.due_at == moment.resolve_pushed
    # The floor (one working day from now) is earlier: the credit alone decided.
    assert moment.next_working_day_end < moment.resolve_pushed


@by_moment
async def test_rework_leaves_at_least_one_working_day(
    sapa: dict[str, Any], moment: Moment, time_machine: Clock
) -> None:
    """Accepted five working days before ``moment``'s day, so resolution is due at 17:00 that
    day. The result goes in at ``moment`` and the rework is asked a minute later: at most a
    minute of review time to give back, yet the agency keeps one working day.

    Kills the removal of the one-working-day floor: the deadline would be that day's 17:00, or
    07:31 on the next working day."""
    day = moment.day
    stop_clock(time_machine, on(day.five_before, 9))
    report = await in_progress(sapa)
    assert report.resolve_due_at == on(day.date, 17)
    stop_clock(time_machine, moment.at)
    report = await step(sapa["handler"], report, A.SUBMIT_RESULT, comment="Đã xử lý.")
    stop_clock(time_machine, moment.at + timedelta(minutes=1))
    report = await step(sapa["supervisor"], report, A.REQUEST_REWORK, comment="Thiếu ảnh.")
    assert report.resolve_due_at == moment.next_working_day_end
    assert report.due_at == moment.next_working_day_end


async def test_rework_after_the_deadline_still_leaves_one_working_day(
    sapa: dict[str, Any], time_machine: Clock
) -> None:
    """A result posted after the deadline earns no review credit (the stage was late already);
    the rework still leaves one working day, counted from the rework."""
    stop_clock(time_machine, vn(2026, 3, 4, 9))
    report = await in_progress(sapa)
    assert report.resolve_due_at == vn(2026, 3, 11, 17)  # Thu 5, Fri 6, Mon 9, Tue 10, Wed 11
    stop_clock(time_machine, vn(2026, 3, 12, 10))  # a day late
    report = await step(sapa["handler"], report, A.SUBMIT_RESULT, comment="Đã xử lý.")
    stop_clock(time_machine, vn(2026, 3, 16, 9))  # reviewed on Monday
    report = await step(sapa["supervisor"], report, A.REQUEST_REWORK, comment="Thiếu ảnh.")
    assert report.resolve_due_at == vn(2026, 3, 17, 17)
