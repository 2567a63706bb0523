"""Working calendar of one tenant: office hours, weekends, public holidays and local day swaps.

Working-time deadlines (docs/domain.md §4-5) count only office-hour minutes on working days. Public
holidays, including lunar Tết and Giỗ Tổ Hùng Vương, come from the ``holidays`` package; a tenant
adds its own days off and make-up working days ("làm bù"). All arithmetic walks day by day, never
minute by minute, and is done in UTC so that wall-clock quirks of the zone cannot skew durations.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from core.errors import DomainError
from core.labels import Labelled

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
DEFAULT_OFFICE_HOURS: tuple[tuple[time, time], ...] = (
    (time(7, 30), time(11, 30)),
    (time(13, 30), time(17, 0)),
)
#: ISO weekday numbers (1 = Monday ... 7 = Sunday), the 40-hour week of QĐ 188/1999/QĐ-TTg.
DEFAULT_WORKING_WEEKDAYS: frozenset[int] = frozenset({1, 2, 3, 4, 5})
#: Guards the day-by-day loops against a calendar that never works (should not happen).
_MAX_SCAN_DAYS = 3660
_ZERO = timedelta(0)


class DayEnd(Labelled):
    """Where a deadline counted in days ends on its last day: a rule each tenant states
    (docs/domain.md §5)."""

    OFFICE_CLOSE = "office_close", "Hết giờ làm việc của ngày cuối", "At office close"
    MIDNIGHT = (
        "midnight",
        "Hết 24 giờ của ngày cuối (Bộ luật Dân sự, Điều 148)",
        "At midnight (Civil Code, article 148)",
    )


@dataclass(frozen=True)
class DaySwap:
    """A government day swap ("hoán đổi ngày làm việc"): ``day_off`` is given off and worked
    back on ``worked_on`` (a make-up Saturday, "làm bù"), for civil servants nationwide."""

    day_off: date
    worked_on: date
    source: str


#: Swaps the government announced that the ``holidays`` package does not carry (checked by
#: tests/tenants/test_calendar.py, so an entry the package learns is noticed and dropped).
#: Platform level: every tenant inherits them; a tenant's own extra days override them.
GOVERNMENT_SWAPS: tuple[DaySwap, ...] = (
    DaySwap(
        date(2026, 1, 2),
        date(2026, 1, 10),
        "Tết Dương lịch 2026: nghỉ từ thứ Năm 1/1 đến Chủ nhật 4/1, làm bù thứ Bảy 10/1 "
        "(công văn của Văn phòng Chính phủ ngày 25/12/2025)",
    ),
)


@lru_cache(maxsize=64)
def public_days(year: int) -> tuple[frozenset[date], frozenset[date]]:
    """Vietnamese public days off and the government's make-up working weekend days for a year:
    the ``holidays`` package plus ``GOVERNMENT_SWAPS``.

    Cached because building the lunar holidays is slow and every deadline needs them."""
    vn = holidays.Vietnam(years=year)
    swaps = [s for s in GOVERNMENT_SWAPS if year in (s.day_off.year, s.worked_on.year)]
    days_off = frozenset(d for d in vn if d.year == year) | {
        s.day_off for s in swaps if s.day_off.year == year
    }
    workdays = frozenset(d for d in getattr(vn, "weekend_workdays", ()) if d.year == year) | {
        s.worked_on for s in swaps if s.worked_on.year == year
    }
    return frozenset(days_off), frozenset(workdays - days_off)


def _invalid(field_name: str, message_vi: str, message_en: str) -> DomainError:
    return DomainError("INVALID_CALENDAR", message_vi, message_en, field_name)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


@dataclass(frozen=True)
class WorkingCalendar:
    """One tenant's working time; immutable so it can be cached and shared between requests."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIMEZONE))
    office_hours: tuple[tuple[time, time], ...] = DEFAULT_OFFICE_HOURS
    working_weekdays: frozenset[int] = DEFAULT_WORKING_WEEKDAYS
    extra_days_off: frozenset[date] = field(default_factory=frozenset)
    extra_working_days: frozenset[date] = field(default_factory=frozenset)
    day_deadline_end: DayEnd = DayEnd.OFFICE_CLOSE
    # The province's layer (tenants.models.ProvinceCalendar): swaps entered once by the province
    # for all its tenants; the tenant's own days above win over them.
    province_days_off: frozenset[date] = field(default_factory=frozenset)
    province_working_days: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        """Reject inconsistent calendars at construction, whatever the source."""
        _validate_periods(self.office_hours)
        if not self.working_weekdays or not self.working_weekdays <= set(range(1, 8)):
            raise _invalid(
                "working_weekdays",
                "Ngày làm việc trong tuần phải là số từ 1 (thứ Hai) đến 7 (Chủ nhật).",
                "Working weekdays must be numbers from 1 (Monday) to 7 (Sunday).",
            )
        both = self.extra_days_off & self.extra_working_days
        if both:
            first = min(both).isoformat()
            raise _invalid(
                "extra_working_days",
                f"Ngày {first} vừa là ngày nghỉ vừa là ngày làm việc.",
                f"{first} is both an extra day off and an extra working day.",
            )

    # ----------------------------------------------------------------- days

    def is_working_day(self, d: date) -> bool:
        """Tenant make-up days win, then tenant days off, then the province's, then national
        rules, then weekends."""
        if d in self.extra_working_days:
            return True
        if d in self.extra_days_off:
            return False
        if d in self.province_working_days:
            return True
        if d in self.province_days_off:
            return False
        days_off, workdays = public_days(d.year)
        if d in workdays:
            return True
        if d in days_off:
            return False
        return d.isoweekday() in self.working_weekdays

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        for _ in range(_MAX_SCAN_DAYS):
            d += timedelta(days=1)
            if self.is_working_day(d):
                return d
        raise RuntimeError("calendar has no working day in ten years")

    def end_of_day(self, d: date) -> datetime:
        """Where day-based deadlines fall on ``d``: the close of office hours, or 24:00 (the
        next midnight) where the tenant follows Civil Code art. 148 to the letter."""
        if self.day_deadline_end is DayEnd.MIDNIGHT:
            return datetime.combine(d + timedelta(days=1), time(0), tzinfo=self.timezone)
        return datetime.combine(d, self.office_hours[-1][1], tzinfo=self.timezone)

    def _periods(self, d: date) -> list[tuple[datetime, datetime]]:
        """Office periods of ``d`` as UTC instants; empty on a non-working day."""
        if not self.is_working_day(d):
            return []
        tz = self.timezone
        return [
            (
                datetime.combine(d, start, tzinfo=tz).astimezone(UTC),
                datetime.combine(d, end, tzinfo=tz).astimezone(UTC),
            )
            for start, end in self.office_hours
        ]

    def _periods_from(self, t: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Office periods that end at or after ``t``, in order, starting on t's local date."""
        d = t.astimezone(self.timezone).date()
        for _ in range(_MAX_SCAN_DAYS):
            for start, end in self._periods(d):
                if end >= t:
                    yield start, end
            d += timedelta(days=1)
        raise RuntimeError("calendar has no working time in ten years")

    def _local(self, t: datetime) -> datetime:
        return t.astimezone(self.timezone)

    # ---------------------------------------------------------------- moments

    def next_working_moment(self, t: datetime) -> datetime:
        """``t`` itself inside office hours, otherwise the next opening (a period end counts as
        closed, so 11:30 gives 13:30)."""
        _require_aware(t, "t")
        for start, end in self._periods_from(t):
            if end > t:
                return self._local(max(start, t))
        raise AssertionError("unreachable")  # pragma: no cover

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """``start`` plus ``duration`` of office-hour time ("4 working hours").

        Counting begins at the next opening; a result on a period end stays there rather than
        jumping to the next opening, so "due 17:00" is not shown as "due 07:30 tomorrow"."""
        _require_aware(start, "start")
        if duration < _ZERO:
            raise ValueError("duration must not be negative")
        remaining = duration
        for period_start, period_end in self._periods_from(start):
            begin = max(period_start, start)
            available = period_end - begin
            if remaining <= available:
                return self._local(begin + remaining)
            remaining -= available
        raise AssertionError("unreachable")  # pragma: no cover

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """Close of office hours on the ``days``-th working day after start's local date.

        A period in days starts the day after the event (Bộ luật Dân sự 2015, Art. 147), so the
        time of day of ``start`` does not matter. ``days == 0`` means the end of start's date if
        it is a working day, else of the next working day."""
        _require_aware(start, "start")
        if days < 0:
            raise ValueError("days must not be negative")
        d = self._local(start).date()
        if days == 0:
            return self.end_of_day(d if self.is_working_day(d) else self.next_working_day(d))
        for _ in range(days):
            d = self.next_working_day(d)
        return self.end_of_day(d)

    def working_days_between(self, a: datetime, b: datetime) -> int:
        """Working days after a's local date up to and including b's: the ``days`` for which
        ``add_working_days(a, days)`` lands on b's date (0 when b is not on a later date)."""
        _require_aware(a, "a")
        _require_aware(b, "b")
        d, end, count = self._local(a).date(), self._local(b).date(), 0
        while d < end:
            d += timedelta(days=1)
            count += self.is_working_day(d)
        return count

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Office-hour time in [a, b]; zero when b <= a. Used for paused clocks and % used."""
        _require_aware(a, "a")
        _require_aware(b, "b")
        total = _ZERO
        if b <= a:
            return total
        for start, end in self._periods_from(a):
            if start >= b:
                break
            total += min(end, b) - max(start, a)
        return total

    # ----------------------------------------------------------------- config

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any] | None, province: Mapping[str, Any] | None = None
    ) -> WorkingCalendar:
        """Build from the tenant's JSON document; missing keys take the defaults (``{}`` is the
        stored default). ``province`` is the province's layer (``province_days``)."""
        config = config or {}
        if not isinstance(config, Mapping):
            raise _invalid("calendar", "Cấu hình lịch không hợp lệ.", "Invalid calendar config.")
        kwargs: dict[str, Any] = {}
        if "timezone" in config:
            kwargs["timezone"] = _parse_timezone(config["timezone"])
        if "office_hours" in config:
            kwargs["office_hours"] = _parse_office_hours(config["office_hours"])
        if "working_weekdays" in config:
            kwargs["working_weekdays"] = _parse_weekdays(config["working_weekdays"])
        for key in ("extra_days_off", "extra_working_days"):
            if key in config:
                kwargs[key] = _parse_dates(key, config[key])
        if "day_deadline_end" in config:
            try:
                kwargs["day_deadline_end"] = DayEnd(config["day_deadline_end"])
            except ValueError:
                raise _invalid(
                    "day_deadline_end",
                    "Thời điểm kết thúc thời hạn tính theo ngày không hợp lệ.",
                    "day_deadline_end must be office_close or midnight.",
                ) from None
        if province:
            off, worked = province_days(province)
            kwargs |= {"province_days_off": off, "province_working_days": worked}
        return cls(**kwargs)

    def to_config(self) -> dict[str, Any]:
        """JSON-able form accepted by :meth:`from_config`."""
        return {
            "timezone": self.timezone.key,
            "office_hours": [[_fmt_time(s), _fmt_time(e)] for s, e in self.office_hours],
            "working_weekdays": sorted(self.working_weekdays),
            "extra_days_off": sorted(d.isoformat() for d in self.extra_days_off),
            "extra_working_days": sorted(d.isoformat() for d in self.extra_working_days),
            "day_deadline_end": self.day_deadline_end.value,
        }


def province_days(config: Mapping[str, Any]) -> tuple[frozenset[date], frozenset[date]]:
    """The province's days off and make-up working days from its JSON document (validated)."""
    off = _parse_dates("extra_days_off", config.get("extra_days_off") or [])
    worked = _parse_dates("extra_working_days", config.get("extra_working_days") or [])
    both = off & worked
    if both:
        first = min(both).isoformat()
        raise _invalid(
            "extra_working_days",
            f"Ngày {first} vừa là ngày nghỉ vừa là ngày làm việc.",
            f"{first} is both an extra day off and an extra working day.",
        )
    return off, worked


def _validate_periods(periods: tuple[tuple[time, time], ...]) -> None:
    if not periods:
        raise _invalid(
            "office_hours",
            "Cần ít nhất một khoảng giờ làm việc.",
            "At least one office-hours period is required.",
        )
    previous_end: time | None = None
    for index, (start, end) in enumerate(periods):
        name = f"office_hours[{index}]"
        if start.tzinfo is not None or end.tzinfo is not None:
            raise _invalid(
                name,
                "Giờ làm việc không được kèm múi giờ.",
                "Office hours must not carry a time zone.",
            )
        if start >= end:
            raise _invalid(
                name,
                "Giờ bắt đầu phải trước giờ kết thúc.",
                "The start of a period must be before its end.",
            )
        if previous_end is not None and start < previous_end:
            raise _invalid(
                name,
                "Các khoảng giờ làm việc phải theo thứ tự và không chồng lấn.",
                "Office-hours periods must be in order and must not overlap.",
            )
        previous_end = end


def _parse_timezone(value: Any) -> ZoneInfo:
    try:
        if not isinstance(value, str) or not value:
            raise ValueError(value)
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise _invalid(
            "timezone", f"Múi giờ không hợp lệ: {value!r}.", f"Unknown time zone: {value!r}."
        ) from None


def _parse_time(value: Any, name: str) -> time:
    try:
        if not isinstance(value, str):
            raise TypeError(value)
        return time.fromisoformat(value)
    except (ValueError, TypeError):
        raise _invalid(
            name, f"Giờ không hợp lệ: {value!r} (dạng HH:MM).", f"Invalid time {value!r} (HH:MM)."
        ) from None


def _parse_office_hours(value: Any) -> tuple[tuple[time, time], ...]:
    if not isinstance(value, list | tuple):
        raise _invalid("office_hours", "Giờ làm việc phải là danh sách.", "Must be a list.")
    periods = []
    for index, pair in enumerate(value):
        name = f"office_hours[{index}]"
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            raise _invalid(name, "Mỗi khoảng gồm [bắt đầu, kết thúc].", "Each is [start, end].")
        periods.append((_parse_time(pair[0], name), _parse_time(pair[1], name)))
    return tuple(periods)


def _parse_weekdays(value: Any) -> frozenset[int]:
    if not isinstance(value, list | tuple) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        raise _invalid(
            "working_weekdays",
            "Ngày làm việc trong tuần phải là danh sách số 1-7.",
            "Working weekdays must be a list of numbers 1-7.",
        )
    return frozenset(value)


def _parse_dates(key: str, value: Any) -> frozenset[date]:
    if not isinstance(value, list | tuple):
        raise _invalid(key, "Phải là danh sách ngày (YYYY-MM-DD).", "Must be a list of dates.")
    parsed = set()
    for index, item in enumerate(value):
        try:
            if not isinstance(item, str) or len(item) != 10:
                raise ValueError(item)
            parsed.add(date.fromisoformat(item))
        except ValueError:
            raise _invalid(
                f"{key}[{index}]",
                f"Ngày không hợp lệ: {item!r} (dạng YYYY-MM-DD).",
                f"Invalid date {item!r} (YYYY-MM-DD).",
            ) from None
    return frozenset(parsed)


def _fmt_time(value: time) -> str:
    return value.isoformat(timespec="seconds" if value.second else "minutes")
