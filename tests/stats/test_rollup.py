"""The month roll-ups answer exactly as the day tables: after a random workload across month
boundaries (refresh passes interleaved), the roll-ups are the sums and percentiles of the rows
they roll up, and every question they serve gets the same figures either way, for the centre
and an agency leader, sliced or not, broken down every way."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

import time_machine

from permissions.actions import Action
from permissions.scope import Reach, Scope
from permissions.session import scoped_transaction
from stats.maintain import refresh_tenant
from stats.queries import province_statistics, stage_times, tenant_statistics
from stats.rollup import DAY_TABLES, Rollup, Source, source_for
from stats.slicing import EVERYTHING, GroupBy, Period, Slice
from tests.clock import stop_clock, vn
from tests.conftest import GraphQLClient
from tests.stats.world import new_world, play
from tests.support.rollups import assert_rollups_hold, expected_and_kept

FEBRUARY = Period(date(2026, 2, 1), date(2026, 2, 28))
WINTER = Period(date(2026, 1, 1), date(2026, 2, 28))
MARCH = Period(date(2026, 3, 1), date(2026, 3, 31))  # its end is still ahead
PART = Period(date(2026, 2, 3), date(2026, 2, 20))
PERIODS = (FEBRUARY, WINTER, MARCH)


def test_which_questions_a_rollup_answers() -> None:
    web = Slice(channels=("web",))
    assert source_for(None, FEBRUARY, None, EVERYTHING) == Source(Rollup.TOTAL, Rollup.TOTAL)
    assert source_for(None, FEBRUARY, GroupBy.AGENCY, EVERYTHING) == Source(
        Rollup.AGENCY, Rollup.AGENCY
    )
    # Percentiles of two months are not those of each: the flows still add up.
    assert source_for(None, WINTER, GroupBy.FIELD, EVERYTHING) == Source(Rollup.FIELD, None)
    assert source_for(None, WINTER, GroupBy.MONTH, EVERYTHING) == Source(Rollup.TOTAL, None)
    assert source_for(None, FEBRUARY, GroupBy.CHANNEL, web) == Source(Rollup.CHANNEL, None)
    assert source_for(None, FEBRUARY, GroupBy.UNIT_TODAY, EVERYTHING) == Source(Rollup.UNIT)
    for not_served in (
        (PART, None, EVERYTHING),  # not whole months
        (FEBRUARY, GroupBy.WEEK, EVERYTHING),  # weeks cross months
        (FEBRUARY, GroupBy.FIELD, web),  # two columns
    ):
        assert source_for(None, *not_served) == DAY_TABLES


async def test_rollups_answer_as_the_day_tables(
    gql: GraphQLClient, pilot: dict[str, Any], time_machine: time_machine.TimeMachineFixture
) -> None:
    rng = random.Random(20260120)
    at = vn(2026, 1, 20, 8)
    stop_clock(time_machine, at)
    world = await new_world(gql, pilot, prefix="ru")
    reports = []
    for _ in range(30):
        at += timedelta(hours=rng.randint(1, 60))
        stop_clock(time_machine, at)
        channel = rng.choice(["app", "web", None])
        field = rng.choice(["ha-tang", "attp"])
        reports.append(await world.submit(field, channel=channel))
        if rng.random() < 0.3:
            await refresh_tenant(world.tenant_id, batch=rng.randint(1, 5))
    for i, report in enumerate(reports):
        at += timedelta(hours=rng.randint(1, 30))
        stop_clock(time_machine, at)
        await play(world, rng, report, reports[0], "duplicate" if i % 9 == 4 else "")
        if rng.random() < 0.3:
            await refresh_tenant(world.tenant_id, batch=rng.randint(1, 5))
    assert at.date() > date(2026, 3, 1)
    await refresh_tenant(world.tenant_id)
    await assert_rollups_hold(world.tenant_id)
    _, kept = await expected_and_kept(world.tenant_id)
    balances = {k[1] for k in kept if k[0] == "month" and k[2] == "open_at"}
    assert {date(2026, 2, 1), date(2026, 3, 1)} <= balances

    leader = world.leaders["phong-yt"]
    slices = [
        EVERYTHING,
        Slice(channels=("web",)),
        Slice(agency_ids=(world.agency("phong-qldt"),)),
        Slice(urgencies=("normal",)),
    ]
    served = 0
    for scope in (world.centre, leader):
        async with scoped_transaction(scope):
            for period in (FEBRUARY, WINTER, MARCH):
                for slice_ in slices:
                    for group in (None, *GroupBy):
                        served += source_for(scope, period, group, slice_) != DAY_TABLES
                        asked = (scope, world.tenant_id, period, group, slice_)
                        fast = await tenant_statistics(*asked)
                        assert fast == await tenant_statistics(*asked, from_rollups=False), asked
                        for grouped in (True, False):  # as a screen reads them, lazily
                            times = await stage_times(*asked, grouped)
                            exact = await stage_times(*asked, grouped, from_rollups=False)
                            assert times == exact, (asked, grouped)
    assert served > 50
    async with scoped_transaction(world.centre):
        feb = await tenant_statistics(world.centre, world.tenant_id, FEBRUARY, GroupBy.AGENCY)
        own = {
            p: (await tenant_statistics(world.centre, world.tenant_id, p)).total for p in PERIODS
        }
    # both agencies, and the reports not yet assigned
    assert feb.total.received > 0 and feb.total.stage_times and len(feb.groups) == 3
    assert own[FEBRUARY].finished > 0 and own[MARCH].open_at_end

    province = Scope(
        user_id=None,
        tenant_id=None,
        readable_tenant_ids=frozenset({world.tenant_id}),
        reach={Action.STATS_VIEW.value: frozenset({Reach()})},
        provincial=True,
    )
    async with scoped_transaction(province):
        for period in (FEBRUARY, WINTER):
            for slice_ in (EVERYTHING, Slice(channels=("web",))):
                rows = await province_statistics(province, period, slice_)
                assert rows == await province_statistics(
                    province, period, slice_, from_rollups=False
                )
                if slice_ is EVERYTHING:
                    assert rows == [(world.tenant_id, own[period])]
