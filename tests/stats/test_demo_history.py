"""`paht demo --history`: a month of generated activity in a fresh locality, replayed through the
real workflow with the clock pinned in the past, gives an evaluation with true figures, and
rebuilding the statistics from the events gives the same figures."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from api.demo_history import generate_history, parse_history
from core import clock
from stats.maintain import rebuild_tenant, refresh_tenant
from tenants.models import Tenant
from tests.conftest import GraphQLClient
from tests.factories import onboard_locality, user_with_grants
from tests.stats.world import AGENCIES, FIELDS

STATS = """query($p: PeriodInput!) { statistics(period: $p, groupBy: MONTH) {
  total { received carriedOver finished finishedOnTime finishedLate openWithinDeadline
    openDueSoon openOverdue rejected duplicates withdrawn returned reworked
    extensionsRequested extensionsApproved rated ratingMean satisfiedShare responseRate
    stages { stage onTime late } stageTimes { stage runs medianHours p90Hours } }
  groups { first last figures { received finished rated } } } }"""


def test_parse_history() -> None:
    assert parse_history("6m") == timedelta(days=180)
    assert parse_history("1m") == timedelta(days=30)
    assert parse_history("2w") == timedelta(days=14)
    assert parse_history("45d") == timedelta(days=45)
    for bad in ("", "6", "0m", "6y", "m6"):
        with pytest.raises(ValueError):
            parse_history(bad)


async def test_one_month_of_history_evaluates_and_rebuilds(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    loc = await onboard_locality(gql, pilot, prefix="hist", agencies=AGENCIES, fields=FIELDS)
    tenant = await Tenant.get(id=loc["tenant_id"])
    done = await generate_history(tenant, parse_history("1m"), per_day=4)
    assert done.reports > 60 and done.steps > 3 * done.reports
    # Old reports are finished; the last days' are still open somewhere in the workflow.
    assert done.states.get("CLOSED", 0) + done.states.get("RESOLVED", 0) > done.reports / 2
    assert set(done.states) - {"CLOSED", "RESOLVED", "REJECTED", "DUPLICATE", "WITHDRAWN"}
    await refresh_tenant(tenant.id)  # incremental: the events' trigger marked every report
    token = await user_with_grants(gql, loc, "centre", {"role": "centre_supervisor"})
    today = clock.now().date()
    period = {"first": str(today - timedelta(days=31)), "last": str(today)}
    incremental = (await gql.ok(STATS, {"p": period}, token=token))["statistics"]
    total = incremental["total"]
    assert total["received"] == done.reports
    assert total["carriedOver"] == 0  # nothing before the history
    assert total["finished"] > total["received"] / 2
    assert total["finishedOnTime"] > 0 and total["finishedLate"] > 0
    assert total["rejected"] > 0 and total["rated"] > 0
    assert 1 <= total["ratingMean"] <= 5 and 0 < total["responseRate"] <= 1
    assert total["extensionsRequested"] > 0 and total["returned"] > 0
    late_stages = {s["stage"] for s in total["stages"] if s["late"] > 0}
    assert late_stages & {"ACCEPT", "RESOLVE"}  # agencies are late sometimes
    assert {s["stage"] for s in total["stageTimes"] if s["runs"]} >= {"SCREEN", "ACCEPT"}
    open_at_end = total["openWithinDeadline"] + total["openDueSoon"] + total["openOverdue"]
    assert open_at_end == total["received"] - total["finished"]  # the balance holds
    assert sum(g["figures"]["received"] for g in incremental["groups"]) == done.reports
    await rebuild_tenant(tenant.id)
    assert (await gql.ok(STATS, {"p": period}, token=token))["statistics"] == incremental
