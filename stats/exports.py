"""Evaluation exports as background jobs: ``exportEvaluation`` records what is asked
(``stats_export``), the background pass (``stats.maintain.run_forever``) builds it — one
workbook per tenant (``stats.export``) and its tables as CSV, for several tenants also the
comparison workbook (``stats.comparison``), in one zip in the media storage —
and ``evaluationExport`` shows the progress and, when done, a signed, expiring download link.

Who may export: provincial roles, any readable tenants; a tenant's staff, their own tenant
only and only with an unlimited ``stats:view`` reach (the pass builds whole-tenant figures; an
agency leader reads its agency's through ``statistics``). An export is seen by whoever asked and
by provincial roles; anyone else is told it is not found.

A built file is kept ``KEPT_FOR`` after it is done, then removed from the storage by the same
pass (``purge_expired``); the row stays, ``expired``: who asked for what, and when."""

from __future__ import annotations

import io
import logging
import uuid
import zipfile
from collections.abc import Sequence
from datetime import timedelta

from tortoise import connections

from core import clock
from core.errors import NotFound, PermissionDenied, Validator
from core.glossary import Term
from permissions.actions import Action
from permissions.scope import Reach, Scope
from permissions.session import apply_scope, tenant_transaction
from reports.storage import Storage, make_key
from stats.comparison import Locality, comparison_workbook
from stats.export import evaluation_workbook, workbook_csvs
from stats.models import StatsExport
from stats.queries import tenant_statistics
from stats.slicing import Period
from tenants.models import Pilot, Tenant, TenantStatus

log = logging.getLogger(__name__)
LANGUAGES = ("vi", "en")
COMPARISON = "comparison.xlsx"  # in the zip of an export of several tenants
# A run still 'running' this long after it began was left by a process that died (a run takes
# seconds): it is taken again.
ABANDONED_AFTER = timedelta(hours=1)
KEPT_FOR = timedelta(days=7)  # a week to download it again; the statistics stay to re-export


def _whole_tenant(scope: Scope) -> bool:
    return any(r.unlimited for r in scope.reach.get(Action.STATS_VIEW.value, frozenset()))


async def request_export(
    scope: Scope, tenant_ids: Sequence[uuid.UUID], period: Period, lang: str
) -> StatsExport:
    """Record an export (pending); the background pass runs it."""
    scope.require(Action.STATS_VIEW)
    period.check()
    v = Validator()
    if lang not in LANGUAGES:
        v.add("INVALID_CHOICE", "language", "Ngôn ngữ phải là `vi` hoặc `en`.", "vi or en.")
    v.check()
    wanted = list(dict.fromkeys(tenant_ids)) or [scope.require_tenant()]
    for tenant_id in wanted:
        if tenant_id not in scope.readable_tenant_ids:
            raise NotFound(Term.TENANT, "tenantIds")
    if not scope.provincial and (wanted != [scope.tenant_id] or not _whole_tenant(scope)):
        raise PermissionDenied(Action.STATS_VIEW)
    # Kept in the first tenant asked for: a provincial request has no tenant of its own.
    async with tenant_transaction(wanted[0]):
        row = await StatsExport.create(
            tenant_id=wanted[0],
            requested_by=scope.user_id,
            tenant_ids=wanted,
            starts_on=period.first,
            ends_on=period.last,
            lang=lang,
            steps=len(wanted) + 1,
        )
    await apply_scope(connections.get("default"), scope)  # back to the caller's settings
    return row


async def get_export(scope: Scope, export_id: uuid.UUID) -> StatsExport:
    """The export, for whoever asked for it and provincial roles (RLS: readable tenants)."""
    row = await StatsExport.get_or_none(id=export_id)
    if row is None or not (scope.provincial or row.requested_by == scope.user_id):
        raise NotFound(Term.OBJECT, "id")
    return row


def system_scope(tenant_id: uuid.UUID) -> Scope:
    """The whole tenant's statistics, as the system reads them for a workbook."""
    return Scope(
        user_id=None,
        tenant_id=tenant_id,
        readable_tenant_ids=frozenset({tenant_id}),
        reach={Action.STATS_VIEW.value: frozenset({Reach()})},
    )


async def _progress(row: StatsExport, **values: object) -> None:
    async with tenant_transaction(row.tenant_id):
        await StatsExport.filter(id=row.id).update(**values)


async def run_export(row: StatsExport, storage: Storage) -> None:
    """Build one export: a workbook per tenant (a step each), then the zip (the last step)."""
    period = Period(row.starts_on, row.ends_on)
    codes = {t.id: t.code for t in await Tenant.filter(id__in=row.tenant_ids)}
    localities: list[Locality] = []
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for done, tenant_id in enumerate(row.tenant_ids, start=1):
            async with tenant_transaction(tenant_id):
                content = await evaluation_workbook(
                    system_scope(tenant_id), tenant_id, period, row.lang
                )
                if len(row.tenant_ids) > 1:  # a column of the comparison
                    localities.append(await locality(tenant_id, period, row.lang))
            code = codes.get(tenant_id, str(tenant_id))
            archive.writestr(f"{code}.xlsx", content)
            for name, data in workbook_csvs(content).items():
                archive.writestr(f"{code}/{name}", data)
            await _progress(row, done=done)
        if len(localities) > 1:
            content = comparison_workbook(localities, period, row.lang)
            archive.writestr(COMPARISON, content)
            for name, data in workbook_csvs(content).items():
                archive.writestr(f"{COMPARISON.removesuffix('.xlsx')}/{name}", data)
    key = make_key(row.tenant_id, row.id, "zip")
    await storage.save(key, out.getvalue(), "application/zip")
    await _progress(row, done=row.steps, state="done", file_key=key, finished_at=clock.now())


async def locality(tenant_id: uuid.UUID, period: Period, lang: str) -> Locality:
    """One column of the comparison (inside the tenant's transaction)."""
    tenant = await Tenant.get(id=tenant_id)
    pilot = await Pilot.get_or_none(tenant_id=tenant_id)
    figures = (await tenant_statistics(system_scope(tenant_id), tenant_id, period)).total
    return Locality(
        name=tenant.name_en if lang == "en" else tenant.name_vi,
        figures=figures,
        on_time_target=pilot.on_time_target if pilot else None,
        satisfied_target=pilot.satisfied_target if pilot else None,
    )


async def run_pending(storage: Storage) -> int:
    """Take and run the pending exports of every active tenant, one at a time (and any left
    running ``ABANDONED_AFTER`` ago); a failure marks that export failed (logged) and the others
    still run."""
    ran = 0
    for tenant in await Tenant.filter(status=TenantStatus.ACTIVE).order_by("code"):
        while True:
            async with tenant_transaction(tenant.id) as conn:
                taken = await conn.execute_query_dict(
                    "UPDATE stats_export SET state = 'running', taken_at = $2 WHERE id = "
                    "(SELECT id FROM stats_export WHERE tenant_id = $1 AND (state = 'pending' "
                    "OR state = 'running' AND taken_at < $3) ORDER BY created_at "
                    "LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING id",
                    [tenant.id, clock.now(), clock.now() - ABANDONED_AFTER],
                )
                row = await StatsExport.get(id=taken[0]["id"]) if taken else None
            if row is None:
                break
            try:
                await run_export(row, storage)
            except Exception:
                log.exception("evaluation export %s failed", row.id)
                await _progress(row, state="failed", finished_at=clock.now())
            ran += 1
    return ran


async def purge_expired(storage: Storage, kept_for: timedelta = KEPT_FOR) -> int:
    """Exports done more than ``kept_for`` ago become ``expired`` and their files leave the
    storage: the row is updated first (committed), so a link is never shown to a removed file;
    a file whose removal fails stays behind, logged. Active tenants only (a read-only tenant's
    rows cannot change: its exports expire once it is active again). The number expired."""
    cutoff = clock.now() - kept_for
    expired = 0
    for tenant in await Tenant.filter(status=TenantStatus.ACTIVE).order_by("code"):
        async with tenant_transaction(tenant.id) as conn:
            rows = await conn.execute_query_dict(
                "WITH old AS (SELECT id, file_key FROM stats_export WHERE tenant_id = $1 "
                "AND state = 'done' AND finished_at < $2 FOR UPDATE) "
                "UPDATE stats_export e SET state = 'expired', file_key = NULL FROM old "
                "WHERE e.id = old.id RETURNING old.file_key",
                [tenant.id, cutoff],
            )
        for row in rows:
            expired += 1
            if row["file_key"]:
                try:
                    await storage.delete(row["file_key"])
                except Exception:
                    log.exception("expired export file %s not removed", row["file_key"])
    return expired
