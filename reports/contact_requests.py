"""A reporter's own requests about the contact data given with a report (Nghị định
13/2023/NĐ-CP: the data subject may see their data and have it deleted; docs/domain.md §14).

A signed-in citizen does this for their whole account (``myData``, ``deleteMyAccount``). An
anonymous reporter, or a hotline caller, has only the tracking code: it proves who is asking,
as it does for ``trackReport`` (same lookup, same limit). They may see what the report holds
about them and until when, and have it erased at once instead of at the end of the tenant's
retention period (reports/retention.py does the same blanking later). The report, its history
and the statistics stay; the reporter is no longer told of its progress, but still follows it
by the code. Messages already sent are not touched: they carry no link to the report, and
wiping every message to an address given with an anonymous report would let anyone who typed
someone else's address erase that person's trail."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from core import clock
from permissions.scope import Scope
from reports.models import Report, ReporterContact
from reports.queries import tracked_report
from reports.workflow import ReportState
from tenants.regulation import tenant_options

log = logging.getLogger("paht.audit")


@dataclass(frozen=True)
class HeldContact:
    """What a report holds about its reporter, as the reporter may see it."""

    name: str
    phone: str | None
    email: str | None
    notify_by: str | None
    anonymised_at: datetime | None
    kept_until: datetime | None  # None while the report is open, or once anonymised


async def held_contact(report: Report) -> HeldContact | None:
    """The contact given with ``report`` (None if none was given)."""
    row = await ReporterContact.get_or_none(tenant_id=report.tenant_id, report_id=report.id)
    return None if row is None else await describe(report, row)


async def describe(report: Report, row: ReporterContact) -> HeldContact:
    """``row``, the contact given with ``report``, as its reporter sees it."""
    return HeldContact(
        name=row.name,
        phone=row.phone,
        email=row.email,
        notify_by=row.notify_by,
        anonymised_at=row.anonymised_at,
        kept_until=None if row.anonymised_at else await _kept_until(report),
    )


async def _kept_until(report: Report) -> datetime | None:
    """When the retention pass will blank it: the same rule as ``anonymise_expired_contacts``."""
    if not ReportState(report.state).is_terminal:
        return None
    days = (await tenant_options(report.tenant_id)).contact_retention_days
    return (report.closed_at or report.updated_at) + timedelta(days=days)


async def erase_contact_by_tracking_code(
    scope: Scope, tracking_code: str, client_address: str
) -> HeldContact | None:
    """Blank the contact given with the report now; asking again changes nothing. (A suspended
    or archived tenant is off the public side: its contacts expire by the retention pass.)"""
    report = await tracked_report(scope, tracking_code, client_address)
    erased = await ReporterContact.filter(
        tenant_id=report.tenant_id, report_id=report.id, anonymised_at__isnull=True
    ).update(name="", phone=None, email=None, notify_by=None, anonymised_at=clock.now())
    if erased:
        log.info(
            "reporter contact erased on request",
            extra={"tenant_id": str(report.tenant_id), "report_id": str(report.id)},
        )
    return await held_contact(report)
