"""The application's clock: every service reads the current instant here, once per operation.

An operation (a submission, a workflow step, a side step, a job pass) takes ``now()`` once and
uses that instant for every timestamp it writes and every deadline it computes, passing
``created_at`` explicitly where the ORM would otherwise read the clock again. Two readings a
millisecond apart made "screened within 2 working hours of submission" come out a millisecond
short during office hours.

Tests move this clock with time-machine, which also moves ``datetime.now`` inside libraries
(the ORM's ``auto_now``, PyJWT). It does not move PostgreSQL's ``now()``, so no timestamp that
matters may come from the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

_pinned: ContextVar[datetime | None] = ContextVar("paht_clock_pinned", default=None)


def now() -> datetime:
    """The current instant, timezone-aware, in UTC (or the instant pinned by ``pinned``)."""
    return _pinned.get() or datetime.now(UTC)


@contextmanager
def pinned(instant: datetime) -> Iterator[None]:
    """Run the block as if it were ``instant`` (the generated demo history replays the workflow
    in the past). Only this clock moves: timestamps the ORM takes itself stay real."""
    token = _pinned.set(instant.astimezone(UTC))
    try:
        yield
    finally:
        _pinned.reset(token)
