"""Reports and the reporter's account (issue 18): a citizen attaches the reports they filed
anonymously (or that staff entered for them from a hotline call) by their tracking codes, and a
deleted account's reports stay, with the reporter's contact details wiped.

Neither is a workflow step: the state, the deadlines, the history and so the statistics are
untouched; only ``reporter_user_id`` (the claim) or the ``reporter_contact`` row (the wipe)
change. The tracking code keeps working for whoever holds it."""

from __future__ import annotations

from datetime import timedelta

from core import clock, throttle
from core.errors import DomainError, NotFound
from core.glossary import Term
from permissions.actions import Action
from permissions.scope import Scope
from reports.models import Report, ReporterContact

# Tracking codes are 12 random characters; this only keeps one account from trying many.
CLAIMS = throttle.SlidingWindow("report-claim", limit=30, window=timedelta(minutes=10))
MAX_CODES = 20


async def claim_reports(scope: Scope, tracking_codes: list[str]) -> list[Report]:
    """All or nothing: every code must name a report of the caller's tenant that no other
    account holds (``NOT_FOUND`` / ``ALREADY_CLAIMED`` on ``trackingCodes.N``). A report the
    caller already holds is answered again (a retried claim)."""
    scope.require(Action.REPORT_SUBMIT)
    tenant_id, user_id = scope.require_tenant(), scope.require_user()
    if not 1 <= len(tracking_codes) <= MAX_CODES:
        raise DomainError(
            "INVALID_COUNT",
            f"Cần từ 1 đến {MAX_CODES} mã tra cứu.",
            f"Give between 1 and {MAX_CODES} tracking codes.",
            "trackingCodes",
        )
    claimed: list[Report] = []
    for n, raw in enumerate(tracking_codes):
        field = f"trackingCodes.{n}"
        await throttle.take(CLAIMS, str(user_id), clock.now(), field)
        code = raw.strip().upper()
        report = (
            await Report.get_or_none(tenant_id=tenant_id, tracking_code=code)
            if 0 < len(code) <= 32
            else None
        )
        if report is None:
            raise NotFound(Term.REPORT, field)
        if report.reporter_user_id not in (None, user_id):
            raise DomainError(
                "ALREADY_CLAIMED",
                "Phản ánh này đã gắn với một tài khoản khác.",
                "This report is already attached to another account.",
                field,
            )
        if report.reporter_user_id is None:
            await Report.filter(id=report.id, tenant_id=tenant_id, reporter_user_id=None).update(
                reporter_user_id=user_id
            )
            report.reporter_user_id = user_id
        claimed.append(report)
    return claimed


async def forget_reporter(scope: Scope) -> int:
    """The caller's account is being deleted: wipe the contact rows of their reports (name,
    phone, e-mail); the reports, their history and figures stay. The number of rows wiped."""
    tenant_id, user_id = scope.require_tenant(), scope.require_user()
    report_ids = await Report.filter(tenant_id=tenant_id, reporter_user_id=user_id).values_list(
        "id", flat=True
    )
    return await ReporterContact.filter(tenant_id=tenant_id, report_id__in=list(report_ids)).update(
        name="", phone=None, email=None, notify_by=None
    )
