"""Undo for side effects outside the database (stored files) when a request's transaction
rolls back after the code that caused them had already succeeded."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar

log = logging.getLogger(__name__)

Undo = Callable[[], Awaitable[None]]
_pending: ContextVar[list[Undo] | None] = ContextVar("paht_rollback_undo", default=None)


def on_rollback(undo: Undo) -> None:
    """Register ``undo`` to run if the surrounding request transaction rolls back."""
    pending = _pending.get()
    if pending is not None:
        pending.append(undo)


@contextlib.contextmanager
def collect() -> Iterator[list[Undo]]:
    """Collect the undo callbacks registered inside the block (child tasks included)."""
    pending: list[Undo] = []
    token = _pending.set(pending)
    try:
        yield pending
    finally:
        _pending.reset(token)


async def run(pending: list[Undo]) -> None:
    for undo in reversed(pending):
        try:
            await undo()
        except Exception:  # keep undoing the rest; a sweeper finds what is left
            log.exception("undo after rollback failed")
    pending.clear()
