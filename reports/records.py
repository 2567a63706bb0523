"""What every writer of reports shares: the tenant's rules and deadlines, loading a report,
changing its row (one optimistic version bump) and appending to its history (one event writer).

The writers are the use cases — submission, transitions, side (comments, publication),
deadline_extensions (extensions, questions to the reporter), attachments, reminders and the
job runner — and each of them goes through here for events and version bumps. Resolvers never
write."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from tortoise import connections
from tortoise.expressions import F

from core.batch import Batch, columns_of, from_row
from core.errors import DomainError, NotFound, Validator
from core.glossary import Term
from permissions.scope import Scope
from reports.models import Report, ReporterContact, ReportEvent
from reports.notify import announce_step, announcement
from reports.workflow import ActorKind, Disclosure, ReportState, disclosure
from tenants import catalog as tenant_catalog
from tenants.calendar import WorkingCalendar
from tenants.models import Agency, Field, ProvinceCalendar, Tenant, TenantSettings
from tenants.options import TenantOptions, WorkflowOption
from tenants.regulation import options_of
from tenants.sla import SlaTable, Stage, Urgency, compute_due


@dataclass(frozen=True)
class TenantRules:
    calendar: WorkingCalendar
    sla: SlaTable
    tenant_options: TenantOptions

    @property
    def options(self) -> frozenset[WorkflowOption]:
        """The optional workflow steps switched on."""
        return self.tenant_options.workflow_options


@cache  # built on first use: the models' columns are complete only once tortoise is set up
def _rules_sql() -> str:
    return (
        f"SELECT {columns_of(Tenant, 't', 't_')}, {columns_of(TenantSettings, 's', 's_')}, "
        "pc.days AS province_days "
        f"FROM (SELECT $1::uuid AS id) k LEFT JOIN {Tenant._meta.db_table} t ON t.id = k.id "
        f"LEFT JOIN {TenantSettings._meta.db_table} s ON s.tenant_id = k.id "
        f"LEFT JOIN {ProvinceCalendar._meta.db_table} pc ON pc.province_code = t.province_code"
    )


async def tenant_and_rules(tenant_id: uuid.UUID) -> tuple[Tenant | None, TenantRules]:
    """The tenant row and its rules (its settings over the province's day swaps, entered once
    for all its tenants), in one statement."""
    row = (await connections.get("default").execute_query_dict(_rules_sql(), [tenant_id]))[0]
    tenant = from_row(Tenant, row, "t_") if row["t_id"] is not None else None
    province = None
    if tenant is not None and tenant.province_code and row["province_days"] is not None:
        province = ProvinceCalendar._meta.fields_map["days"].to_python_value(row["province_days"])
    if row["s_id"] is None:
        return tenant, TenantRules(
            WorkingCalendar.from_config(None, province), SlaTable.from_config(None), TenantOptions()
        )
    settings = from_row(TenantSettings, row, "s_")
    return tenant, TenantRules(
        WorkingCalendar.from_config(settings.calendar, province),
        SlaTable.from_config(settings.sla_rules, settings.sla_version),
        options_of(settings),
    )


async def tenant_rules(tenant_id: uuid.UUID) -> TenantRules:
    return (await tenant_and_rules(tenant_id))[1]


async def tenant_time_zones(tenant_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, ZoneInfo]:
    """Each tenant's time zone (its calendar's, as ``tenant_rules`` reads it), in one statement:
    a comparison across localities needs only that of each one's rules."""
    rows = await TenantSettings.filter(tenant_id__in=list(tenant_ids)).values(
        "tenant_id", "calendar"
    )
    found = {r["tenant_id"]: WorkingCalendar.from_config(r["calendar"]).timezone for r in rows}
    default = WorkingCalendar.from_config(None).timezone
    return {t: found.get(t, default) for t in tenant_ids}


async def due_at(rules: TenantRules, report: Report, stage: Stage, start: datetime) -> datetime:
    field_row = await Field.get_or_none(tenant_id=report.tenant_id, id=report.field_id)
    return due_for(
        rules, field_row.code if field_row else None, Urgency(report.urgency), stage, start
    )


def due_for(
    rules: TenantRules, field_code: str | None, urgency: Urgency, stage: Stage, start: datetime
) -> datetime:
    """The deadline of ``stage`` started at ``start``, on the tenant's calendar."""
    rule = rules.sla.rule_for(stage, field_code, urgency)
    return compute_due(rules.calendar, start, rule.duration, urgency).astimezone(UTC)


# --- reading and changing the report row ------------------------------------------------------
async def load_report(scope: Scope, report_id: uuid.UUID, field: str = "reportId") -> Report:
    """The report in the scope's own tenant (RLS hides other tenants' rows): else NOT_FOUND."""
    tenant_id = scope.require_tenant()
    report = await Report.get_or_none(tenant_id=tenant_id, id=report_id)
    if report is None:
        raise NotFound(Term.REPORT, field)
    return report


def require_state(report: Report, allowed: Collection[ReportState], code: str) -> ReportState:
    state = ReportState(report.state)
    if state not in allowed:
        names_vi = ", ".join(f"«{s.label_vi}»" for s in sorted(allowed))
        names_en = ", ".join(s.value for s in sorted(allowed))
        raise DomainError(
            code,
            f"Không thể thực hiện khi phản ánh đang ở trạng thái «{state.label_vi}» "
            f"(chỉ khi: {names_vi}).",
            f"Not possible while the report is {state.value} (only when {names_en}).",
            None,
        )
    return state


def clean_text(v: Validator, field_name: str, value: str | None, max_len: int) -> str:
    return v.text(field_name, value, max_len=max_len) or ""


def is_reporter(scope: Scope, report: Report) -> bool:
    return scope.user_id is not None and scope.user_id == report.reporter_user_id


def stale_error() -> DomainError:
    return DomainError(
        "STALE_VERSION",
        "Phản ánh vừa được người khác cập nhật; hãy tải lại và thử lại.",
        "The report was changed by someone else; reload and try again.",
        "version",
    )


async def update_report(
    report: Report, now: datetime, *, expected_version: int | None = None, **changes: Any
) -> Report:
    """Change the report row and bump its version, if it is still at ``expected_version``
    (default: the version ``report`` was read at); STALE_VERSION otherwise."""
    version = report.version if expected_version is None else expected_version
    updated = await Report.filter(tenant_id=report.tenant_id, id=report.id, version=version).update(
        version=F("version") + 1, updated_at=now, **changes
    )
    if updated != 1:
        raise stale_error()
    return await Report.get(tenant_id=report.tenant_id, id=report.id)


# --- the history ------------------------------------------------------------------------------
def actor_role(scope: Scope | None, kind: ActorKind) -> str:
    if kind is ActorKind.SYSTEM or scope is None:
        return "system"
    if scope.user_id is None:
        return "anonymous"
    if kind is ActorKind.REPORTER:
        return "reporter"
    return ",".join(sorted(scope.roles))[:200]


async def acting_agency(scope: Scope | None, report: Report, kind: ActorKind) -> uuid.UUID | None:
    """The agency a staff member acted for — what the reporter is told, never the person: the
    report's lead or coordinating agency their grant names, otherwise the coordination centre."""
    if kind is not ActorKind.STAFF or scope is None:
        return None
    granted = {r.agency_id for reaches in scope.role_reach.values() for r in reaches}
    for agency_id in (report.lead_agency_id, *(report.coordinating_agency_ids or ())):
        if agency_id is not None and agency_id in granted:
            return agency_id
    catalog = tenant_catalog.cached(report.tenant_id)
    if catalog is not None:  # this process has the tenant's agencies: no query
        centres = [a for a in catalog.agencies.values() if a.is_coordination_centre and a.active]
        return min(centres, key=lambda a: (a.code, a.id)).id if centres else None
    centre = await Agency.filter(
        tenant_id=report.tenant_id, is_coordination_centre=True, active=True
    ).first()
    return centre.id if centre else None


def json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list):
        return [json_value(v) for v in value]
    return value


_CURRENT = object()  # the report's state as it is


async def record_event(
    scope: Scope | None,
    report: Report,
    action: str,
    actor: ActorKind,
    *,
    at: datetime,
    from_state: str | object | None = _CURRENT,
    to_state: str | object = _CURRENT,
    reason_code: str | None = None,
    comment: str | None = None,
    public: bool = False,
    data: dict[str, Any] | None = None,
) -> ReportEvent:
    """Append one event at the step's instant ``at``. A side step leaves the state as it is
    (both states default to the report's). Whether the reporter reads the comment follows the
    workflow's disclosure of the action (``public`` only opens a comment the author chose to
    make public)."""
    event = await _new_event(
        scope, report, action, actor, at=at, from_state=from_state, to_state=to_state,
        reason_code=reason_code, comment=comment, public=public, data=data,
    )  # fmt: skip
    await event.save()
    # The reporter and the webhook subscribers are told in this same transaction (outbox).
    await announce_step(report, event)
    return event


async def stage_event(
    batch: Batch,
    scope: Scope | None,
    report: Report,
    action: str,
    actor: ActorKind,
    *,
    at: datetime,
    contact: ReporterContact | None,
    tenant: Tenant,
    from_state: str | None = None,
    to_state: str | object = _CURRENT,
    data: dict[str, Any] | None = None,
) -> ReportEvent:
    """``record_event`` for a report written in the same statement (``batch``, submission):
    the event and its outbox messages join the batch instead of being written one by one.
    The report row is not in the database yet, so its ``contact`` (None: none) and ``tenant``
    are given rather than read."""
    event = await _new_event(
        scope, report, action, actor, at=at, from_state=from_state, to_state=to_state, data=data
    )
    batch.insert(event)
    batch.insert(*await announcement(report, event, contact=contact, tenant=tenant))
    return event


async def _new_event(
    scope: Scope | None,
    report: Report,
    action: str,
    actor: ActorKind,
    *,
    at: datetime,
    from_state: str | object | None = _CURRENT,
    to_state: str | object = _CURRENT,
    reason_code: str | None = None,
    comment: str | None = None,
    public: bool = False,
    data: dict[str, Any] | None = None,
) -> ReportEvent:
    state = report.state
    shown = disclosure(action, public) is Disclosure.STEP_AND_COMMENT
    return ReportEvent(
        tenant_id=report.tenant_id,
        report_id=report.id,
        actor_user_id=None if scope is None or actor is ActorKind.SYSTEM else scope.user_id,
        actor_role=actor_role(scope, actor),
        actor_agency_id=await acting_agency(scope, report, actor),
        action=str(action),
        from_state=state if from_state is _CURRENT else from_state,
        to_state=state if to_state is _CURRENT else to_state,
        reason_code=(reason_code or "").strip() or None,
        comment=(comment or "").strip() or None,
        public=shown,
        data={k: json_value(v) for k, v in data.items()} if data else None,
        created_at=at,
    )
