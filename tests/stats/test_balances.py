"""Balances at midnight (``Flow.OPEN_AT``): a report that stays open without any new event is
folded again once a new local day has begun, so a past period's carried-over and open-at-end
figures count it, and a period that ends after today is projected from the reports open now."""

from __future__ import annotations

from typing import Any

import time_machine

from stats.maintain import refresh_tenant
from tests.clock import stop_clock, vn
from tests.conftest import GraphQLClient
from tests.factories import PASSWORD
from tests.stats.world import new_world

STATS = """query($p: PeriodInput!) { statistics(period: $p) { total {
  received carriedOver finished openWithinDeadline openDueSoon openOverdue } } }"""


async def test_an_untouched_open_report_is_counted_at_every_midnight(
    gql: GraphQLClient, pilot: dict[str, Any], time_machine: time_machine.TimeMachineFixture
) -> None:
    stop_clock(time_machine, vn(2026, 3, 1, 20))
    w = await new_world(gql, pilot, prefix="bl")
    stop_clock(time_machine, vn(2026, 3, 2, 9))
    await w.submit("ha-tang")
    await refresh_tenant(w.tenant_id)  # folded on 2 March: no midnight passed yet

    stop_clock(time_machine, vn(2026, 3, 5, 12))  # three midnights later, no event since
    await refresh_tenant(w.tenant_id)
    token = await gql.login(f"{w.locality['code']}.centre", PASSWORD)

    async def total(first: str, last: str) -> dict[str, int]:
        data = await gql.ok(STATS, {"p": {"first": first, "last": last}}, token=token)
        return data["statistics"]["total"]

    past = await total("2026-03-03", "2026-03-04")  # both boundaries have passed
    assert past["received"] == 0 and past["finished"] == 0
    assert past["carriedOver"] == 1
    assert past["openWithinDeadline"] + past["openDueSoon"] + past["openOverdue"] == 1

    ahead = await total("2026-03-05", "2026-03-09")  # ends after today: projected
    assert ahead["carriedOver"] == 1
    assert ahead["openWithinDeadline"] + ahead["openDueSoon"] + ahead["openOverdue"] == 1

    before = await total("2026-03-01", "2026-03-01")  # before it was submitted
    assert before["carriedOver"] == 0
    assert before["openWithinDeadline"] + before["openDueSoon"] + before["openOverdue"] == 0
