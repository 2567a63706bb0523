"""Frozen clocks for tests, and the deadlines worked out by hand for the instants they stop at.

Tests stop the clock with time-machine's ``time_machine`` fixture (``stop_clock``) and move it
by hand between steps, so every timestamp and deadline is known exactly.
time-machine leaves ``time.monotonic`` alone: asyncio timers, asyncpg timeouts and the HTTP
client keep running while ``datetime.now`` stands still (tests/test_clock.py checks that).
PostgreSQL's ``now()`` does not move; the services never use it.

The instants sit on both sides of the office-hour edges (07:30, 11:30 / 13:30, 17:00) of two
Wednesdays: 11 March 2026 in a plain working week, and 29 April 2026, the eve of the 30/4 and
1/5 holidays (Thursday and Friday; the next working day is Monday 4 May; Monday 27 April is
Giỗ Tổ Hùng Vương). The default calendar is Monday-Friday 07:30-11:30 and 13:30-17:00
(7.5 working hours a day), Asia/Ho_Chi_Minh. tests/reports/test_calendar.py checks the
package's holidays these tables rely on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from accounts.models import AuthSession
from accounts.tokens import TokenService
from api.settings import Settings
from permissions.scope import Scope
from permissions.session import scoped_transaction

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def vn(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=VN)


def on(day: date, h: int, mi: int = 0) -> datetime:
    return vn(day.year, day.month, day.day, h, mi)


def hm(hours: int, minutes: int = 0) -> timedelta:
    return timedelta(hours=hours, minutes=minutes)


@dataclass(frozen=True)
class Day:
    """A Wednesday the tests stop on, and the working days before it that set-ups start on."""

    name: str
    date: date
    one_before: date
    two_before: date
    five_before: date  # its 5th working day after is ``date``
    # A report accepted at 09:00 on ``two_before`` must be resolved by then (5 working days).
    resolve_from_two_before: datetime


PLAIN = Day(
    "plain",
    date(2026, 3, 11),
    one_before=date(2026, 3, 10),
    two_before=date(2026, 3, 9),
    five_before=date(2026, 3, 4),  # Thu 5, Fri 6, Mon 9, Tue 10, Wed 11
    resolve_from_two_before=vn(2026, 3, 16, 17),  # Tue 10, Wed 11, Thu 12, Fri 13, Mon 16
)
HOLIDAY_EVE = Day(
    "eve",
    date(2026, 4, 29),
    one_before=date(2026, 4, 28),
    two_before=date(2026, 4, 24),  # Friday: Monday 27 is a holiday
    five_before=date(2026, 4, 21),  # Wed 22, Thu 23, Fri 24, Tue 28, Wed 29
    resolve_from_two_before=vn(2026, 5, 6, 17),  # Tue 28, Wed 29, Mon 4, Tue 5, Wed 6
)


@dataclass(frozen=True)
class Moment:
    """An instant on a ``Day`` and, by hand, the default calendar's deadlines from it."""

    day: Day
    at: datetime
    plus_4_working_hours: datetime  # screening, and review of a normal report
    plus_8_working_hours: datetime  # the agency's acceptance
    plus_5_working_days: datetime  # resolution, for a field that is not quick-fix
    next_working_day_end: datetime  # the rework floor: one working day
    # Working time from 09:00 on ``day.one_before`` to ``at``: 2.5 h + 3.5 h on that day, plus
    # what ``at`` has used of its own day.
    since_day_before_9: timedelta
    # ``day.resolve_from_two_before`` pushed by ``since_day_before_9`` of working time.
    resolve_pushed: datetime

    @property
    def id(self) -> str:
        return f"{self.day.name}-{self.at:%H%M}"


MOMENTS = (
    # 07:29, before opening: 4 h are 07:30-11:30; 8 h are the whole day and 0.5 h of the next.
    Moment(
        PLAIN,
        vn(2026, 3, 11, 7, 29),
        plus_4_working_hours=vn(2026, 3, 11, 11, 30),
        plus_8_working_hours=vn(2026, 3, 12, 8),
        plus_5_working_days=vn(2026, 3, 18, 17),  # Thu 12, Fri 13, Mon 16, Tue 17, Wed 18
        next_working_day_end=vn(2026, 3, 12, 17),
        since_day_before_9=hm(6),
        resolve_pushed=vn(2026, 3, 17, 15, 30),  # Mon 16 17:00 + 4 h + 2 h on Tue 17
    ),
    # 11:31, at lunch: 3.5 h this afternoon, then 0.5 h (4 h) or 4 h + 0.5 h (8 h) tomorrow.
    Moment(
        PLAIN,
        vn(2026, 3, 11, 11, 31),
        plus_4_working_hours=vn(2026, 3, 12, 8),
        plus_8_working_hours=vn(2026, 3, 12, 14),
        plus_5_working_days=vn(2026, 3, 18, 17),
        next_working_day_end=vn(2026, 3, 12, 17),
        since_day_before_9=hm(10),  # + 07:30-11:30
        resolve_pushed=vn(2026, 3, 18, 10),  # 7.5 h on Tue 17, 2.5 h on Wed 18
    ),
    # 15:59: 1:01 today, then 2:59 (4 h) or 4 h + 2:59 (8 h) tomorrow.
    Moment(
        PLAIN,
        vn(2026, 3, 11, 15, 59),
        plus_4_working_hours=vn(2026, 3, 12, 10, 29),
        plus_8_working_hours=vn(2026, 3, 12, 16, 29),
        plus_5_working_days=vn(2026, 3, 18, 17),
        next_working_day_end=vn(2026, 3, 12, 17),
        since_day_before_9=hm(12, 29),  # + 4 h + 13:30-15:59
        resolve_pushed=vn(2026, 3, 18, 14, 29),  # 7.5 h on Tue 17, 4 h + 0:59 on Wed 18
    ),
    # 16:59: one minute today, then 3:59 (4 h) tomorrow, or 7.5 h + 0:29 (8 h) on Friday.
    Moment(
        PLAIN,
        vn(2026, 3, 11, 16, 59),
        plus_4_working_hours=vn(2026, 3, 12, 11, 29),
        plus_8_working_hours=vn(2026, 3, 13, 7, 59),
        plus_5_working_days=vn(2026, 3, 18, 17),
        next_working_day_end=vn(2026, 3, 12, 17),
        since_day_before_9=hm(13, 29),  # + 4 h + 13:30-16:59
        resolve_pushed=vn(2026, 3, 18, 15, 29),  # 7.5 h on Tue 17, 4 h + 1:59 on Wed 18
    ),
    # The eve of 30/4: the same times, but tomorrow is Monday 4 May.
    Moment(
        HOLIDAY_EVE,
        vn(2026, 4, 29, 7, 29),
        plus_4_working_hours=vn(2026, 4, 29, 11, 30),
        plus_8_working_hours=vn(2026, 5, 4, 8),
        plus_5_working_days=vn(2026, 5, 8, 17),  # Mon 4, Tue 5, Wed 6, Thu 7, Fri 8
        next_working_day_end=vn(2026, 5, 4, 17),
        since_day_before_9=hm(6),
        resolve_pushed=vn(2026, 5, 7, 15, 30),  # Wed 6 17:00 + 6 h on Thu 7
    ),
    Moment(
        HOLIDAY_EVE,
        vn(2026, 4, 29, 11, 31),
        plus_4_working_hours=vn(2026, 5, 4, 8),
        plus_8_working_hours=vn(2026, 5, 4, 14),
        plus_5_working_days=vn(2026, 5, 8, 17),
        next_working_day_end=vn(2026, 5, 4, 17),
        since_day_before_9=hm(10),
        resolve_pushed=vn(2026, 5, 8, 10),  # 7.5 h on Thu 7, 2.5 h on Fri 8
    ),
    Moment(
        HOLIDAY_EVE,
        vn(2026, 4, 29, 15, 59),
        plus_4_working_hours=vn(2026, 5, 4, 10, 29),
        plus_8_working_hours=vn(2026, 5, 4, 16, 29),
        plus_5_working_days=vn(2026, 5, 8, 17),
        next_working_day_end=vn(2026, 5, 4, 17),
        since_day_before_9=hm(12, 29),
        resolve_pushed=vn(2026, 5, 8, 14, 29),
    ),
    Moment(
        HOLIDAY_EVE,
        vn(2026, 4, 29, 16, 59),
        plus_4_working_hours=vn(2026, 5, 4, 11, 29),
        plus_8_working_hours=vn(2026, 5, 5, 7, 59),
        plus_5_working_days=vn(2026, 5, 8, 17),
        next_working_day_end=vn(2026, 5, 4, 17),
        since_day_before_9=hm(13, 29),
        resolve_pushed=vn(2026, 5, 8, 15, 29),
    ),
)


def stop_clock(clock: time_machine.TimeMachineFixture, at: datetime) -> None:
    """Stop the clock at ``at``, or move the stopped clock there. The instant is handed over in
    UTC: time-machine switches the process's time zone to a ZoneInfo destination's, which would
    hide code that reads the server's local date instead of the tenant's."""
    clock.move_to(at.astimezone(UTC), tick=False)


def moment_id(value: Any) -> str:
    """Test ids such as ``plain-0729`` and ``eve-1659``."""
    return value.id if isinstance(value, Moment) else str(value)


async def access_token(settings: Settings, scope: Scope) -> str:
    """A token for the scope's user issued now, on the frozen clock: one issued on the real
    clock would be "not yet valid" at an instant before it, or expired at one long after. It
    belongs to a session of its own, as a login's would."""
    assert scope.user_id is not None
    async with scoped_transaction(scope):
        session = await AuthSession.create(user_id=scope.user_id, tenant_id=scope.tenant_id)
    return TokenService(settings.token_config()).issue_access(
        scope.user_id, scope.tenant_id, session.id
    )[0]
