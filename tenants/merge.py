"""Merging tenants when localities merge (docs/domain.md §12): every record of each source moves
into the target (reports with their codes, history, files' rows, side processes, contacts,
agencies, fields, memberships, roles and policies, webhooks, Open311 clients), then the source
becomes read-only ``MERGED`` with ``successor`` = the target.

One source at a time, each in one transaction, through the one privileged path: the database
function ``paht_merge_tenant`` (migration 0023), which also writes the step log
(``tenant_merge_step``). A merge interrupted between sources is resumed by running it again:
sources already merged into the target are skipped. Row-level security is not weakened (the
function's extra policy applies to the owner role only, for the two tenants it names).

What stays with a source: its regulation (calendar, SLA table, options), channel settings and
templates, counters of its own report prefix (its codes stay unique: the prefix differs),
sessions, and its daily statistics aggregates (its evaluation as it was). In the same
transaction the moved reports are marked for the statistics pass as new to the target (their
folded contributions dropped, ``hand_over_statistics``), so the target's figures count them
once.
A field whose code the target already has joins the target's field (a classification shared by
code: the reports, grants and figures that named it name the target's; migration 0030). Agency
codes the target already uses are prefixed with the source's code (``sa-pa-phong-qldt``): an
agency is a body of one locality.

Media files keep their storage keys (the first segment names the source tenant); readers
follow ``Tenant.successor`` (:func:`holder_of`)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.transactions import in_transaction

from core.errors import DomainError, NotFound, Validator
from core.glossary import Term
from core.statistics_lock import lock_statistics
from permissions.actions import Action
from permissions.scope import Scope
from permissions.session import tenant_transaction
from permissions.store import policy_changed, store
from tenants.models import Tenant, TenantStatus

log = logging.getLogger("paht.audit")

# What a dry run counts (the tables the database function moves).
MOVED_TABLES = (
    "agency", "field", "membership", "role", "casbin_rule",
    "report", "report_event", "reporter_contact", "attachment", "extension_request",
    "info_request", "notification", "notification_read", "reporter_identity_view",
    "stats_report", "stats_dirty", "webhook_endpoint", "outbox_message", "open311_client",
)  # fmt: skip


@dataclass
class MergePlan:
    target: Tenant
    sources: list[Tenant]
    counts: dict[str, dict[str, int]] = field(default_factory=dict)  # source code -> table -> n
    renamed: dict[str, list[str]] = field(default_factory=dict)  # source code -> agency codes
    joined: dict[str, list[str]] = field(default_factory=dict)  # source code -> field codes
    done: list[str] = field(default_factory=list)  # sources already merged into the target

    @property
    def key(self) -> str:
        return f"{self.target.code}<-{'+'.join(sorted(s.code for s in self.sources))}"


async def _tenants(
    scope: Scope, source_ids: Sequence[uuid.UUID], target_id: uuid.UUID
) -> MergePlan:
    scope.require(Action.TENANT_ONBOARD)
    wanted = {*source_ids, target_id}
    found = {t.id: t for t in await Tenant.filter(id__in=list(wanted))}
    v = Validator()

    def reachable(tid: uuid.UUID) -> bool:
        return tid in found and (scope.provincial or tid in scope.readable_tenant_ids)

    if not reachable(target_id):
        raise NotFound(Term.TENANT, "target")
    for i, sid in enumerate(source_ids):
        if not reachable(sid):
            raise NotFound(Term.TENANT, f"sources[{i}]")
    target = found[target_id]
    if target_id in source_ids or len(set(source_ids)) != len(source_ids) or not source_ids:
        v.add(
            "INVALID",
            "sources",
            "Danh sách đơn vị sáp nhập không hợp lệ (trống, trùng hoặc chứa đơn vị nhận).",
            "The sources must be distinct, non-empty and not include the target.",
        )
    if target.status != TenantStatus.ACTIVE:
        v.add(
            "TARGET_NOT_ACTIVE",
            "target",
            "Đơn vị nhận sáp nhập phải đang hoạt động.",
            "The target must be active.",
        )
    for i, sid in enumerate(source_ids):
        source = found.get(sid)
        if source and source.status == TenantStatus.MERGED and source.successor_id != target_id:
            v.add(
                "ALREADY_MERGED",
                f"sources[{i}]",
                f"{source.name_vi} đã được sáp nhập vào đơn vị khác.",
                f"{source.name_en} was merged into another tenant.",
            )
    v.check()
    return MergePlan(target, [found[s] for s in source_ids])


async def plan_merge(
    scope: Scope, source_ids: Sequence[uuid.UUID], target_id: uuid.UUID
) -> MergePlan:
    """What a merge would move (the dry run): rows per table and source, the agency codes
    prefixed and the field codes joined to the target's."""
    plan = await _tenants(scope, source_ids, target_id)
    async with tenant_transaction(plan.target.id) as conn:
        taken = {
            kind: {r["code"] for r in await conn.execute_query_dict(f"SELECT code FROM {kind}")}
            for kind in ("agency", "field")
        }
    for source in plan.sources:
        if source.status == TenantStatus.MERGED:
            plan.done.append(source.code)
            continue
        async with tenant_transaction(source.id) as conn:
            counts = {}
            for table in MOVED_TABLES:
                rows = await conn.execute_query_dict(f"SELECT count(*) AS n FROM {table}")
                counts[table] = int(rows[0]["n"])
            own = {
                kind: {r["code"] for r in await conn.execute_query_dict(f"SELECT code FROM {kind}")}
                for kind in ("agency", "field")
            }
        renamed, joined = (
            sorted(own["agency"] & taken["agency"]),
            sorted(own["field"] & taken["field"]),
        )
        counts["field"] -= len(joined)  # joined, not moved
        plan.counts[source.code] = counts
        plan.renamed[source.code], plan.joined[source.code] = renamed, joined
        # the next source meets what this one brought (as the merge, one source at a time)
        taken["agency"] |= {f"{source.code}-{c}"[:40] if c in renamed else c for c in own["agency"]}
        taken["field"] |= own["field"]
    return plan


async def merge_tenants(
    scope: Scope,
    source_ids: Sequence[uuid.UUID],
    target_id: uuid.UUID,
    *,
    after_source: Callable[[Tenant], Awaitable[None]] | None = None,
) -> MergePlan:
    """Merge the sources into the target, one atomic step per source; returns the plan with
    the rows each step moved. ``after_source`` runs after each step (tests interrupt there)."""
    plan = await plan_merge(scope, source_ids, target_id)
    log.info("tenant merge", extra={"merge": plan.key, "by": str(scope.user_id), "dry_run": False})
    try:
        for source in plan.sources:
            if source.code in plan.done:
                await _rehome_accounts(source)  # resumed: this step is in the log already
                continue
            async with in_transaction() as conn:
                await lock_statistics(conn, source.id, plan.target.id)
                async with tenant_transaction(source.id) as held:
                    await hand_over_statistics(held, source.id)
                rows = await conn.execute_query_dict(
                    "SELECT paht_merge_tenant($1, $2, $3, $4) AS moved",
                    [source.id, plan.target.id, plan.key, scope.user_id],
                )
                await _rehome_accounts(source)
            moved = rows[0]["moved"]
            plan.counts[source.code] = json.loads(moved) if isinstance(moved, str) else moved
            plan.done.append(source.code)
            if after_source is not None:
                await after_source(source)
    finally:
        for tenant in (plan.target, *plan.sources):
            async with in_transaction() as conn:
                await policy_changed(conn, tenant.id)
            store.invalidate(tenant.id)
    return plan


async def _rehome_accounts(source: Tenant) -> None:
    """The source's staff accounts now live in the target, where their memberships went: a
    login (with the target's code, or none) finds them there (migration 0027)."""
    rows = await connections.get("default").execute_query_dict(
        "SELECT * FROM paht_rehome_accounts($1)", [source.id]
    )
    if rows and rows[0]["left_behind"]:
        log.warning(
            "accounts not moved: their usernames are taken in the target",
            extra={"source": source.code, "left": rows[0]["left_behind"]},
        )


async def hand_over_statistics(conn: BaseDBAsyncClient, source_id: uuid.UUID) -> None:
    """Just before a source's reports move (same transaction, as the source): the statistics
    pass is to fold them in the target as new. What they contributed was added to the source's
    aggregates, which stay (its evaluation as it was), so it must not be taken back from the
    target's: their ``stats_report`` rows go; their marks (``stats_dirty``) move with them."""
    await conn.execute_query("DELETE FROM stats_report WHERE tenant_id = $1", [source_id])
    await conn.execute_query(
        "INSERT INTO stats_dirty (id, tenant_id) SELECT id, tenant_id FROM report "
        "WHERE tenant_id = $1 ON CONFLICT (id) DO NOTHING",
        [source_id],
    )


async def holder_of(tenant_id: uuid.UUID) -> uuid.UUID:
    """The tenant that holds a tenant's records today: itself, or the end of its successor
    chain once it has been merged."""
    seen = {tenant_id}
    current = await Tenant.get_or_none(id=tenant_id)
    while current is not None and current.status == TenantStatus.MERGED and current.successor_id:
        if current.successor_id in seen:
            break
        seen.add(current.successor_id)
        current = await Tenant.get_or_none(id=current.successor_id)
    if current is None:
        raise DomainError("NOT_FOUND", "Không tìm thấy.", "Not found.")
    return current.id
