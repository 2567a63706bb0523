"""Inviting a hotline caller to claim their report (issue 18): the operator who took the call
sends the tracking code, with a link to the citizen app when one is configured
(``PAHT_CITIZEN_APP_URL``), to the caller's e-mail or phone, through the outbox. Once they sign
up, ``claimReports`` attaches the report to their account."""

from __future__ import annotations

import uuid
from datetime import timedelta
from urllib.parse import urlencode

from citizens.contacts import Contact, parse_contact, send_message
from citizens.vocabulary import ContactKind
from core import clock, throttle
from core.errors import DomainError, NotFound, Validator
from core.glossary import Term
from core.tenancy import tenant_by_id
from outbox.vocabulary import Language
from permissions.actions import Action
from permissions.scope import Scope
from reports.models import Report, ReporterContact

# A caller is invited once or twice (a typo, a second address), never spammed.
INVITES = throttle.SlidingWindow("claim-invite", limit=3, window=timedelta(hours=1))

_TEXT = {
    Language.VI: (
        "Theo dõi phản ánh {code}",
        "Phản ánh {code} của bạn đã được tiếp nhận qua đường dây nóng. Mã tra cứu: {tracking}. "
        "Đăng ký tài khoản và nhập mã này để theo dõi phản ánh.{link}",
    ),
    Language.EN: (
        "Follow report {code}",
        "Your report {code} was taken by the hotline. Tracking code: {tracking}. Sign up and "
        "enter this code to follow the report.{link}",
    ),
}


async def invite_to_claim(
    scope: Scope,
    report_id: uuid.UUID,
    email: str | None,
    phone: str | None,
    citizen_app_url: str | None,
) -> ContactKind:
    """To ``email`` / ``phone`` if given, else to the contact taken down with the report;
    ``NOT_CLAIMABLE`` for a report that has no tracking code or already has an account."""
    tenant_id = scope.require_tenant()
    report = await Report.get_or_none(tenant_id=tenant_id, id=report_id)
    if report is None:
        raise NotFound(Term.REPORT, "reportId")
    scope.require_on(Action.REPORT_SUBMIT_ON_BEHALF, None, report.field_id)
    if report.tracking_code is None or report.reporter_user_id is not None:
        raise DomainError(
            "NOT_CLAIMABLE",
            "Phản ánh này không có mã tra cứu hoặc đã gắn với một tài khoản.",
            "This report has no tracking code or already belongs to an account.",
            "reportId",
        )
    taken = await ReporterContact.get_or_none(tenant_id=tenant_id, report_id=report.id)
    contact = _contact(email, phone, taken)
    await throttle.take(INVITES, str(report.id), clock.now(), "reportId")
    tenant = await tenant_by_id(tenant_id)
    assert tenant is not None
    link = ""
    if citizen_app_url:
        query = urlencode({"tenant": tenant.code, "trackingCode": report.tracking_code})
        link = f" {citizen_app_url.rstrip('/')}/claim?{query}"
    lang = Language(taken.language) if taken else Language.VI
    subject, body = _TEXT[lang]
    values = {"code": report.code, "tracking": report.tracking_code, "link": link}
    await send_message(tenant_id, contact, subject.format(**values), body.format(**values), lang)
    return contact.kind


def _contact(email: str | None, phone: str | None, taken: ReporterContact | None) -> Contact:
    v = Validator()
    if email is None and phone is None and taken is not None:
        email, phone = (taken.email, None) if taken.email else (None, taken.phone)
    contact = parse_contact(email, phone, v)
    v.check()
    assert contact is not None
    return contact
