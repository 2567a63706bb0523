"""The one clock of the application: services take the time from here, once per operation."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)
