"""Working calendar: office hours, weekends, Vietnamese holidays, tenant day swaps, config.

Expected values are computed by hand from the default office hours 07:30-11:30 and 13:30-17:00
(7.5 working hours a day) in Asia/Ho_Chi_Minh (UTC+7, no DST).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st

from core import clock
from core.errors import DomainError
from tenants.calendar import GOVERNMENT_SWAPS, DayEnd, WorkingCalendar
from tests.clock import MOMENTS, Moment, moment_id, on, stop_clock

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = WorkingCalendar()


def vn(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=VN)


def hours(h: float) -> timedelta:
    return timedelta(hours=h)


# ----------------------------------------------------------------------------- working days


def test_holidays_package_gives_tet_2026_as_monday_to_friday() -> None:
    """The Tết cases below rely on this; if the package changes, the cases must be redone."""
    vn_2026 = holidays.Vietnam(years=2026)
    tet = [d for d in vn_2026 if date(2026, 2, 1) <= d <= date(2026, 2, 28)]
    assert sorted(tet) == [date(2026, 2, d) for d in range(16, 21)]


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 1, 16), True),  # Friday
        (date(2026, 1, 17), False),  # Saturday
        (date(2026, 1, 18), False),  # Sunday
        (date(2026, 1, 1), False),  # Tết Dương lịch
        # The 2026 New Year swap (GOVERNMENT_SWAPS): off Thu 1 .. Sun 4, Saturday 10 worked
        (date(2026, 1, 2), False),
        (date(2026, 1, 5), True),
        (date(2026, 1, 9), True),
        (date(2026, 1, 10), True),
        (date(2026, 1, 11), False),
        (date(2026, 2, 16), False),  # Tết Nguyên đán 2026 (Mon..Fri)
        (date(2026, 2, 20), False),
        (date(2026, 2, 23), True),
        (date(2026, 4, 27), False),  # Giỗ Tổ Hùng Vương observed (26/4 is a Sunday)
        (date(2026, 4, 30), False),
        (date(2026, 5, 1), False),
        (date(2026, 9, 2), False),
        (date(2025, 5, 2), False),  # 2025 swap: Friday 2/5 off ...
        (date(2025, 4, 26), True),  # ... made up on Saturday 26/4 (package weekend workday)
    ],
)
def test_is_working_day(day: date, working: bool) -> None:
    assert CAL.is_working_day(day) is working


def test_the_holidays_package_still_lacks_the_2026_new_year_swap() -> None:
    """GOVERNMENT_SWAPS fills the gap; when the package learns it, drop the entry."""
    vn_2026 = holidays.Vietnam(years=2026)
    assert date(2026, 1, 2) not in vn_2026
    assert date(2026, 1, 10) not in set(getattr(vn_2026, "weekend_workdays", ()))
    assert [(s.day_off, s.worked_on) for s in GOVERNMENT_SWAPS] == [
        (date(2026, 1, 2), date(2026, 1, 10))
    ]


def test_a_tenant_overrides_the_government_swap() -> None:
    """A locality that keeps Friday 2 January and does not work Saturday 10 says so itself."""
    cal = WorkingCalendar(
        extra_working_days=frozenset({date(2026, 1, 2)}),
        extra_days_off=frozenset({date(2026, 1, 10)}),
    )
    assert cal.is_working_day(date(2026, 1, 2))
    assert not cal.is_working_day(date(2026, 1, 10))
    # Thu 1 Jan 09:00 + 1 working day: the tenant works Friday 2 ...
    assert cal.add_working_days(vn(2026, 1, 1, 9), 1) == vn(2026, 1, 2, 17)
    # ... while the inherited calendar skips to Monday 5
    assert CAL.add_working_days(vn(2026, 1, 1, 9), 1) == vn(2026, 1, 5, 17)
    # Friday 9 Jan 15:00 + 4 working hours: Saturday 10 by inheritance, Monday without it
    assert CAL.add_working_time(vn(2026, 1, 9, 15), hours(4)) == vn(2026, 1, 10, 9, 30)
    assert cal.add_working_time(vn(2026, 1, 9, 15), hours(4)) == vn(2026, 1, 12, 9, 30)


def test_extra_working_day_wins_over_weekend_and_holiday() -> None:
    cal = WorkingCalendar(extra_working_days=frozenset({date(2026, 1, 17), date(2026, 2, 16)}))
    assert cal.is_working_day(date(2026, 1, 17))
    assert cal.is_working_day(date(2026, 2, 16))


def test_extra_day_off_wins_over_weekday_and_package_workday() -> None:
    cal = WorkingCalendar(extra_days_off=frozenset({date(2026, 1, 12), date(2025, 4, 26)}))
    assert not cal.is_working_day(date(2026, 1, 12))
    assert not cal.is_working_day(date(2025, 4, 26))


# ---------------------------------------------------------------------------- working time

MAKE_UP_SAT = WorkingCalendar(extra_working_days=frozenset({date(2026, 1, 17)}))
EXTRA_OFF_MON = WorkingCalendar(extra_days_off=frozenset({date(2026, 1, 19)}))


@pytest.mark.parametrize(
    ("cal", "start", "duration", "expected"),
    [
        # Fri 15:00-17:00 = 2 h, then Mon 07:30 + 2 h
        (CAL, vn(2026, 1, 16, 15), hours(4), vn(2026, 1, 19, 9, 30)),
        # Tết 2026: Sat 14 .. Sun 22 Feb closed, resumes Mon 23
        (CAL, vn(2026, 2, 13, 15), hours(4), vn(2026, 2, 23, 9, 30)),
        # a tenant's own make-up Saturday (17 Jan) counts
        (MAKE_UP_SAT, vn(2026, 1, 16, 15), hours(4), vn(2026, 1, 17, 9, 30)),
        # Monday 19 Jan off: continue Tuesday
        (EXTRA_OFF_MON, vn(2026, 1, 16, 15), hours(4), vn(2026, 1, 20, 9, 30)),
        # boundaries on Wednesday 14 Jan 2026
        (CAL, vn(2026, 1, 14, 11, 30), hours(1), vn(2026, 1, 14, 14, 30)),
        (CAL, vn(2026, 1, 14, 12), hours(1), vn(2026, 1, 14, 14, 30)),
        (CAL, vn(2026, 1, 14, 17), hours(1), vn(2026, 1, 15, 8, 30)),
        (CAL, vn(2026, 1, 14, 6), hours(1), vn(2026, 1, 14, 8, 30)),
        (CAL, vn(2026, 1, 14, 23), hours(1), vn(2026, 1, 15, 8, 30)),
        # landing exactly on a period end stays there
        (CAL, vn(2026, 1, 14, 10, 30), hours(1), vn(2026, 1, 14, 11, 30)),
        (CAL, vn(2026, 1, 14, 16), hours(1), vn(2026, 1, 14, 17)),
        (CAL, vn(2026, 1, 14, 7, 30), hours(7.5), vn(2026, 1, 14, 17)),
        # 8 working hours: Wed 2.5 h + 3.5 h, Thu 07:30 + 2 h
        (CAL, vn(2026, 1, 14, 9), hours(8), vn(2026, 1, 15, 9, 30)),
        # crossing lunch: 11:00 + 1 h = 30 min before, 30 min after
        (CAL, vn(2026, 1, 14, 11), hours(1), vn(2026, 1, 14, 14)),
        # zero duration: at a period end stays, outside office hours goes to the opening
        (CAL, vn(2026, 1, 14, 11, 30), hours(0), vn(2026, 1, 14, 11, 30)),
        (CAL, vn(2026, 1, 14, 6), hours(0), vn(2026, 1, 14, 7, 30)),
        # Saturday start counts from Monday
        (CAL, vn(2026, 1, 17, 10), hours(4), vn(2026, 1, 19, 11, 30)),
    ],
)
def test_add_working_time(
    cal: WorkingCalendar, start: datetime, duration: timedelta, expected: datetime
) -> None:
    assert cal.add_working_time(start, duration) == expected


def test_add_working_time_converts_to_calendar_zone() -> None:
    start = datetime(2026, 1, 16, 8, 0, tzinfo=UTC)  # Fri 15:00 in Hà Nội
    result = CAL.add_working_time(start, hours(4))
    assert result == datetime(2026, 1, 19, 2, 30, tzinfo=UTC)
    assert result.utcoffset() == hours(7)
    assert (result.hour, result.minute) == (9, 30)


def test_naive_and_negative_inputs_are_programming_errors() -> None:
    with pytest.raises(ValueError):
        CAL.add_working_time(datetime(2026, 1, 7, 9), hours(1))
    with pytest.raises(ValueError):
        CAL.add_working_time(vn(2026, 1, 14, 9), hours(-1))
    with pytest.raises(ValueError):
        CAL.add_working_days(vn(2026, 1, 14, 9), -1)


@pytest.mark.parametrize(
    ("cal", "start", "days", "expected"),
    [
        # Friday afternoon + 5: Mon 19 .. Fri 23
        (CAL, vn(2026, 1, 16, 15), 5, vn(2026, 1, 23, 17)),
        # Huế example (docs/domain.md §4): sent Tue 01/07/2025 16:28, 7 working days, due 10/07/2025
        (CAL, vn(2025, 7, 1, 16, 28), 7, vn(2025, 7, 10, 17)),
        # across Tết: Fri 13 Feb, then Mon 23 .. Thu 26
        (CAL, vn(2026, 2, 12, 10), 5, vn(2026, 2, 26, 17)),
        # Saturday event: the next day is Sunday, first working day Monday
        (CAL, vn(2026, 1, 17, 10), 1, vn(2026, 1, 19, 17)),
        # Hùng Vương observed Mon 27/4
        (CAL, vn(2026, 4, 24, 9), 1, vn(2026, 4, 28, 17)),
        # 30/4 + 1/5 + weekend
        (CAL, vn(2026, 4, 29, 9), 1, vn(2026, 5, 4, 17)),
        (MAKE_UP_SAT, vn(2026, 1, 16, 15), 1, vn(2026, 1, 17, 17)),
        (EXTRA_OFF_MON, vn(2026, 1, 16, 15), 1, vn(2026, 1, 20, 17)),
        # event after closing still counts from the next day
        (CAL, vn(2026, 1, 14, 23, 59), 1, vn(2026, 1, 15, 17)),
        # zero days: end of today (working) or of the next working day
        (CAL, vn(2026, 1, 14, 9), 0, vn(2026, 1, 14, 17)),
        (CAL, vn(2026, 1, 17, 9), 0, vn(2026, 1, 19, 17)),
    ],
)
def test_add_working_days(
    cal: WorkingCalendar, start: datetime, days: int, expected: datetime
) -> None:
    assert cal.add_working_days(start, days) == expected


def test_thirty_working_days_is_fast_and_correct() -> None:
    # Mon 5 Jan 2026 + 30 working days: Tue 6 .. Fri 9 (4), the make-up Saturday 10 (5), five
    # full weeks to Fri 13 Feb (30).
    assert CAL.add_working_days(vn(2026, 1, 5, 9), 30) == vn(2026, 2, 13, 17)
    # 30 full days of 7.5 h from Mon 5 Jan 07:30: Mon 5 .. Sat 10 (6), four full weeks (26),
    # Mon 9 .. Thu 12 Feb (30): ends Thu 12 Feb 17:00
    assert CAL.add_working_time(vn(2026, 1, 5, 7, 30), hours(30 * 7.5)) == vn(2026, 2, 12, 17)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (vn(2026, 1, 16, 15), vn(2026, 1, 19, 9, 30), hours(4)),
        (vn(2026, 1, 14, 11), vn(2026, 1, 14, 14), hours(1)),
        (vn(2026, 1, 14), vn(2026, 1, 15), hours(7.5)),
        (vn(2026, 1, 17), vn(2026, 1, 19), hours(0)),  # weekend
        (vn(2026, 2, 13), vn(2026, 2, 24), hours(15)),  # Fri 13 + Mon 23 around Tết
        (vn(2026, 1, 14, 12), vn(2026, 1, 14, 9), hours(0)),  # b < a
        (vn(2026, 1, 14, 9), vn(2026, 1, 14, 9), hours(0)),
    ],
)
def test_working_time_between(a: datetime, b: datetime, expected: timedelta) -> None:
    assert CAL.working_time_between(a, b) == expected


@pytest.mark.parametrize(
    ("t", "expected"),
    [
        (vn(2026, 1, 14, 9), vn(2026, 1, 14, 9)),
        (vn(2026, 1, 14, 11, 30), vn(2026, 1, 14, 13, 30)),
        (vn(2026, 1, 14, 12), vn(2026, 1, 14, 13, 30)),
        (vn(2026, 1, 14, 17), vn(2026, 1, 15, 7, 30)),
        (vn(2026, 1, 17, 9), vn(2026, 1, 19, 7, 30)),
        (vn(2026, 2, 13, 18), vn(2026, 2, 23, 7, 30)),
    ],
)
def test_next_working_moment(t: datetime, expected: datetime) -> None:
    assert CAL.next_working_moment(t) == expected


# ------------------------------------------------------------------------- from the clock


def test_holidays_package_gives_the_days_around_the_frozen_instants() -> None:
    """tests/clock.py's hand-worked deadlines rely on these; redo them if the package changes."""
    days_off = [date(2026, 4, 27), date(2026, 4, 30), date(2026, 5, 1)]  # Giỗ Tổ, 30/4, 1/5
    assert not any(CAL.is_working_day(d) for d in days_off)
    working = [date(2026, 4, d) for d in (21, 22, 23, 24, 28, 29)] + [date(2026, 5, 4)]
    working += [date(2026, 3, d) for d in (4, 5, 6, 9, 10, 11, 12, 13, 16, 17, 18)]
    assert all(CAL.is_working_day(d) for d in working)


@pytest.mark.parametrize("moment", MOMENTS, ids=moment_id)
def test_working_time_from_the_stopped_clock(
    moment: Moment, time_machine: time_machine.TimeMachineFixture
) -> None:
    stop_clock(time_machine, moment.at)
    now = clock.now()
    assert now == moment.at
    assert CAL.add_working_time(now, hours(4)) == moment.plus_4_working_hours
    assert CAL.add_working_time(now, hours(8)) == moment.plus_8_working_hours
    assert CAL.add_working_days(now, 5) == moment.plus_5_working_days
    assert CAL.add_working_days(now, 1) == moment.next_working_day_end
    since = on(moment.day.one_before, 9)
    assert CAL.working_time_between(since, now) == moment.since_day_before_9
    pushed = CAL.add_working_time(moment.day.resolve_from_two_before, moment.since_day_before_9)
    assert pushed == moment.resolve_pushed


# ---------------------------------------------------------------------------------- config


def test_config_round_trip_and_defaults() -> None:
    config = {
        "timezone": "Asia/Bangkok",
        "office_hours": [["07:00", "11:00"], ["13:30", "16:30"]],
        "extra_days_off": ["2026-01-02"],
        "extra_working_days": ["2026-01-10"],
    }
    cal = WorkingCalendar.from_config(config)
    assert cal.timezone == ZoneInfo("Asia/Bangkok")
    assert cal.office_hours == ((time(7), time(11)), (time(13, 30), time(16, 30)))
    assert cal.extra_days_off == frozenset({date(2026, 1, 2)})
    assert WorkingCalendar.from_config(cal.to_config()) == cal
    assert cal.to_config() == {
        **config,
        "working_weekdays": [1, 2, 3, 4, 5],
        "day_deadline_end": "office_close",
    }
    assert WorkingCalendar.from_config({}) == WorkingCalendar()
    assert WorkingCalendar.from_config(None) == WorkingCalendar()


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"timezone": ""}, "timezone"),
        ({"timezone": 7}, "timezone"),
        ({"office_hours": []}, "office_hours"),
        ({"office_hours": "07:30-17:00"}, "office_hours"),
        ({"office_hours": [["11:30", "07:30"]]}, "office_hours[0]"),
        ({"office_hours": [["07:30", "07:30"]]}, "office_hours[0]"),
        ({"office_hours": [["07:30", "12:00"], ["11:00", "17:00"]]}, "office_hours[1]"),
        ({"office_hours": [["13:30", "17:00"], ["07:30", "11:30"]]}, "office_hours[1]"),
        ({"office_hours": [["07:30", "25:00"]]}, "office_hours[0]"),
        ({"office_hours": [["07:30"]]}, "office_hours[0]"),
        ({"extra_days_off": ["2026-13-01"]}, "extra_days_off[0]"),
        ({"extra_working_days": ["2026-01-10", 20260111]}, "extra_working_days[1]"),
        (
            {"extra_days_off": ["2026-01-10"], "extra_working_days": ["2026-01-10"]},
            "extra_working_days",
        ),
        ({"working_weekdays": [0, 1]}, "working_weekdays"),
        ({"working_weekdays": []}, "working_weekdays"),
    ],
)
def test_bad_config_is_rejected(config: dict[str, object], field: str) -> None:
    with pytest.raises(DomainError) as caught:
        WorkingCalendar.from_config(config)
    assert caught.value.code == "INVALID_CALENDAR"
    assert caught.value.field == field
    detail = caught.value.details[0]
    assert detail.message_vi and detail.message_en


# ------------------------------------------------------------------------------ properties

starts = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 6, 30), timezones=st.just(VN)
)
durations = st.integers(min_value=0, max_value=30 * 450).map(lambda m: timedelta(minutes=m))
PROPS = settings(max_examples=150, deadline=None)


def _in_or_at_end_of_period(t: datetime) -> bool:
    local = t.astimezone(VN)
    if not CAL.is_working_day(local.date()):
        return False
    return any(s <= local.time() <= e for s, e in CAL.office_hours)


@PROPS
@given(start=starts, duration=durations)
def test_result_lies_in_office_hours(start: datetime, duration: timedelta) -> None:
    result = CAL.add_working_time(start, duration)
    assert result >= start
    assert _in_or_at_end_of_period(result)


@PROPS
@given(start=starts, duration=durations)
def test_working_time_between_inverts_add_working_time(
    start: datetime, duration: timedelta
) -> None:
    assert CAL.working_time_between(start, CAL.add_working_time(start, duration)) == duration


@PROPS
@given(start=starts, d1=durations, d2=durations)
def test_add_working_time_is_monotonic_in_duration(
    start: datetime, d1: timedelta, d2: timedelta
) -> None:
    lo, hi = sorted((d1, d2))
    assert CAL.add_working_time(start, lo) <= CAL.add_working_time(start, hi)


@PROPS
@given(s1=starts, s2=starts, duration=durations)
def test_add_working_time_is_monotonic_in_start(
    s1: datetime, s2: datetime, duration: timedelta
) -> None:
    lo, hi = sorted((s1, s2))
    assert CAL.add_working_time(lo, duration) <= CAL.add_working_time(hi, duration)


@PROPS
@given(a=starts, b=starts, c=starts)
def test_working_time_between_is_additive(a: datetime, b: datetime, c: datetime) -> None:
    a, b, c = sorted((a, b, c))
    assert CAL.working_time_between(a, b) + CAL.working_time_between(b, c) == (
        CAL.working_time_between(a, c)
    )


@PROPS
@given(start=starts, days=st.integers(min_value=1, max_value=30))
def test_add_working_days_ends_a_working_day_after_start(start: datetime, days: int) -> None:
    result = CAL.add_working_days(start, days)
    assert result.date() > start.date()
    assert CAL.is_working_day(result.date())
    assert result.time() == time(17)
    assert CAL.add_working_days(start, days + 1) > result


def test_a_day_deadline_ends_at_office_close_or_at_midnight_as_the_tenant_states() -> None:
    """docs/domain.md §5: whether a day-based deadline ends at office close or at 24:00 (Civil
    Code art. 148) is a rule each tenant states; office close is the default."""
    start = datetime(2026, 3, 11, 9, tzinfo=VN)  # Wednesday
    office = WorkingCalendar()
    midnight = WorkingCalendar.from_config({"day_deadline_end": "midnight"})
    assert midnight.day_deadline_end is DayEnd.MIDNIGHT
    assert office.add_working_days(start, 2) == datetime(2026, 3, 13, 17, tzinfo=VN)  # Friday
    assert midnight.add_working_days(start, 2) == datetime(2026, 3, 14, 0, tzinfo=VN)
    # Three working days end on Monday (the weekend is not counted), at its 24:00.
    assert midnight.add_working_days(start, 3) == datetime(2026, 3, 17, 0, tzinfo=VN)
    assert WorkingCalendar.from_config(midnight.to_config()) == midnight
    with pytest.raises(DomainError) as refused:
        WorkingCalendar.from_config({"day_deadline_end": "noon"})
    assert refused.value.field == "day_deadline_end"
