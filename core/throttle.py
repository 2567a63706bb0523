"""Limits on repeated attempts, kept in PostgreSQL so that every API process shares them.

Two kinds of rule, both on the ``auth_throttle`` table (one row per key):

- ``SlidingWindow``: at most ``limit`` attempts in any ``window`` (the two-bucket estimate:
  the previous window's count weighted by how much of it still overlaps, plus the current
  window's count);
- ``BackOff``: ``free`` failures in a row, then each further failure locks the key for
  ``base * 2**n`` seconds, up to ``cap``; a success resets it.

An attempt is counted *before* the work it guards (``take``), in one atomic statement, so a
burst of concurrent attempts cannot all slip through before the first failure is recorded; a
success gives its count back (``give_back``). A refused attempt costs one indexed statement
and no work. Counts are written on a connection of their own, outside the request's
transaction: a failed login rolls its transaction back, and must still count."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.db import side_connection
from core.errors import TooManyAttempts


@dataclass(frozen=True)
class SlidingWindow:
    name: str
    limit: int
    window: timedelta


@dataclass(frozen=True)
class BackOff:
    name: str
    free: int
    base: timedelta
    cap: timedelta


Rule = SlidingWindow | BackOff

_WINDOW_TAKE = """
INSERT INTO auth_throttle AS t (key, window_start, count, previous, updated_at)
VALUES ($1, $2, 1, 0, $3)
ON CONFLICT (key) DO UPDATE SET
  previous = CASE WHEN t.window_start = EXCLUDED.window_start THEN t.previous
                  WHEN t.window_start = EXCLUDED.window_start - $4 * interval '1 second'
                  THEN t.count ELSE 0 END,
  count = CASE WHEN t.window_start = EXCLUDED.window_start THEN t.count + 1 ELSE 1 END,
  window_start = EXCLUDED.window_start,
  updated_at = EXCLUDED.updated_at
RETURNING count, previous
"""

_WINDOW_GIVE_BACK = """
UPDATE auth_throttle SET count = greatest(count - 1, 0)
 WHERE key = $1 AND window_start = $2
"""

# One statement decides and counts: a locked key is refused without counting; otherwise the
# failure is counted up front and, once past the free allowance, the lock set. Concurrent
# attempts on one key queue on its row, so each sees the lock its predecessor set. `attempt`
# records the last attempt let through, which tells this caller whether it was.
_BACKOFF_TAKE = """
INSERT INTO auth_throttle AS t (key, window_start, failures, attempt, updated_at)
VALUES ($1, $2, 1, $3, $2)
ON CONFLICT (key) DO UPDATE SET
  failures = CASE WHEN t.blocked_until > $2 THEN t.failures ELSE t.failures + 1 END,
  blocked_until = CASE
    WHEN t.blocked_until > $2 THEN t.blocked_until
    WHEN t.failures + 1 > $4
      THEN $2 + least($6, $5 * power(2, least(t.failures - $4, 30))) * interval '1 second'
    ELSE NULL END,
  attempt = CASE WHEN t.blocked_until > $2 THEN t.attempt ELSE $3 END,
  updated_at = $2
RETURNING attempt = $3 AS allowed, blocked_until
"""

_BACKOFF_RESET = (
    "UPDATE auth_throttle SET failures = 0, blocked_until = NULL, updated_at = $2 WHERE key = $1"
)


def _window_start(now: datetime, window: timedelta) -> datetime:
    seconds = window.total_seconds()
    epoch = now.timestamp()
    return datetime.fromtimestamp(epoch - epoch % seconds, tz=now.tzinfo)


def _key(rule: Rule, key: str) -> str:
    return f"{rule.name}:{key}"[:200]


async def take(rule: Rule, key: str, now: datetime, field: str | None = None) -> None:
    """Count one attempt; raise ``TooManyAttempts`` (with the seconds to wait) if over."""
    full_key = _key(rule, key)
    async with side_connection() as con:
        if isinstance(rule, SlidingWindow):
            start = _window_start(now, rule.window)
            row = await con.fetchrow(
                _WINDOW_TAKE, full_key, start, now, int(rule.window.total_seconds())
            )
            elapsed = (now - start) / rule.window
            estimate = row["previous"] * (1 - elapsed) + row["count"]
            if estimate > rule.limit:
                wait = _window_wait(rule, row["count"], row["previous"], elapsed)
                raise TooManyAttempts(wait, field)
            return
        row = await con.fetchrow(
            _BACKOFF_TAKE,
            full_key,
            now,
            uuid.uuid4(),
            rule.free,
            rule.base.total_seconds(),
            rule.cap.total_seconds(),
        )
        if not row["allowed"]:
            raise TooManyAttempts(math.ceil((row["blocked_until"] - now).total_seconds()), field)


def _window_wait(rule: SlidingWindow, count: int, previous: int, elapsed: float) -> int:
    """Seconds until the estimate falls back to the limit."""
    window = rule.window.total_seconds()
    if count >= rule.limit or previous == 0:
        return max(1, math.ceil((1 - elapsed) * window))  # the next window
    # previous * (1 - (elapsed + t)) + count <= limit
    t = 1 - elapsed - (rule.limit - count) / previous
    return max(1, math.ceil(t * window))


async def give_back(rule: Rule, key: str, now: datetime) -> None:
    """The attempt succeeded: a window returns its count, a back-off starts over."""
    async with side_connection() as con:
        if isinstance(rule, SlidingWindow):
            await con.execute(_WINDOW_GIVE_BACK, _key(rule, key), _window_start(now, rule.window))
        else:
            await con.execute(_BACKOFF_RESET, _key(rule, key), now)


async def forget_idle(before: datetime) -> int:
    """Drop keys untouched since ``before`` and not locked (run by the background pass)."""
    async with side_connection() as con:
        status = await con.execute(
            "DELETE FROM auth_throttle WHERE updated_at < $1 "
            "AND (blocked_until IS NULL OR blocked_until < $1)",
            before,
        )
    return int(status.split()[-1])
