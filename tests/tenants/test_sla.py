"""SLA table and deadline arithmetic (docs/domain.md §4). Expected values are computed by hand from
the default calendar: Mon-Fri 07:30-11:30 and 13:30-17:00, Asia/Ho_Chi_Minh, Vietnamese holidays."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from core import clock
from core.errors import DomainError
from tenants.calendar import WorkingCalendar
from tenants.sla import (
    DEFAULT_SLA_RULES,
    DUE_SOON_FRACTION,
    QUICK_FIX_RESOLVE_DAYS,
    DurationUnit,
    SlaDuration,
    SlaRule,
    SlaTable,
    Stage,
    Urgency,
    compute_due,
    default_sla_table,
    extend_due_for_pause,
    fraction_used,
    quick_fix_rules,
)
from tests.clock import MOMENTS, Moment, moment_id, on, stop_clock

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = WorkingCalendar()
MIN, WH, WD = DurationUnit.CALENDAR_MINUTES, DurationUnit.WORKING_HOURS, DurationUnit.WORKING_DAYS
U, N, C = Urgency.URGENT, Urgency.NORMAL, Urgency.COMPLEX


def vn(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=VN)


def test_enum_values_are_the_stored_strings() -> None:
    assert [s.value for s in Stage] == ["screen", "accept", "resolve", "review"]
    assert [u.value for u in Urgency] == ["urgent", "normal", "complex"]
    assert [u.value for u in DurationUnit] == ["calendar_minutes", "working_hours", "working_days"]
    assert Stage("screen") is Stage.SCREEN and Stage.SCREEN == "screen"


# ------------------------------------------------------------------------------ the table


@pytest.mark.parametrize(
    ("stage", "urgency", "amount", "unit"),
    [
        (Stage.SCREEN, U, 30, MIN),
        (Stage.SCREEN, N, 4, WH),
        (Stage.SCREEN, C, 4, WH),
        (Stage.ACCEPT, U, 60, MIN),
        (Stage.ACCEPT, N, 8, WH),
        (Stage.ACCEPT, C, 8, WH),
        (Stage.RESOLVE, U, 240, MIN),
        (Stage.RESOLVE, N, 5, WD),
        (Stage.RESOLVE, C, 10, WD),
        (Stage.REVIEW, U, 120, MIN),
        (Stage.REVIEW, N, 4, WH),
        (Stage.REVIEW, C, 1, WD),
    ],
)
def test_default_rules(stage: Stage, urgency: Urgency, amount: int, unit: DurationUnit) -> None:
    rule = SlaTable(DEFAULT_SLA_RULES).rule_for(stage, "any-field", urgency)
    assert rule.duration == SlaDuration(amount, unit)
    assert rule.field_code is None


def test_default_rules_cover_every_stage_and_urgency_once() -> None:
    assert len(DEFAULT_SLA_RULES) == 12
    assert {(r.stage, r.urgency) for r in DEFAULT_SLA_RULES} == {
        (s, u) for s in Stage for u in Urgency
    }


def test_field_specific_rule_wins() -> None:
    table = default_sla_table(["HA_TANG_DO_THI", "VSMT"], version=3)
    assert table.version == 3
    quick = table.rule_for(Stage.RESOLVE, "VSMT", N)
    assert quick.duration == SlaDuration(3, WD) and quick.field_code == "VSMT"
    assert QUICK_FIX_RESOLVE_DAYS == 3
    assert table.rule_for(Stage.RESOLVE, "DU_LICH", N).duration == SlaDuration(5, WD)
    assert table.rule_for(Stage.RESOLVE, None, N).duration == SlaDuration(5, WD)
    # the override touches only normal resolve
    assert table.rule_for(Stage.RESOLVE, "VSMT", C).duration == SlaDuration(10, WD)
    assert table.rule_for(Stage.RESOLVE, "VSMT", U).duration == SlaDuration(240, MIN)


def test_quick_fix_rules_are_deduplicated() -> None:
    rules = quick_fix_rules(["B", "A", "B"])
    assert [r.field_code for r in rules] == ["A", "B"]


def test_missing_rule() -> None:
    table = SlaTable(quick_fix_rules(["VSMT"]))
    with pytest.raises(DomainError) as caught:
        table.rule_for(Stage.SCREEN, "VSMT", N)
    assert caught.value.code == "SLA_RULE_MISSING"


def test_table_config_round_trip() -> None:
    table = default_sla_table(["VSMT"], version=2)
    config = table.to_config()
    assert config[0] == {
        "stage": "screen",
        "urgency": "urgent",
        "field_code": None,
        "amount": 30,
        "unit": "calendar_minutes",
    }
    assert config[-1]["field_code"] == "VSMT"
    assert SlaTable.from_config(config, version=2) == table


def test_empty_config_means_defaults() -> None:
    assert SlaTable.from_config([], version=4) == SlaTable(DEFAULT_SLA_RULES, version=4)


def test_duration_config_round_trip() -> None:
    duration = SlaDuration(8, WH)
    assert duration.to_config() == {"amount": 8, "unit": "working_hours"}
    assert SlaDuration.from_config({"amount": 8, "unit": "working_hours"}) == duration


GOOD = {"stage": "resolve", "urgency": "normal", "amount": 5, "unit": "working_days"}


@pytest.mark.parametrize(
    ("rules", "field"),
    [
        ([{**GOOD, "amount": 0}], "rules[0].amount"),
        ([{**GOOD, "amount": -2}], "rules[0].amount"),
        ([{**GOOD, "amount": "5"}], "rules[0].amount"),
        ([{**GOOD, "amount": True}], "rules[0].amount"),
        ([{**GOOD, "amount": 1.5}], "rules[0].amount"),
        ([GOOD, {**GOOD, "unit": "weeks"}], "rules[1].unit"),
        ([{**GOOD, "stage": "triage"}], "rules[0].stage"),
        ([{**GOOD, "urgency": "low"}], "rules[0].urgency"),
        ([{**GOOD, "field_code": ""}], "rules[0].field_code"),
        ([{"stage": "resolve", "urgency": "normal"}], "rules[0]"),
        (["resolve"], "rules[0]"),
        ([GOOD, dict(GOOD)], "rules[1]"),  # duplicate
        ({"rules": []}, "rules"),
    ],
)
def test_bad_table_config(rules: object, field: str) -> None:
    with pytest.raises(DomainError) as caught:
        SlaTable.from_config(rules)  # type: ignore[arg-type]
    assert caught.value.code == "INVALID_SLA"
    assert caught.value.field == field


def test_bad_version() -> None:
    with pytest.raises(DomainError) as caught:
        SlaTable(DEFAULT_SLA_RULES, version=0)
    assert caught.value.code == "INVALID_SLA"


# ------------------------------------------------------------------------------ deadlines


@pytest.mark.parametrize(
    ("start", "duration", "urgency", "expected"),
    [
        # urgent: calendar time 24/7, across midnight, on a Saturday, never moved
        (vn(2026, 1, 17, 23, 50), SlaDuration(30, MIN), U, vn(2026, 1, 18, 0, 20)),
        (vn(2026, 1, 17, 10), SlaDuration(4, WH), U, vn(2026, 1, 17, 14)),
        (vn(2026, 1, 17, 10), SlaDuration(1, WD), U, vn(2026, 1, 18, 10)),
        (vn(2026, 2, 16, 22), SlaDuration(240, MIN), U, vn(2026, 2, 17, 2)),  # Tết night
        # normal working hours: Fri 15:00 + 4 h -> Mon 09:30
        (vn(2026, 1, 16, 15), SlaDuration(4, WH), N, vn(2026, 1, 19, 9, 30)),
        # 8 working hours from Wed 09:00: 6 h on Wed, 2 h on Thu
        (vn(2026, 1, 14, 9), SlaDuration(8, WH), C, vn(2026, 1, 15, 9, 30)),
        # 5 working days from a Friday afternoon
        (vn(2026, 1, 16, 15), SlaDuration(5, WD), N, vn(2026, 1, 23, 17)),
        # complex 10 working days across Tết: 10..13 Feb (4), 23..27 Feb (9), Mon 2 Mar
        (vn(2026, 2, 9, 9), SlaDuration(10, WD), C, vn(2026, 3, 2, 17)),
        # non-urgent calendar minutes: plain addition on a working day ...
        (vn(2026, 1, 14, 10), SlaDuration(60, MIN), N, vn(2026, 1, 14, 11)),
        # ... moved to the end of the next working day when it lands on a Saturday
        (vn(2026, 1, 16, 23), SlaDuration(120, MIN), N, vn(2026, 1, 19, 17)),
        # ... and during Tết
        (vn(2026, 2, 13, 20), SlaDuration(240, MIN), N, vn(2026, 2, 23, 17)),
    ],
)
def test_compute_due(
    start: datetime, duration: SlaDuration, urgency: Urgency, expected: datetime
) -> None:
    due = compute_due(CAL, start, duration, urgency)
    assert due == expected
    assert due.utcoffset() == timedelta(hours=7)


def test_compute_due_uses_make_up_saturday() -> None:
    cal = WorkingCalendar(extra_working_days=frozenset({date(2026, 1, 17)}))
    assert compute_due(cal, vn(2026, 1, 16, 15), SlaDuration(4, WH), N) == vn(2026, 1, 17, 9, 30)
    assert compute_due(cal, vn(2026, 1, 16, 23), SlaDuration(120, MIN), N) == vn(2026, 1, 17, 1)


# --------------------------------------------------------------------------------- pauses


@pytest.mark.parametrize(
    ("due", "paused_at", "resumed_at", "urgency", "expected"),
    [
        # Wed 10:00-15:00 = 1.5 h + 1.5 h = 3 h; Fri 17:00 + 3 h -> Mon 10:30
        (vn(2026, 1, 23, 17), vn(2026, 1, 21, 10), vn(2026, 1, 21, 15), N, vn(2026, 1, 26, 10, 30)),
        # over a weekend: Fri 16:00-17:00 + Mon 07:30-08:30 = 2 h; Tue 17:00 -> Wed 09:30
        (
            vn(2026, 1, 20, 17),
            vn(2026, 1, 16, 16),
            vn(2026, 1, 19, 8, 30),
            N,
            vn(2026, 1, 21, 9, 30),
        ),
        # paused wholly outside office hours: no working time lost
        (vn(2026, 1, 23, 17), vn(2026, 1, 17, 9), vn(2026, 1, 18, 9), N, vn(2026, 1, 23, 17)),
        # urgent: 15 calendar minutes
        (
            vn(2026, 1, 18, 0, 20),
            vn(2026, 1, 17, 23, 55),
            vn(2026, 1, 18, 0, 10),
            U,
            vn(2026, 1, 18, 0, 35),
        ),
        # pause after the deadline: already late, nothing changes
        (
            vn(2026, 1, 19, 9, 30),
            vn(2026, 1, 19, 10),
            vn(2026, 1, 20, 10),
            N,
            vn(2026, 1, 19, 9, 30),
        ),
        # resumed before paused: ignored
        (vn(2026, 1, 23, 17), vn(2026, 1, 21, 10), vn(2026, 1, 21, 9), N, vn(2026, 1, 23, 17)),
        # paused at the deadline itself: already due, nothing changes (working or calendar time)
        (
            vn(2026, 1, 12, 9, 30),
            vn(2026, 1, 12, 9, 30),
            vn(2026, 1, 13, 10),
            N,
            vn(2026, 1, 12, 9, 30),
        ),
        (
            vn(2026, 1, 11, 0, 20),
            vn(2026, 1, 11, 0, 20),
            vn(2026, 1, 11, 0, 35),
            U,
            vn(2026, 1, 11, 0, 20),
        ),
    ],
)
def test_extend_due_for_pause(
    due: datetime, paused_at: datetime, resumed_at: datetime, urgency: Urgency, expected: datetime
) -> None:
    assert extend_due_for_pause(CAL, due, paused_at, resumed_at, urgency) == expected


def test_pause_keeps_the_remaining_time() -> None:
    # 4 working hours from Wed 09:00 is due 15:00 (2.5 h + 1.5 h). Paused at 10:00 with 3 h left,
    # resumed Thu 14:00: the 3 h left run Thu 14:00-17:00.
    due = compute_due(CAL, vn(2026, 1, 14, 9), SlaDuration(4, WH), N)
    assert due == vn(2026, 1, 14, 15)
    assert extend_due_for_pause(CAL, due, vn(2026, 1, 14, 10), vn(2026, 1, 15, 14), N) == vn(
        2026, 1, 15, 17
    )


# ------------------------------------------------------------------------------- % used


@pytest.mark.parametrize(
    ("start", "due", "now", "urgency", "expected"),
    [
        # 4 working h Wed 09:00 -> 15:00; at 14:00 3 h used (2.5 + 0.5)
        (vn(2026, 1, 14, 9), vn(2026, 1, 14, 15), vn(2026, 1, 14, 14), N, 0.75),
        (vn(2026, 1, 14, 9), vn(2026, 1, 14, 15), vn(2026, 1, 14, 14, 12), N, 0.8),
        # lunch does not consume time: 11:30 and 13:00 are the same 2.5 h
        (vn(2026, 1, 14, 9), vn(2026, 1, 14, 15), vn(2026, 1, 14, 13), N, 0.625),
        # overdue: Thu 08:30 = 6 h + 1 h = 7 h of 4 h
        (vn(2026, 1, 14, 9), vn(2026, 1, 14, 15), vn(2026, 1, 15, 8, 30), N, 1.75),
        (vn(2026, 1, 14, 9), vn(2026, 1, 14, 15), vn(2026, 1, 14, 8), N, 0.0),
        # urgent, calendar time: 24 of 30 minutes
        (vn(2026, 1, 17, 23, 50), vn(2026, 1, 18, 0, 20), vn(2026, 1, 18, 0, 14), U, 0.8),
        # non-urgent window wholly at night: falls back to calendar time (30 of 60 minutes)
        (vn(2026, 1, 14, 20), vn(2026, 1, 14, 21), vn(2026, 1, 14, 20, 30), N, 0.5),
    ],
)
def test_fraction_used(
    start: datetime, due: datetime, now: datetime, urgency: Urgency, expected: float
) -> None:
    assert fraction_used(CAL, start, due, now, urgency) == pytest.approx(expected)


def test_due_soon_threshold() -> None:
    assert DUE_SOON_FRACTION == 0.8


# ------------------------------------------------------------------------- from the clock


@pytest.mark.parametrize("moment", MOMENTS, ids=moment_id)
def test_default_deadlines_from_the_stopped_clock(
    moment: Moment, time_machine: time_machine.TimeMachineFixture
) -> None:
    stop_clock(time_machine, moment.at)
    table = default_sla_table(["VSMT"])

    def due(stage: Stage, urgency: Urgency = N, field_code: str = "DU_LICH") -> datetime:
        rule = table.rule_for(stage, field_code, urgency)
        return compute_due(CAL, clock.now(), rule.duration, urgency)

    assert due(Stage.SCREEN) == due(Stage.REVIEW) == moment.plus_4_working_hours
    assert due(Stage.ACCEPT) == moment.plus_8_working_hours
    assert due(Stage.RESOLVE) == moment.plus_5_working_days
    assert due(Stage.REVIEW, C) == moment.next_working_day_end  # complex review: 1 working day
    # Urgent items run on calendar time, whatever the hour.
    assert due(Stage.SCREEN, U) == moment.at + timedelta(minutes=30)
    assert due(Stage.RESOLVE, U) == moment.at + timedelta(hours=4)
    # A pause that began at 09:00 on the previous working day and ends now.
    paused_at = on(moment.day.one_before, 9)
    resumed = extend_due_for_pause(
        CAL, moment.day.resolve_from_two_before, paused_at, clock.now(), N
    )
    assert resumed == moment.resolve_pushed


# ---------------------------------------------------------------------------- properties

starts = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 6, 30), timezones=st.just(VN)
)
rules = st.sampled_from(DEFAULT_SLA_RULES)


@settings(max_examples=150, deadline=None)
@given(start=starts, rule=rules)
def test_due_is_after_start_and_non_urgent_due_is_on_a_working_day(
    start: datetime, rule: SlaRule
) -> None:
    due = compute_due(CAL, start, rule.duration, rule.urgency)
    assert due > start
    if rule.urgency is not Urgency.URGENT:
        assert CAL.is_working_day(due.date())
        assert fraction_used(CAL, start, due, due, rule.urgency) == pytest.approx(1.0)
