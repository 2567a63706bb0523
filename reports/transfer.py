"""Transfer of a report to another locality or to the province (issue 12, item 3): the one
audited path across tenants. Use it through ``reports.service``.

A report that belongs elsewhere (a Sa Pa point taken by Lào Cai's hotline, a national road that
is the province's) is transferred, not rejected. In the caller's own transaction:

1. the report is checked in the sending tenant (its version, the TRANSFER step of the
   workflow table, the caller's ``report:assign`` on it);
2. inside a savepoint bound to the receiving tenant (``permissions.session.tenant_transaction``:
   RLS there sees and accepts that tenant's rows only, exactly as for its own requests), a copy
   is written with the receiving tenant's own code, field and screening deadline, the
   reporter's contact, the whole history (copied as it was, marked with where it came from)
   and the attachment rows (the stored files are shared, not copied), then one
   RECEIVE_TRANSFER event;
3. back in the sending tenant, the report becomes TRANSFERRED (at the version the caller read,
   else STALE_VERSION and the whole step, copy included, is undone) (terminal, read-only) and keeps
   where it went; its TRANSFER event tells the reporter where and why.

The reporter follows the copy by the same tracking code (a signed-in reporter, who had none,
gets one, shown only to them on the record left behind). Nothing else crosses tenants: the
receiving tenant is named by its code and must be active and of the same province."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from core import clock
from core.errors import DomainError, NotFound
from core.glossary import Term
from core.ids import new_id
from permissions.scope import Scope
from permissions.session import tenant_transaction
from reports import locator
from reports.codes import allocate_code, new_tracking_code
from reports.models import Attachment, Report, ReporterContact, ReportEvent
from reports.records import (
    due_at,
    load_report,
    record_event,
    stale_error,
    tenant_rules,
    update_report,
)
from reports.workflow import (
    ActorKind,
    ReportState,
    SideAction,
    WorkflowAction,
    find_transition,
    validate_reason,
)
from tenants.models import Agency, Field, Tenant, TenantStatus
from tenants.sla import Stage

log = logging.getLogger("paht.audit")
TENANT_FIELD = "tenantCode"


async def _receiving_tenant(source: Tenant, code: str) -> Tenant:
    target = await Tenant.get_or_none(code=(code or "").strip())
    same_province = bool(source.province_code) and (
        target is not None and target.province_code == source.province_code
    )
    if target is None or target.status != TenantStatus.ACTIVE or not same_province:
        raise NotFound(Term.TENANT, TENANT_FIELD)
    if target.id == source.id:
        raise DomainError(
            "SAME_TENANT",
            "Cần chọn một đơn vị triển khai khác đơn vị đang giữ phản ánh.",
            "Choose a locality other than the one holding the report.",
            TENANT_FIELD,
        )
    return target


def _copied_event(
    event: ReportEvent, tenant_id: uuid.UUID, report_id: uuid.UUID, origin: dict[str, Any]
) -> ReportEvent:
    """The event as it happened in the sending tenant. Its agency is the sending tenant's, so
    the copy keeps it by name in ``data.transferred_from`` (no reference crosses tenants)."""
    return ReportEvent(
        id=new_id(),
        tenant_id=tenant_id,
        report_id=report_id,
        actor_user_id=event.actor_user_id,
        actor_role=event.actor_role,
        actor_agency_id=None,
        action=event.action,
        from_state=event.from_state,
        to_state=event.to_state,
        reason_code=event.reason_code,
        comment=event.comment,
        public=event.public,
        data={**(event.data or {}), "transferred_from": origin},
        created_at=event.created_at,
    )


async def transfer_report(
    scope: Scope,
    report_id: uuid.UUID,
    expected_version: int,
    tenant_code: str,
    comment: str | None,
) -> Report:
    """Transfer the report to the tenant ``tenant_code``; returns the record left behind."""
    tenant_id = scope.require_tenant()
    report = await load_report(scope, report_id, "id")
    if report.version != expected_version:
        raise stale_error()
    rules = await tenant_rules(tenant_id)
    t = find_transition(ReportState(report.state), WorkflowAction.TRANSFER, options=rules.options)
    scope.require_on(t.permission, report.lead_agency_id, report.field_id)
    validate_reason(t, None, comment)
    source = await Tenant.get(id=tenant_id)
    target = await _receiving_tenant(source, tenant_code)
    field_row = await Field.get(tenant_id=tenant_id, id=report.field_id)
    now = clock.now()  # the one instant of the transfer, in both tenants
    history = await ReportEvent.filter(tenant_id=tenant_id, report_id=report.id).order_by(
        "created_at", "id"
    )
    attachments = await Attachment.filter(tenant_id=tenant_id, report_id=report.id).order_by("id")
    contact = await ReporterContact.get_or_none(tenant_id=tenant_id, report_id=report.id)
    agency_ids = {e.actor_agency_id for e in history if e.actor_agency_id}
    agency_names = {
        a.id: a.name_vi for a in await Agency.filter(tenant_id=tenant_id, id__in=agency_ids)
    }
    tracking = report.tracking_code or new_tracking_code()
    log.info(
        "cross-tenant transfer",
        extra={
            "user_id": str(scope.user_id),
            "from_tenant": str(tenant_id),
            "to_tenant": str(target.id),
            "report_id": str(report.id),
        },
    )
    async with tenant_transaction(target.id):
        copy, event_ids = await _write_copy(
            scope, report, source, target, field_row, tracking, now, history, agency_names
        )
        await _copy_rows(copy, contact, attachments, event_ids)
    # A concurrent change fails here (STALE_VERSION) and the savepoint undoes the copy too.
    left = await update_report(
        report,
        now,
        expected_version=expected_version,
        state=t.to_state.value,
        closed_at=now,
        tracking_code=tracking,
        transferred_to_tenant_id=target.id,
        transferred_to_code=copy.code,
    )
    await record_event(
        scope,
        left,
        WorkflowAction.TRANSFER,
        ActorKind.STAFF,
        at=now,
        from_state=report.state,
        to_state=t.to_state.value,
        comment=comment,
        data={"to_tenant": target.code, "to_code": copy.code, "closed_at": now},
    )
    return left


async def _write_copy(
    scope: Scope,
    report: Report,
    source: Tenant,
    target: Tenant,
    field_row: Field,
    tracking: str,
    now: datetime,
    history: list[ReportEvent],
    agency_names: dict[uuid.UUID, str],
) -> tuple[Report, dict[uuid.UUID, uuid.UUID]]:
    """The copy in the receiving tenant, and its events' ids by the originals'."""
    target_field = await Field.get_or_none(tenant_id=target.id, code=field_row.code, active=True)
    if target_field is None:
        raise DomainError(
            "FIELD_NOT_AVAILABLE",
            f"Đơn vị triển khai nhận không có lĩnh vực «{field_row.name_vi}».",
            f"The receiving locality has no field {field_row.code!r}.",
            TENANT_FIELD,
        )
    target_rules = await tenant_rules(target.id)
    found = await locator.locate(report.latitude, report.longitude, prefer_tenant=target.id)
    copy = Report(
        id=new_id(),
        tenant_id=target.id,
        code=await allocate_code(target, now.astimezone(target_rules.calendar.timezone).year),
        title=report.title,
        description=report.description,
        field_id=target_field.id,
        unit_code=found.unit_code if found.tenant_id == target.id else None,
        latitude=report.latitude,
        longitude=report.longitude,
        address=report.address,
        urgency=report.urgency,
        state=ReportState.SUBMITTED.value,
        reporter_user_id=report.reporter_user_id,
        anonymous=report.anonymous,
        tracking_code=tracking,
        sla_version=target_rules.sla.version,
        answers=report.answers,
        reporter_kind=report.reporter_kind,
        channel=report.channel,
        transferred_from_tenant_id=source.id,
        transferred_from_code=report.code,
        created_at=now,
    )
    copy.screen_due_at = await due_at(target_rules, copy, Stage.SCREEN, now)
    await copy.save()
    ids: dict[uuid.UUID, uuid.UUID] = {}
    copies = []
    for event in history:
        origin = {
            "tenant": source.code,
            "code": report.code,
            "agency": agency_names.get(event.actor_agency_id) if event.actor_agency_id else None,
        }
        copied = _copied_event(event, target.id, copy.id, origin)
        ids[event.id] = copied.id
        copies.append(copied)
    await ReportEvent.bulk_create(copies)
    await record_event(
        None,
        copy,
        SideAction.RECEIVE_TRANSFER,
        ActorKind.SYSTEM,
        at=now,
        from_state=None,
        to_state=ReportState.SUBMITTED.value,
        data={
            "from_tenant": source.code,
            "from_code": report.code,
            "transferred_by_user_id": scope.user_id,
            "screen_due_at": copy.screen_due_at,
        },
    )
    return copy, ids


async def _copy_rows(
    copy: Report,
    contact: ReporterContact | None,
    attachments: list[Attachment],
    ids: dict[uuid.UUID, uuid.UUID],
) -> None:
    if contact is not None:
        await ReporterContact.create(
            tenant_id=copy.tenant_id,
            report_id=copy.id,
            name=contact.name,
            phone=contact.phone,
            email=contact.email,
            language=contact.language,
            notify_by=contact.notify_by,
            created_at=contact.created_at,
        )
    if attachments:
        await Attachment.bulk_create(
            [
                Attachment(
                    id=new_id(),
                    tenant_id=copy.tenant_id,
                    report_id=copy.id,
                    event_id=ids.get(a.event_id) if a.event_id else None,
                    kind=a.kind,
                    content_type=a.content_type,
                    storage_key=a.storage_key,
                    thumbnail_key=a.thumbnail_key,
                    size=a.size,
                    sha256=a.sha256,
                    width=a.width,
                    height=a.height,
                    created_at=a.created_at,
                )
                for a in attachments
            ]
        )
