"""Incremental maintenance equals a rebuild from the events, after a random workload on a
stopped clock moved by random steps (several passes of the refresh interleaved with it); the
month roll-ups hold both ways."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from typing import Any

import time_machine

from permissions.session import tenant_transaction
from stats.maintain import rebuild_tenant, refresh_tenant
from tests.clock import stop_clock, vn
from tests.conftest import GraphQLClient
from tests.stats.world import new_world, play
from tests.support.rollups import assert_rollups_hold, expected_and_kept


async def snapshot(tenant_id: Any) -> tuple[list[Any], list[Any], list[Any]]:
    async with tenant_transaction(tenant_id) as conn:
        days = await conn.execute_query_dict(
            "SELECT day, field_id, agency_id, unit_code, urgency, channel, flow, detail, n "
            "FROM stats_day WHERE tenant_id = $1 AND n <> 0 ORDER BY 1, 2, 3, 4, 5, 6, 7, 8",
            [tenant_id],
        )
        facts = await conn.execute_query_dict(
            "SELECT id, field_id, agency_id, unit_code, urgency, channel, flows, spans, "
            "open_during::text AS open_during FROM stats_report WHERE tenant_id = $1 ORDER BY id",
            [tenant_id],
        )
        runs = await conn.execute_query_dict(
            "SELECT report_id, day, stage, seconds, field_id, agency_id, unit_code, urgency, "
            "channel FROM stats_stage_time WHERE tenant_id = $1 ORDER BY 1, 2, 3, 4",
            [tenant_id],
        )
        dirty = await conn.execute_query_dict(
            "SELECT count(*) AS n FROM stats_dirty WHERE tenant_id = $1", [tenant_id]
        )
    assert dirty[0]["n"] == 0
    return days, facts, runs


async def test_rebuild_equals_incremental(
    gql: GraphQLClient, pilot: dict[str, Any], time_machine: time_machine.TimeMachineFixture
) -> None:
    rng = random.Random(20260302)
    at = vn(2026, 3, 2, 8)
    stop_clock(time_machine, at)
    world = await new_world(gql, pilot, prefix="rb")
    reports = []
    for _ in range(24):
        at += timedelta(minutes=rng.randint(5, 600))
        stop_clock(time_machine, at)
        channel = rng.choice(["app", "web", None])
        reports.append(await world.submit(rng.choice(["ha-tang", "attp"]), channel=channel))
        if rng.random() < 0.3:
            await refresh_tenant(world.tenant_id, batch=rng.randint(1, 5))
    marks = {r.id: ["", "duplicate", "unmarked", "", "", ""][i % 6] for i, r in enumerate(reports)}
    for report in reports:
        at += timedelta(minutes=rng.randint(5, 900))
        stop_clock(time_machine, at)
        await play(world, rng, report, reports[0], marks[report.id])
        if rng.random() < 0.4:
            await refresh_tenant(world.tenant_id, batch=rng.randint(1, 5))
    await refresh_tenant(world.tenant_id)
    incremental = await snapshot(world.tenant_id)
    assert len(incremental[1]) == 24
    assert any(row["flow"] == "stage_late" for row in incremental[0])
    assert any(row["flow"] == "rated" for row in incremental[0])
    assert {row["channel"] for row in incremental[0]} == {"app", "web"}
    assert {row["stage"] for row in incremental[2]} == {"screen", "accept", "resolve", "review"}
    # A duplicate un-marked by mistake keeps no duplicate finish; one left marked keeps it.
    flows = {f["id"]: json.loads(f["flows"]) for f in incremental[1]}
    kept = {i: any(flow == "duplicate" for _, flow, _, _ in rows) for i, rows in flows.items()}
    assert {kept[i] for i, m in marks.items() if m == "unmarked"} == {False}
    assert {kept[i] for i, m in marks.items() if m == "duplicate"} == {True}
    await assert_rollups_hold(world.tenant_id)
    _, kept = await expected_and_kept(world.tenant_id)
    assert {k[0] for k in kept} == {"month", "stage"}
    await rebuild_tenant(world.tenant_id)
    assert await snapshot(world.tenant_id) == incremental
    await assert_rollups_hold(world.tenant_id)
