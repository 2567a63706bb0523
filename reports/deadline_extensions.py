"""Side processes on a report in progress (docs/domain.md §3–4): the deadline extension (gia hạn)
and the agency's information request to the reporter, which pauses the agency clock.

Neither changes the report's state. An extension is asked once per report by the handling agency
before the resolve deadline and decided by the centre; an answered information request moves the
resolve deadline by the working time it stood open. Use it through ``reports.service``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, tzinfo

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core import clock
from core.errors import DomainError, NotFound, PermissionDenied, Validator
from core.glossary import Term
from permissions.actions import Action
from permissions.scope import Scope
from reports.models import ExtensionRequest, InfoRequest, Report, ReportEvent
from reports.queries import tracked_report
from reports.records import (
    clean_text,
    is_reporter,
    load_report,
    record_event,
    require_state,
    tenant_rules,
    update_report,
)
from reports.workflow import (
    ActorKind,
    ExtensionStatus,
    InfoRequestStatus,
    ReportState,
    SideAction,
    WorkflowAction,
)
from tenants.calendar import WorkingCalendar
from tenants.sla import Urgency, extend_due_for_pause

REASON_MAX = 2000
ANSWER_MAX = 5000
_IN_PROGRESS = frozenset({ReportState.IN_PROGRESS})
# The decision still matters while the result awaits review (rework resumes the clock).
_DECIDABLE = frozenset({ReportState.IN_PROGRESS, ReportState.RESULT_SUBMITTED})


def _local(value: datetime, tz: tzinfo) -> str:
    return value.astimezone(tz).strftime("%H:%M %d/%m/%Y")


# --- extension ----------------------------------------------------------------------------------
async def _resolve_period(report: Report) -> tuple[datetime, datetime]:
    """The resolve period granted when the agency accepted, as (start, deadline): from the
    ACCEPT event and the deadline it set; failing that, from entering IN_PROGRESS to the
    current deadline."""
    assert report.resolve_due_at is not None
    mine = {"tenant_id": report.tenant_id, "report_id": report.id}
    accept = (
        await ReportEvent.filter(**mine, action=WorkflowAction.ACCEPT.value)
        .order_by("-created_at", "-id")
        .first()
    )
    granted = (
        accept.data.get("resolve_due_at") if accept and isinstance(accept.data, dict) else None
    )
    if accept is not None and granted:
        return accept.created_at, datetime.fromisoformat(granted)
    entered = (
        await ReportEvent.filter(
            **mine,
            to_state=ReportState.IN_PROGRESS.value,
            action__in=[a.value for a in WorkflowAction],
        )
        .order_by("-created_at", "-id")
        .first()
    )
    start = entered.created_at if entered else report.created_at
    return start, report.resolve_due_at


def latest_extension(
    calendar: WorkingCalendar, due: datetime, start: datetime, granted: datetime
) -> datetime:
    """The latest deadline an extension may set: the current deadline plus the original period
    measured on the working calendar (docs/domain.md §4: "once, ≤ original period"). A period
    of whole working days (5 working days granted Wednesday → at most 5 more working days) is
    counted in working days; a shorter one in office-hour time."""
    days = calendar.working_days_between(start, granted)
    if days > 0:
        return calendar.add_working_days(due, days)
    return calendar.add_working_time(due, calendar.working_time_between(start, granted))


async def _latest(calendar: WorkingCalendar, report: Report, due: datetime) -> datetime:
    return latest_extension(calendar, due, *await _resolve_period(report))


def _already_requested() -> DomainError:
    return DomainError(
        "EXTENSION_ALREADY_REQUESTED",
        "Phản ánh này đã được đề nghị gia hạn; mỗi phản ánh chỉ được gia hạn một lần.",
        "An extension was already requested for this report; only one is allowed.",
        "reportId",
    )


async def request_extension(
    scope: Scope, report_id: uuid.UUID, requested_due_at: datetime, reason: str
) -> ExtensionRequest:
    """The handling agency asks, once, to move the resolve deadline to ``requested_due_at``:
    before the current deadline, later than it, and by at most the original resolve period."""
    report = await load_report(scope, report_id)
    scope.require_on(Action.EXTENSION_REQUEST, report.lead_agency_id, report.field_id)
    require_state(report, _IN_PROGRESS, "INVALID_STATE")
    if report.urgency == Urgency.URGENT.value:
        raise DomainError(
            "EXTENSION_NOT_ALLOWED",
            "Phản ánh khẩn cấp không được gia hạn; hãy báo cáo lãnh đạo.",
            "Urgent reports cannot be extended; escalate instead.",
            "reportId",
        )
    if await ExtensionRequest.exists(tenant_id=report.tenant_id, report_id=report.id):
        raise _already_requested()
    due, now = report.resolve_due_at, clock.now()
    rules = await tenant_rules(report.tenant_id)
    tz = rules.calendar.timezone
    if due is None or now >= due:
        when = f" ({_local(due, tz)})" if due else ""
        raise DomainError(
            "DEADLINE_PASSED",
            f"Đã quá hạn xử lý{when}: phải đề nghị gia hạn trước khi hết hạn.",
            f"The resolve deadline{when} has passed: extensions must be requested before it.",
            "requestedDueAt",
        )
    v = Validator()
    text = clean_text(v, "reason", reason, REASON_MAX)
    wanted = requested_due_at
    if wanted.tzinfo is None or wanted.utcoffset() is None:
        v.add("INVALID", "requestedDueAt", "Cần có múi giờ.", "A timezone is required.")
    elif wanted <= due:
        v.add(
            "EXTENSION_NOT_LATER",
            "requestedDueAt",
            f"Hạn mới phải sau hạn hiện tại ({_local(due, tz)}).",
            f"The new deadline must be after the current one ({_local(due, tz)}).",
        )
    elif wanted > (latest := await _latest(rules.calendar, report, due)):
        v.add(
            "EXTENSION_TOO_LONG",
            "requestedDueAt",
            f"Chỉ được gia hạn không quá thời hạn xử lý ban đầu (đến {_local(latest, tz)}).",
            f"An extension may not exceed the original resolve period (until "
            f"{_local(latest, tz)}).",
        )
    v.check()
    try:
        async with in_transaction():  # a savepoint: a concurrent request loses cleanly
            extension = await ExtensionRequest.create(
                tenant_id=report.tenant_id,
                report_id=report.id,
                requested_by=scope.require_user(),
                reason=text,
                requested_due_at=wanted.astimezone(UTC),
                created_at=now,
            )
    except IntegrityError:
        raise _already_requested() from None
    await record_event(
        scope,
        report,
        SideAction.REQUEST_EXTENSION,
        ActorKind.STAFF,
        at=now,
        comment=text,
        data={"extension_id": extension.id, "requested_due_at": extension.requested_due_at},
    )
    return extension


async def decide_extension(
    scope: Scope, report_id: uuid.UUID, approve: bool, comment: str | None = None
) -> ExtensionRequest:
    """The centre approves (the deadline moves) or denies (a comment is required)."""
    report = await load_report(scope, report_id)
    scope.require_on(Action.EXTENSION_APPROVE, report.lead_agency_id, report.field_id)
    extension = await ExtensionRequest.get_or_none(tenant_id=report.tenant_id, report_id=report.id)
    if extension is None:
        raise NotFound(Term.EXTENSION, "reportId")
    if extension.status != ExtensionStatus.PENDING:
        raise _already_decided()
    v = Validator()
    text = v.text("comment", comment, max_len=REASON_MAX, required=not approve) or None
    v.check()
    if approve:
        require_state(report, _DECIDABLE, "INVALID_STATE")
    now = clock.now()
    status = ExtensionStatus.APPROVED if approve else ExtensionStatus.DENIED
    decided = await ExtensionRequest.filter(
        tenant_id=report.tenant_id, id=extension.id, status=ExtensionStatus.PENDING
    ).update(status=status, decided_by=scope.require_user(), decided_at=now, decision_comment=text)
    if decided != 1:
        raise _already_decided()
    data: dict[str, object] = {"extension_id": extension.id}
    if approve:
        previous = report.resolve_due_at
        # A pause granted meanwhile (answered information request) is not taken back.
        new_due = max(extension.requested_due_at, previous or extension.requested_due_at)
        await update_report(report, now, resolve_due_at=new_due)
        data |= {"resolve_due_at": new_due, "previous_resolve_due_at": previous}
    action = SideAction.APPROVE_EXTENSION if approve else SideAction.DENY_EXTENSION
    # The new deadline is public (the reporter is told); a denial is internal (the workflow's
    # disclosure of each action).
    await record_event(scope, report, action, ActorKind.STAFF, at=now, comment=text, data=data)
    return await ExtensionRequest.get(tenant_id=report.tenant_id, id=extension.id)


def _already_decided() -> DomainError:
    return DomainError(
        "EXTENSION_ALREADY_DECIDED",
        "Đề nghị gia hạn đã được quyết định.",
        "The extension request was already decided.",
        "reportId",
    )


# --- information request ------------------------------------------------------------------------
async def request_info(scope: Scope, report_id: uuid.UUID, question: str) -> InfoRequest:
    """The handler asks the reporter a question; the agency clock pauses until the answer."""
    report = await load_report(scope, report_id)
    scope.require_on(Action.REPORT_PROCESS, report.lead_agency_id, report.field_id)
    require_state(report, _IN_PROGRESS, "INVALID_STATE")
    v = Validator()
    text = clean_text(v, "question", question, REASON_MAX)
    v.check()
    # An anonymous reporter (or a hotline caller) answers through the tracking code.
    if report.reporter_user_id is None and report.tracking_code is None:
        raise DomainError(
            "REPORTER_UNREACHABLE",
            "Người phản ánh không có tài khoản hay mã tra cứu để trả lời; "
            "hãy nhờ Trung tâm liên hệ.",
            "The reporter has neither an account nor a tracking code to answer with; ask the "
            "centre to relay the question.",
            "reportId",
        )
    already = DomainError(
        "INFO_ALREADY_REQUESTED",
        "Đang có một yêu cầu bổ sung chưa được trả lời.",
        "An information request is still open for this report.",
        "reportId",
    )
    open_ = InfoRequestStatus.OPEN
    if await InfoRequest.exists(tenant_id=report.tenant_id, report_id=report.id, status=open_):
        raise already
    now = clock.now()  # the pause starts here (``created_at``), and the event says so
    try:
        async with in_transaction():
            info = await InfoRequest.create(
                tenant_id=report.tenant_id,
                report_id=report.id,
                requested_by=scope.require_user(),
                question=text,
                created_at=now,
            )
    except IntegrityError:
        raise already from None
    await record_event(
        scope,
        report,
        SideAction.ASK_INFO,
        ActorKind.STAFF,
        at=now,
        comment=text,
        data={"info_request_id": info.id},
    )
    return info


async def answer_info(scope: Scope, report_id: uuid.UUID, answer: str) -> InfoRequest:
    """The reporter answers the open request; the resolve deadline moves by the working time
    (calendar time if urgent) the request stood open, if the report is still in progress."""
    report = await load_report(scope, report_id)
    if not (is_reporter(scope, report) and scope.allows(Action.REPORT_PROVIDE_INFO)):
        scope.require_user()
        raise PermissionDenied(Action.REPORT_PROVIDE_INFO)
    return await _answer(scope, report, answer)


async def answer_info_by_tracking_code(
    scope: Scope, tracking_code: str, answer: str, client_address: str
) -> InfoRequest:
    """An anonymous reporter (or a hotline caller) answers with the report's tracking code,
    which proves who is answering, as it does for ``trackReport`` (same lookup, same limit)."""
    report = await tracked_report(scope, tracking_code, client_address)
    return await _answer(scope, report, answer)


async def _answer(scope: Scope, report: Report, answer: str) -> InfoRequest:
    info = await InfoRequest.get_or_none(
        tenant_id=report.tenant_id, report_id=report.id, status=InfoRequestStatus.OPEN
    )
    if info is None:
        raise NotFound(Term.INFO_REQUEST, "reportId")
    v = Validator()
    text = clean_text(v, "answer", answer, ANSWER_MAX)
    v.check()
    now = clock.now()
    answered = await InfoRequest.filter(
        tenant_id=report.tenant_id, id=info.id, status=InfoRequestStatus.OPEN
    ).update(status=InfoRequestStatus.ANSWERED, answer=text, answered_at=now)
    if answered != 1:
        raise NotFound(Term.INFO_REQUEST, "reportId")
    data: dict[str, object] = {"info_request_id": info.id, "paused_from": info.created_at}
    due = report.resolve_due_at
    if report.state == ReportState.IN_PROGRESS.value and due is not None:
        rules = await tenant_rules(report.tenant_id)
        urgency = Urgency(report.urgency)
        new_due = extend_due_for_pause(rules.calendar, due, info.created_at, now, urgency)
        new_due = new_due.astimezone(UTC)
        if new_due != due:
            await update_report(report, now, resolve_due_at=new_due)
            data |= {"resolve_due_at": new_due, "previous_resolve_due_at": due}
    await record_event(
        scope, report, SideAction.ANSWER_INFO, ActorKind.REPORTER, at=now, comment=text, data=data
    )
    return await InfoRequest.get(tenant_id=report.tenant_id, id=info.id)
