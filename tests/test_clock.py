"""What a frozen clock moves and what it does not (the assumptions of tests/clock.py)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC

import pytest
import time_machine
from tortoise import connections

from core import clock
from tests.clock import stop_clock, vn

AT = vn(2026, 3, 11, 16, 59)


async def test_a_stopped_clock_leaves_asyncio_timers_running(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    stop_clock(time_machine, AT)
    started = time.monotonic()
    with pytest.raises(TimeoutError):  # a timer on the event loop still fires
        await asyncio.wait_for(asyncio.Event().wait(), 0.01)
    assert time.monotonic() > started
    assert clock.now() == AT and clock.now().tzinfo is UTC  # the wall clock stood still


async def test_the_database_clock_is_not_frozen(
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    """Why no timestamp that matters may come from PostgreSQL's ``now()``."""
    stop_clock(time_machine, vn(2001, 1, 1, 9))
    [row] = await connections.get("default").execute_query_dict("SELECT now() AS now")
    assert row["now"].year != 2001 and clock.now().year == 2001


async def test_a_pinned_clock_holds_inside_its_block_and_in_tasks_started_there() -> None:
    outside: list[object] = []

    async def other_task() -> None:
        outside.append(clock.now())

    with clock.pinned(AT):
        assert clock.now() == AT and clock.now().tzinfo is UTC
        with clock.pinned(vn(2026, 1, 2, 8)):
            assert clock.now() == vn(2026, 1, 2, 8)
        assert clock.now() == AT
        sibling = asyncio.get_running_loop().create_task(other_task())
    await sibling  # created inside the block: the context is copied, so it sees the pin
    assert outside == [AT]
    assert clock.now() > AT  # after the block, the real clock again
