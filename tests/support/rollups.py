"""The month roll-ups (migration 0033) worked out again in Python from the rows they roll up,
to hold the triggers that keep them to it, whoever wrote the rows."""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from datetime import date
from typing import Any

from permissions.session import tenant_transaction

SLICE = ("field_id", "agency_id", "unit_code", "urgency", "channel")
BYS = {"total": None, "field": 0, "agency": 1, "unit": 2, "urgency": 3, "channel": 4}


def _keys(row: dict[str, Any]) -> list[tuple[Any, ...]]:
    """The roll-up keys one row counts in: once per single slice column, and once in total."""
    values = tuple(row[c] for c in SLICE)
    out = []
    for by, at in BYS.items():
        kept = tuple(v if i == at else None for i, v in enumerate(values))
        out.append((by, *kept))
    return out


def percentile(values: list[int], p: float) -> float:
    """PostgreSQL's percentile_cont: linear between the two closest ranks."""
    ordered = sorted(values)
    at = p * (len(ordered) - 1)
    low, high = math.floor(at), math.ceil(at)
    return ordered[low] + (ordered[high] - ordered[low]) * (at - low)


async def expected_and_kept(tenant_id: uuid.UUID) -> tuple[dict[Any, Any], dict[Any, Any]]:
    """(what the roll-ups should hold, what they hold), both keyed alike."""
    async with tenant_transaction(tenant_id) as conn:
        days = await conn.execute_query_dict(
            "SELECT * FROM stats_day WHERE tenant_id = $1", [tenant_id]
        )
        runs = await conn.execute_query_dict(
            "SELECT * FROM stats_stage_time WHERE tenant_id = $1", [tenant_id]
        )
        months = await conn.execute_query_dict(
            "SELECT * FROM stats_month WHERE tenant_id = $1", [tenant_id]
        )
        stage_months = await conn.execute_query_dict(
            "SELECT * FROM stats_stage_month WHERE tenant_id = $1", [tenant_id]
        )
    sums: dict[Any, int] = defaultdict(int)
    for row in days:
        day: date = row["day"]
        if row["flow"] == "open_at" and day.day != 1:
            continue  # a balance inside a month is no month's boundary
        month = day if row["flow"] == "open_at" else day.replace(day=1)
        for key in _keys(row):
            sums["month", month, row["flow"], row["detail"], *key] += row["n"]
    samples: dict[Any, list[int]] = defaultdict(list)
    for row in runs:
        for key in _keys(row):
            samples["stage", row["day"].replace(day=1), row["stage"], *key].append(row["seconds"])
    expected: dict[Any, Any] = {k: n for k, n in sums.items() if n}
    for k, seconds in samples.items():
        expected[k] = (len(seconds), percentile(seconds, 0.5), percentile(seconds, 0.9))
    kept: dict[Any, Any] = {}
    for row in months:
        key = (row["by"], *(row[c] for c in SLICE))
        kept["month", row["day"], row["flow"], row["detail"], *key] = row["n"]
    for row in stage_months:
        key = (row["by"], *(row[c] for c in SLICE))
        kept["stage", row["day"], row["stage"], *key] = (row["runs"], row["median"], row["p90"])
    return expected, kept


async def assert_rollups_hold(tenant_id: uuid.UUID) -> None:
    expected, kept = await expected_and_kept(tenant_id)
    assert set(kept) == set(expected)
    for key, value in expected.items():
        if key[0] == "stage":
            runs, median, p90 = kept[key]
            assert runs == value[0] and math.isclose(median, value[1]), key
            assert math.isclose(p90, value[2]), key
        else:
            assert kept[key] == value, key
