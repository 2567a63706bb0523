"""What leaves the system when a report's history grows: the reporter is told of each public
step through the channel they chose, and the tenant's webhook subscribers get the step as an
event (ids and public data only). Called by the one event writer (reports/records.py), in the
step's own transaction: a rolled-back step sends nothing."""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

from tortoise import connections

from accounts.models import CitizenProfile, User
from core.batch import columns_of, from_row
from outbox.enqueue import event_messages, notify_message, routes
from outbox.models import OutboxMessage
from outbox.templates import Wording, wording
from outbox.vocabulary import Channel, EventType, Language
from reports.models import Report, ReporterContact, ReportEvent
from reports.workflow import (
    SUBMIT,
    Disclosure,
    ReportState,
    SideAction,
    WorkflowAction,
    disclosure,
)
from tenants import catalog as tenant_catalog
from tenants.models import Agency, Tenant

_A = WorkflowAction
STEP_EVENTS: dict[str, EventType] = {
    SUBMIT: EventType.REPORT_RECEIVED,
    _A.REQUEST_INFO: EventType.REPORT_NEEDS_INFO,
    SideAction.ASK_INFO: EventType.REPORT_NEEDS_INFO,
    _A.ASSIGN: EventType.REPORT_TRANSFERRED,
    _A.REROUTE: EventType.REPORT_TRANSFERRED,  # now with another agency (the reason stays inside)
    _A.ACCEPT: EventType.REPORT_IN_PROGRESS,
    _A.APPROVE_RESULT: EventType.REPORT_RESOLVED,
    SideAction.PUBLISH: EventType.REPORT_PUBLISHED,
    _A.REOPEN: EventType.REPORT_REOPENED,
    _A.REJECT: EventType.REPORT_REJECTED,
    _A.MARK_DUPLICATE: EventType.REPORT_REJECTED,
    _A.CLOSE: EventType.REPORT_CLOSED,
    _A.TRANSFER: EventType.REPORT_TRANSFERRED,  # to another locality, named as the agency is
}
# The master's outcome is its duplicates' too: their reporters are told of these steps.
MASTER_OUTCOMES: frozenset[str] = frozenset(
    {_A.APPROVE_RESULT, _A.REJECT, _A.CLOSE, _A.REOPEN, _A.TRANSFER}
)
# The tracking code goes out with the receipt, and with a transfer (the copy is followed by it).
_WITH_TRACKING = frozenset({SUBMIT, _A.TRANSFER})
del _A


def event_type_of(event: ReportEvent) -> EventType | None:
    if event.action == SideAction.PUBLISH and not (event.data or {}).get("published"):
        return None  # taking a result off the feed is nobody's news
    return STEP_EVENTS.get(event.action)


# ``contact`` not given: look it up (the report row is written already).
_LOOK_UP: Any = object()


@cache  # built on first use: the models' columns are complete only once tortoise is set up
def _user_sql() -> str:
    return (
        f"SELECT u.email AS u_email, u.phone AS u_phone, {columns_of(CitizenProfile, 'p', 'p_')} "
        f"FROM {User._meta.db_table} u LEFT JOIN {CitizenProfile._meta.db_table} p "
        "ON p.tenant_id = $2 AND p.user_id = u.id WHERE u.id = $1"
    )


Recipient = tuple[Channel, str, Language]


async def _recipient(
    report: Report, contact: ReporterContact | None = _LOOK_UP
) -> Recipient | None:
    """The reporter's chosen channel and address, else their e-mail; None when they left no
    way to reach them (an anonymous reporter without contact)."""
    if contact is _LOOK_UP:
        contact = await ReporterContact.get_or_none(tenant_id=report.tenant_id, report_id=report.id)
    language = Language(contact.language) if contact and contact.language else Language.VI
    if contact is not None:
        chosen = Channel(contact.notify_by) if contact.notify_by else None
        if chosen in (Channel.SMS, Channel.ZALO) and contact.phone:
            return chosen, contact.phone, language
        if contact.email and chosen in (None, Channel.EMAIL):
            return Channel.EMAIL, contact.email, language
        if chosen is not None or contact.email or contact.phone:
            return None
    if report.reporter_user_id is not None and not report.anonymous:
        # The account and its profile in this tenant, in one statement.
        rows = await connections.get("default").execute_query_dict(
            _user_sql(), [report.reporter_user_id, report.tenant_id]
        )
        if rows and rows[0]["p_id"] is not None:
            row = rows[0]
            profile = from_row(CitizenProfile, row, "p_")
            return _by_preference(row["u_email"], row["u_phone"], profile)
        if rows and rows[0]["u_email"]:
            return Channel.EMAIL, rows[0]["u_email"], language
    return None


def _by_preference(
    email: str | None, phone: str | None, profile: CitizenProfile
) -> Recipient | None:
    """A self-registered citizen is told through the verified channels they chose (e-mail
    first), in their language; nothing when they chose none (citizens/profile.py)."""
    language = Language(profile.language)
    if profile.notify_email and email and profile.email_verified_at:
        return Channel.EMAIL, email, language
    if profile.notify_sms and phone and profile.phone_verified_at:
        return Channel.SMS, phone, language
    return None


async def _agency(tenant_id: uuid.UUID, agency_id: uuid.UUID) -> Agency | None:
    catalog = tenant_catalog.cached(tenant_id)  # the tenant's agencies, when this process has them
    if catalog is not None and agency_id in catalog.agencies:
        return catalog.agencies[agency_id]
    return await Agency.get_or_none(tenant_id=tenant_id, id=agency_id)


async def _agency_names(report: Report, event: ReportEvent) -> tuple[str, str]:
    if event.action == WorkflowAction.TRANSFER:  # the receiving locality
        other = await Tenant.get_or_none(code=(event.data or {}).get("to_tenant", ""))
        if other is not None:
            return other.name_vi, other.name_en
    agency_id = (event.data or {}).get("lead_agency_id") or event.actor_agency_id
    agency_id = agency_id or report.lead_agency_id
    if agency_id is None:
        return "cơ quan xử lý", "the agency in charge"
    agency = await _agency(report.tenant_id, uuid.UUID(str(agency_id)))
    if agency is None:
        return "cơ quan xử lý", "the agency in charge"
    return agency.name_vi, agency.name_en


async def announce_step(report: Report, event: ReportEvent) -> None:
    for message in await announcement(report, event):
        await message.save()


async def announcement(
    report: Report,
    event: ReportEvent,
    *,
    contact: ReporterContact | None = _LOOK_UP,
    tenant: Tenant | None = None,
) -> list[OutboxMessage]:
    """The outbox messages of ``event``, not written yet: the webhook subscribers' and the
    reporter's (and, for a master's outcome, its duplicates' reporters'). A step that writes
    the report in the same statement gives its ``contact`` (None: none) and ``tenant``."""
    event_type = event_type_of(event)
    if event_type is None:
        return []
    recipient = await _recipient(report, contact)
    language = recipient[2] if recipient else Language.VI
    found = await routes(
        report.tenant_id, event_type, recipient[0] if recipient else None, language
    )
    data = {
        "reportId": str(report.id),
        "code": report.code,
        "action": event.action,
        "fromState": event.from_state,
        "toState": event.to_state,
        "at": event.created_at.isoformat(),
    }
    at = event.created_at
    messages = event_messages(report.tenant_id, event_type, data, found.endpoint_ids, at)
    if recipient is not None:
        told = await _message_to(
            report, report, event, event_type, recipient, found.template, tenant
        )
        messages.extend([told] if told else [])
    if event.action in MASTER_OUTCOMES:
        duplicates = await Report.filter(
            tenant_id=report.tenant_id,
            duplicate_of_id=report.id,
            state=ReportState.DUPLICATE.value,
        )
        for duplicate in duplicates:
            other = await _recipient(duplicate)
            if other is None:
                continue
            template = await wording(report.tenant_id, event_type, other[0], other[2])
            told = await _message_to(duplicate, report, event, event_type, other, template, tenant)
            messages.extend([told] if told else [])
    return messages


async def _message_to(
    told: Report,
    report: Report,
    event: ReportEvent,
    event_type: EventType,
    recipient: Recipient,
    template: Wording | None,
    tenant: Tenant | None,
) -> OutboxMessage | None:
    """The message telling ``told``'s reporter of ``event`` of ``report`` (itself, or the
    master of a duplicate: named by the duplicate's own code, which is what its reporter
    knows)."""
    if template is None:
        return None
    channel, address, language = recipient
    if tenant is None:
        tenant = await Tenant.get(id=report.tenant_id)
    agency_vi, agency_en = await _agency_names(report, event)
    shown = disclosure(event.action, event.public) is Disclosure.STEP_AND_COMMENT
    tracking = told.tracking_code if event.action in _WITH_TRACKING and told is report else None
    values: dict[str, Any] = {
        "code": told.code,
        "title": told.title,
        "state": event.to_state or "",
        "comment": (event.comment if shown else None) or "",
        "agency_vi": agency_vi,
        "agency_en": agency_en,
        "tenant_name": tenant.name_en if language is Language.EN else tenant.name_vi,
        "tracking_line_vi": f" Mã tra cứu: {tracking}." if tracking else "",
        "tracking_line_en": f" Tracking code: {tracking}." if tracking else "",
    }
    return notify_message(
        report.tenant_id, channel, address, event_type, language, values, template,
        event.created_at,
    )  # fmt: skip
