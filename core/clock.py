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

from datetime import UTC, datetime


def now() -> datetime:
    """The current instant, timezone-aware, in UTC."""
    return datetime.now(UTC)
