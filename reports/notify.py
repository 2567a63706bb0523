"""What leaves the system when a report's history grows: the reporter is told of each public
step through the channel they chose, and the tenant's webhook subscribers get the step as an
event (ids and public data only). Called by the one event writer (reports/records.py), in the
step's own transaction: a rolled-back step sends nothing."""

from __future__ import annotations

import uuid
from typing import Any

from accounts.models import CitizenProfile, User
from outbox.enqueue import notify, publish_event
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


async def _recipient(report: Report) -> tuple[Channel, str, Language] | None:
    """The reporter's chosen channel and address, else their e-mail; None when they left no
    way to reach them (an anonymous reporter without contact)."""
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
        user = await User.get_or_none(id=report.reporter_user_id)
        profile = await CitizenProfile.get_or_none(
            tenant_id=report.tenant_id, user_id=report.reporter_user_id
        )
        if user is not None and profile is not None:
            return _by_preference(user, profile)
        if user is not None and user.email:
            return Channel.EMAIL, user.email, language
    return None


def _by_preference(user: User, profile: CitizenProfile) -> tuple[Channel, str, Language] | None:
    """A self-registered citizen is told through the verified channels they chose (e-mail
    first), in their language; nothing when they chose none (citizens/profile.py)."""
    language = Language(profile.language)
    if profile.notify_email and user.email and profile.email_verified_at:
        return Channel.EMAIL, user.email, language
    if profile.notify_sms and user.phone and profile.phone_verified_at:
        return Channel.SMS, user.phone, language
    return None


async def _agency_names(report: Report, event: ReportEvent) -> tuple[str, str]:
    if event.action == WorkflowAction.TRANSFER:  # the receiving locality
        other = await Tenant.get_or_none(code=(event.data or {}).get("to_tenant", ""))
        if other is not None:
            return other.name_vi, other.name_en
    agency_id = (event.data or {}).get("lead_agency_id") or event.actor_agency_id
    agency_id = agency_id or report.lead_agency_id
    if agency_id is None:
        return "cơ quan xử lý", "the agency in charge"
    agency = await Agency.get_or_none(tenant_id=report.tenant_id, id=uuid.UUID(str(agency_id)))
    if agency is None:
        return "cơ quan xử lý", "the agency in charge"
    return agency.name_vi, agency.name_en


async def announce_step(report: Report, event: ReportEvent) -> None:
    event_type = event_type_of(event)
    if event_type is None:
        return
    await publish_event(
        report.tenant_id,
        event_type,
        {
            "reportId": str(report.id),
            "code": report.code,
            "action": event.action,
            "fromState": event.from_state,
            "toState": event.to_state,
            "at": event.created_at.isoformat(),
        },
        at=event.created_at,
    )
    await _tell_reporter(report, report, event, event_type)
    if event.action in MASTER_OUTCOMES:
        duplicates = await Report.filter(
            tenant_id=report.tenant_id,
            duplicate_of_id=report.id,
            state=ReportState.DUPLICATE.value,
        )
        for duplicate in duplicates:
            await _tell_reporter(duplicate, report, event, event_type)


async def _tell_reporter(
    told: Report, report: Report, event: ReportEvent, event_type: EventType
) -> None:
    """Tell ``told``'s reporter of ``event`` of ``report`` (itself, or the master of a
    duplicate: named by the duplicate's own code, which is what its reporter knows)."""
    recipient = await _recipient(told)
    if recipient is None:
        return
    channel, address, language = recipient
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
    await notify(
        report.tenant_id, channel, address, event_type, language, values, at=event.created_at
    )
