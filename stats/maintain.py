"""Keeping the statistics tables in step with the append-only ``report_event`` stream.

Every event insert marks its report in ``stats_dirty`` (trigger, migration 0016) in the writing
transaction. ``refresh`` folds the marked reports again (``stats.fold``), takes back what each
contributed before and adds what it contributes now (``stats_day`` deltas), and clears the marks,
all in one tenant-scoped transaction; the marks it takes are row-locked, so an event committed
meanwhile marks its report again and the next pass sees it. ``rebuild`` empties a tenant's tables
and folds every report: the two give the same tables (tests/stats/test_rebuild.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections import Counter, defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from tortoise import connections

from core import clock
from core.statistics_lock import lock_statistics
from permissions.session import tenant_transaction
from reports.records import tenant_rules
from reports.storage import Storage
from stats.fold import Event, Folded, fold
from tenants.models import Tenant, TenantStatus

log = logging.getLogger(__name__)

BATCH = 500

_UPSERT_FACT = """
INSERT INTO stats_report (id, tenant_id, field_id, agency_id, unit_code, urgency, channel, flows,
  spans, open_during, folded_on)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10::text::tstzmultirange, $11)
ON CONFLICT (id) DO UPDATE SET field_id = EXCLUDED.field_id, agency_id = EXCLUDED.agency_id,
  unit_code = EXCLUDED.unit_code, urgency = EXCLUDED.urgency, channel = EXCLUDED.channel,
  flows = EXCLUDED.flows, spans = EXCLUDED.spans, open_during = EXCLUDED.open_during,
  folded_on = EXCLUDED.folded_on"""

# A report still open was folded up to some day's midnights only (``Flow.OPEN_AT``): once a new
# local day has begun it is folded again, so every past midnight has its balance.
_MARK_STILL_OPEN = """
INSERT INTO stats_dirty (id, tenant_id)
SELECT id, tenant_id FROM stats_report
WHERE tenant_id = $1 AND upper_inf(open_during) AND (folded_on IS NULL OR folded_on < $2)
ON CONFLICT (id) DO NOTHING"""

# field, agency, unit, urgency, channel
Slice = tuple[uuid.UUID, uuid.UUID | None, str | None, str, str]
DayKey = tuple[date, Slice, str, str]  # day, slice, flow, detail


@dataclass
class RefreshStats:
    reports: int = 0
    rows_changed: int = 0


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _multirange(folded: Folded) -> str:
    parts = [
        f"[{a.isoformat()},{b.isoformat()}]" if b else f"[{a.isoformat()},)"
        for a, b in folded.cycles()
    ]
    return "{" + ",".join(parts) + "}"


async def _lock(tenant_id: uuid.UUID) -> None:
    await lock_statistics(connections.get("default"), tenant_id)


async def _fold_reports(tenant_id: uuid.UUID, ids: list[uuid.UUID]) -> RefreshStats:
    """Fold ``ids`` again and apply the deltas; inside the caller's tenant transaction."""
    conn = connections.get("default")
    calendar = (await tenant_rules(tenant_id)).calendar
    now = clock.now()
    today = now.astimezone(calendar.timezone).date()
    reports = await conn.execute_query_dict(
        "SELECT id, field_id, lead_agency_id, unit_code, urgency, channel FROM report "
        "WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
        [tenant_id, ids],
    )
    events: dict[uuid.UUID, list[Event]] = defaultdict(list)
    for row in await conn.execute_query_dict(
        "SELECT report_id, action, to_state, reason_code, data, created_at FROM report_event "
        "WHERE tenant_id = $1 AND report_id = ANY($2::uuid[]) ORDER BY created_at, id",
        [tenant_id, ids],
    ):
        events[row["report_id"]].append(
            Event(
                row["action"],
                row["to_state"],
                row["created_at"],
                row["reason_code"],
                _json(row["data"]),
            )
        )
    old = await conn.execute_query_dict(
        "SELECT id, field_id, agency_id, unit_code, urgency, channel, flows FROM stats_report "
        "WHERE tenant_id = $1 AND id = ANY($2::uuid[])",
        [tenant_id, ids],
    )
    delta: Counter[DayKey] = Counter()
    for row in old:
        dims: Slice = (
            row["field_id"],
            row["agency_id"],
            row["unit_code"],
            row["urgency"],
            row["channel"],
        )
        for day, flow, detail, n in _json(row["flows"]):
            delta[date.fromisoformat(day), dims, flow, detail] -= n
    facts = []
    runs: list[list[Any]] = []
    for report in reports:
        folded = fold(events[report["id"]], calendar, report["urgency"], until=now)
        dims = (
            report["field_id"],
            report["lead_agency_id"],
            report["unit_code"],
            report["urgency"],
            report["channel"],
        )
        runs += [[report["id"], r.day, r.stage.value, r.seconds, *dims] for r in folded.runs]
        for (day, flow, detail), n in folded.flows.items():
            delta[day, dims, flow, detail] += n
        flows = [[d.isoformat(), f, x, n] for (d, f, x), n in sorted(folded.flows.items())]
        facts.append(
            [
                report["id"],
                *dims,
                json.dumps(flows),
                json.dumps([s.to_json() for s in folded.spans]),
                _multirange(folded),
                today,
            ]
        )
    changed = [(k, n) for k, n in delta.items() if n]
    if changed:
        await conn.execute_query(
            "INSERT INTO stats_day (id, tenant_id, day, field_id, agency_id, unit_code, urgency, "
            "channel, flow, detail, n) SELECT gen_random_uuid(), $1, * FROM unnest($2::date[], "
            "$3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], "
            "$10::bigint[]) ON CONFLICT (tenant_id, day, field_id, agency_id, unit_code, "
            "urgency, channel, flow, detail) DO UPDATE SET n = stats_day.n + EXCLUDED.n",
            [
                tenant_id,
                [k[0] for k, _ in changed],
                [k[1][0] for k, _ in changed],
                [k[1][1] for k, _ in changed],
                [k[1][2] for k, _ in changed],
                [k[1][3] for k, _ in changed],
                [k[1][4] for k, _ in changed],
                [k[2] for k, _ in changed],
                [k[3] for k, _ in changed],
                [n for _, n in changed],
            ],
        )
    # Stage runs are replaced whole: a report's runs are few and only its own fold writes them.
    await conn.execute_query(
        "DELETE FROM stats_stage_time WHERE tenant_id = $1 AND report_id = ANY($2::uuid[])",
        [tenant_id, ids],
    )
    if runs:
        columns = list(zip(*runs, strict=True))
        await conn.execute_query(
            "INSERT INTO stats_stage_time (id, tenant_id, report_id, day, stage, seconds, "
            "field_id, agency_id, unit_code, urgency, channel) SELECT gen_random_uuid(), $1, * "
            "FROM unnest($2::uuid[], $3::date[], $4::text[], $5::int[], $6::uuid[], $7::uuid[], "
            "$8::text[], $9::text[], $10::text[])",
            [tenant_id, *[list(c) for c in columns]],
        )
    if facts:
        await conn.execute_many(
            _UPSERT_FACT,
            [[f[0], tenant_id, *f[1:]] for f in facts],
        )
    return RefreshStats(len(facts), len(changed))


async def refresh_tenant(tenant_id: uuid.UUID, batch: int = BATCH) -> RefreshStats:
    """Fold the tenant's marked reports, ``batch`` per transaction, until none is left."""
    total = RefreshStats()
    today = clock.now().astimezone((await tenant_rules(tenant_id)).calendar.timezone).date()
    async with tenant_transaction(tenant_id):
        await connections.get("default").execute_query(_MARK_STILL_OPEN, [tenant_id, today])
    while True:
        async with tenant_transaction(tenant_id):
            await _lock(tenant_id)
            conn = connections.get("default")
            # Marks are taken (deleted) before the events are read: an event committed after
            # the read marks its report again (see stats_mark_dirty, migration 0016).
            rows = await conn.execute_query_dict(
                "DELETE FROM stats_dirty WHERE tenant_id = $1 AND id IN (SELECT id FROM "
                "stats_dirty WHERE tenant_id = $1 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) "
                "RETURNING id",
                [tenant_id, batch],
            )
            ids = [r["id"] for r in rows]
            if not ids:
                return total
            done = await _fold_reports(tenant_id, ids)
        total.reports += done.reports
        total.rows_changed += done.rows_changed


async def rebuild_tenant(tenant_id: uuid.UUID) -> RefreshStats:
    """Empty the tenant's statistics and fold every report from its events."""
    async with tenant_transaction(tenant_id):
        await _lock(tenant_id)
        conn = connections.get("default")
        for table in ("stats_day", "stats_report", "stats_stage_time", "stats_dirty"):
            await conn.execute_query(f"DELETE FROM {table} WHERE tenant_id = $1", [tenant_id])
        await conn.execute_query(
            "INSERT INTO stats_dirty (id, tenant_id) SELECT id, tenant_id FROM report "
            "WHERE tenant_id = $1",
            [tenant_id],
        )
    return await refresh_tenant(tenant_id)


async def _tenants(codes: Collection[str] | None) -> list[Tenant]:
    query = Tenant.filter(status=TenantStatus.ACTIVE)
    if codes is not None:
        query = query.filter(code__in=list(codes))
    return await query.order_by("code")


async def refresh_all(codes: Collection[str] | None = None) -> dict[str, RefreshStats]:
    """The background pass: every active tenant (or those named); one tenant's failure is
    logged and the others are still refreshed."""
    done: dict[str, RefreshStats] = {}
    for tenant in await _tenants(codes):
        try:
            done[tenant.code] = await refresh_tenant(tenant.id)
        except Exception:
            log.exception("statistics refresh failed for %s", tenant.code)
    return done


async def rebuild_all(codes: Collection[str] | None = None) -> dict[str, RefreshStats]:
    return {t.code: await rebuild_tenant(t.id) for t in await _tenants(codes)}


async def run_forever(interval_seconds: float, storage: Storage | None = None) -> None:
    """Beside the workflow's job runner (api/app.py): the statistics lag by at most this; then
    the evaluation exports asked for (``stats.exports``) and the removal of expired ones, when
    a storage is given."""
    from stats.exports import purge_expired, run_pending  # they read the tables kept here

    while True:
        try:
            await refresh_all()
            if storage is not None:
                await run_pending(storage)
                await purge_expired(storage)
        except Exception:  # the database may be away for a moment: try again next time
            log.exception("statistics refresh failed")
        await asyncio.sleep(interval_seconds)
