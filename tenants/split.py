"""Splitting a tenant by administrative units (issue 15, docs/domain.md §12): the reports of the
given units, with everything that belongs to them, move from a source tenant into an existing
target (onboarded beforehand, active); the source stays active with its other units.

A report moves when its administrative unit (``report.unit_code``, the unit of its time) is one
of the given units, or every unit of today it became (``UnitHistory.today_codes``) is; a
duplicate goes with its master (the link is within one tenant). With each report move its
history, contact, attachments' rows, extension and information requests, notifications (and
who read them), identity-view trail; its statistics are given back by the source's aggregates
at once and folded in the target at its next statistics pass. The units themselves leave the
source's scope for the target's.

Agencies and fields the moved rows name are mapped by code to the target's; one the target
lacks is copied under the same code. What stays with the source: memberships, roles and
policies (people are granted again in the target by its administrators), the regulation,
channel settings and templates, webhooks and the delivery queue (a webhook message is bound to
the source's endpoint; e-mail and SMS already written go out as written), Open311 clients,
citizens' profiles, report counters of its prefix.

One transaction through the privileged path the merge uses (the database function
``paht_split_tenant``, migration 0028; its step is logged in ``tenant_merge_step``, step
``split``). A rerun moves nothing twice: only reports still in the source move. The old codes
keep resolving in the source through ``report_forward``: :func:`forwarded_to` follows it (and
``trackReport`` with it), also once the source is merged into another tenant (the forwards stay
with the merged source, read through its successor); the media files keep their storage keys.
A dry run runs the same function and rolls it back, so its counts are exactly what the split
would do."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from tortoise.transactions import in_transaction

from core import clock
from core.errors import DomainError, NotFound, Validator
from core.glossary import Term
from core.statistics_lock import lock_statistics
from permissions.actions import Action
from permissions.scope import Scope
from permissions.session import tenant_transaction
from tenants.merge import holder_of
from tenants.models import ReportForward, Tenant, TenantStatus
from tenants.units import UnitHistory

log = logging.getLogger("paht.audit")

# What a split reports, per table (rows moved, or for agency/field copied into the target,
# stats_report/stats_stage_time given back by the source, stats_dirty marked in the target).
COUNTED = (
    "report", "report_event", "reporter_contact", "attachment", "extension_request",
    "info_request", "notification", "notification_read", "reporter_identity_view",
    "report_forward", "agency", "field", "stats_report", "stats_stage_time", "stats_dirty",
    "unit",
)  # fmt: skip
MAX_HOPS = 8  # a forward chain (split after split) is short; this only stops a cycle


@dataclass
class SplitPlan:
    source: Tenant
    target: Tenant
    units: list[str]  # as asked
    moved_units: list[str] = field(default_factory=list)  # source's unit codes that go
    report_ids: list[uuid.UUID] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def key(self) -> str:
        return f"{self.target.code}<-{self.source.code}[{','.join(sorted(self.units))}]"[:200]


class _DryRun(Exception):
    """Rolls the dry run's transaction back."""


def _reachable(scope: Scope, found: dict[uuid.UUID, Tenant], tid: uuid.UUID) -> bool:
    return tid in found and (scope.provincial or tid in scope.readable_tenant_ids)


async def _check(
    scope: Scope, source_id: uuid.UUID, target_id: uuid.UUID, units: Sequence[str]
) -> tuple[SplitPlan, UnitHistory]:
    scope.require(Action.TENANT_ONBOARD)
    found = {t.id: t for t in await Tenant.filter(id__in=[source_id, target_id])}
    if not _reachable(scope, found, source_id):
        raise NotFound(Term.TENANT, "source")
    if not _reachable(scope, found, target_id):
        raise NotFound(Term.TENANT, "target")
    source, target = found[source_id], found[target_id]
    codes = [u.strip() for u in units]
    v = Validator()
    if source_id == target_id:
        v.add(
            "SAME_TENANT",
            "target",
            "Đơn vị nhận phải khác đơn vị được chia tách.",
            "The target must differ from the source.",
        )
    if source.status != TenantStatus.ACTIVE:
        v.add(
            "SOURCE_NOT_ACTIVE",
            "source",
            "Đơn vị được chia tách phải đang hoạt động.",
            "The source must be active.",
        )
    if target.status != TenantStatus.ACTIVE:
        v.add(
            "TARGET_NOT_ACTIVE",
            "target",
            "Đơn vị nhận phải đang hoạt động.",
            "The target must be active.",
        )
    if not codes or len(set(codes)) != len(codes) or not all(codes):
        v.add(
            "INVALID",
            "units",
            "Danh sách đơn vị hành chính không hợp lệ (trống hoặc trùng).",
            "The units must be distinct and non-empty.",
        )
    history = await UnitHistory.load()
    # A unit is the source's when it lists it, or when one of its units became it; a unit the
    # target already took (an earlier run of this split) is accepted: the rerun is a no-op.
    held = {d for u in source.unit_codes or () for d in history.descendants(u)}
    held |= set(target.unit_codes or ())
    for i, code in enumerate(codes):
        if code and not history.knows(code):
            v.add(
                "UNKNOWN_UNIT",
                f"units[{i}]",
                f"Không có đơn vị hành chính mã «{code}».",
                f"There is no administrative unit {code}.",
            )
        elif code and code not in held:
            v.add(
                "UNIT_NOT_IN_SOURCE",
                f"units[{i}]",
                f"Đơn vị hành chính «{code}» không thuộc {source.name_vi}.",
                f"Administrative unit {code} is not one of {source.name_en}'s.",
            )
    v.check()
    return SplitPlan(source, target, codes), history


def _goes(history: UnitHistory, code: str | None, on: date, today: date, units: set[str]) -> bool:
    if code is None:
        return False
    return code in units or set(history.today_codes(code, on, today)) <= units


def _last_day(history: UnitHistory, code: str, today: date) -> date:
    """A unit the source lists is read as its latest version, on its last day in force."""
    latest = history.latest(code)
    return latest.valid_to if latest is not None and latest.valid_to is not None else today


async def plan_split(
    scope: Scope, source_id: uuid.UUID, target_id: uuid.UUID, units: Sequence[str]
) -> SplitPlan:
    """Check the input and choose what moves: the reports and the source's unit codes."""
    plan, history = await _check(scope, source_id, target_id, units)
    wanted, today = set(plan.units), clock.now()
    plan.moved_units = sorted(
        u
        for u in plan.source.unit_codes or ()
        if _goes(history, u, _last_day(history, u, today.date()), today, wanted)
    )
    async with tenant_transaction(plan.source.id) as conn:
        rows = await conn.execute_query_dict(
            "SELECT id, code, unit_code, created_at, duplicate_of_id FROM report"
        )
    by_id = {r["id"]: r for r in rows}
    chosen = {
        r["id"] for r in rows if _goes(history, r["unit_code"], r["created_at"], today, wanted)
    }

    def master(report_id: uuid.UUID) -> uuid.UUID:
        seen = {report_id}
        while (up := by_id[report_id]["duplicate_of_id"]) in by_id and up not in seen:
            seen.add(up)
            report_id = up
        return report_id

    # a duplicate goes where its master goes (the link stays within one tenant)
    plan.report_ids = sorted(r for r in by_id if master(r) in chosen)
    codes = [by_id[r]["code"] for r in plan.report_ids]
    async with tenant_transaction(plan.target.id) as conn:
        taken = await conn.execute_query_dict(
            "SELECT code FROM report WHERE code = ANY($1::text[]) ORDER BY code", [codes]
        )
    if taken:
        shown = ", ".join(r["code"] for r in taken[:5])
        raise DomainError(
            "REPORT_CODE_TAKEN",
            f"{plan.target.name_vi} đã có phản ánh cùng mã: {shown}.",
            f"{plan.target.name_en} already holds reports with the same codes: {shown}.",
            "target",
        )
    return plan


def _scope_codes(plan: SplitPlan) -> list[str]:
    """The codes the target lists afterwards: the source's that go, and those asked for."""
    return sorted({*plan.moved_units, *plan.units})


async def _run(plan: SplitPlan, actor: uuid.UUID | None) -> dict[str, int]:
    async with in_transaction() as conn:
        await lock_statistics(conn, plan.source.id, plan.target.id)
        rows = await conn.execute_query_dict(
            "SELECT paht_split_tenant($1, $2, $3::uuid[], $4::text[], $5, $6) AS moved",
            [plan.source.id, plan.target.id, plan.report_ids, _scope_codes(plan), plan.key, actor],
        )
    moved = rows[0]["moved"]
    counts = json.loads(moved) if isinstance(moved, str) else moved
    return {t: int(counts.get(t, 0)) for t in COUNTED}


async def split_tenant(
    scope: Scope,
    source_id: uuid.UUID,
    target_id: uuid.UUID,
    units: Sequence[str],
    *,
    dry_run: bool = False,
) -> SplitPlan:
    """Move the reports of ``units`` from the source into the target, in one transaction (or,
    with ``dry_run``, say what would move and change nothing). Returns the plan with the rows
    moved per table."""
    plan = await plan_split(scope, source_id, target_id, units)
    plan.dry_run = dry_run
    log.info(
        "tenant split", extra={"split": plan.key, "by": str(scope.user_id), "dry_run": dry_run}
    )
    if not plan.report_ids and set(_scope_codes(plan)) <= set(plan.target.unit_codes or ()):
        plan.counts = dict.fromkeys(COUNTED, 0)  # done before: nothing left to move
        return plan
    if not dry_run:
        plan.counts = await _run(plan, scope.user_id)
        return plan
    try:
        async with in_transaction():
            plan.counts = await _run(plan, scope.user_id)
            raise _DryRun
    except _DryRun:
        pass
    return plan


async def _merged_into(tenant_id: uuid.UUID) -> list[uuid.UUID]:
    """The tenant and those merged into it (their forwards stayed with them), transitively."""
    found, pending = [tenant_id], [tenant_id]
    while pending:
        rows = await Tenant.filter(successor_id__in=pending, status=TenantStatus.MERGED)
        pending = [r.id for r in rows if r.id not in found]
        found += pending
    return found


async def _forward(
    tenant_id: uuid.UUID, code: str | None, tracking_code: str | None
) -> ReportForward | None:
    for holder in await _merged_into(tenant_id):
        async with tenant_transaction(holder):
            query = ReportForward.filter(tenant_id=holder)
            query = query.filter(code=code) if code else query.filter(tracking_code=tracking_code)
            forward = await query.first()
        if forward is not None:
            return forward
    return None


async def forwarded_to(
    tenant_id: uuid.UUID, *, code: str | None = None, tracking_code: str | None = None
) -> uuid.UUID | None:
    """The active tenant that now holds a report that left ``tenant_id`` (or a tenant merged
    into it) in a split, named by its code or tracking code, following later splits and
    merges; None if it never left. Reads each tenant's forwards in that tenant's own RLS
    transaction."""
    if not code and not tracking_code:
        return None
    current, seen = tenant_id, {tenant_id}
    for _ in range(MAX_HOPS):
        forward = await _forward(current, code, tracking_code)
        if forward is None:
            break
        current = await holder_of(forward.target_tenant_id)
        if current in seen:
            break
        seen.add(current)
    if current == tenant_id:
        return None
    holder = await Tenant.get_or_none(id=current)
    return current if holder is not None and holder.status == TenantStatus.ACTIVE else None
