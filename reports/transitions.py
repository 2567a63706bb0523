"""Workflow transitions of a report (``reports.workflow.TRANSITIONS`` applied to the database).

Use it through ``reports.service``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from core import clock
from core.errors import DomainError, NotFound, PermissionDenied, Validator
from core.glossary import Term
from permissions.actions import Action
from permissions.scope import Scope
from reports.attachments import check_media, cleanup_on_error, store_media
from reports.media import FIELD as MEDIA_FIELD
from reports.media import ProcessedMedia
from reports.models import Report, ReportEvent
from reports.records import (
    TenantRules,
    due_at,
    record_event,
    stale_error,
    tenant_rules,
    update_report,
)
from reports.storage import Storage
from reports.workflow import (
    DECIDED_CLOSE_FROM,
    REPORTER_PERMISSIONS,
    ActorKind,
    ClockEffect,
    Outcome,
    ReportState,
    Transition,
    WorkflowAction,
    closed_by_decision_error,
    find_transition,
    rating_action,
    validate_reason,
    window_closed_error,
    window_open,
)
from tenants.models import Agency
from tenants.sla import Stage, Urgency, extend_due_for_pause


@dataclass(frozen=True)
class AssignInput:
    lead_agency_id: uuid.UUID
    coordinating_agency_ids: tuple[uuid.UUID, ...] = ()
    urgency: str | None = None  # re-classify while assigning


# Steps that may carry photos or a video, attached to the step's event: the agency's
# after-photos, the reporter's added information or proof that the issue persists.
MEDIA_ACTIONS: frozenset[WorkflowAction] = frozenset(
    {WorkflowAction.SUBMIT_RESULT, WorkflowAction.PROVIDE_INFO, WorkflowAction.REOPEN}
)


# --- transitions --------------------------------------------------------------------------------
def staff_may(
    scope: Scope, t: Transition, lead_agency_id: uuid.UUID | None, field_id: uuid.UUID
) -> bool:
    """May the caller take ``t`` as staff on a report of this agency and field?

    Citizens hold the reporter permissions (``report:reopen``) for their own reports only; on
    someone else's report such a grant counts only with staff standing, i.e. seeing the report."""
    if ActorKind.STAFF not in t.actor:
        return False
    if not scope.allows_on(t.permission, lead_agency_id, field_id):
        return False
    if t.permission not in REPORTER_PERMISSIONS:
        return True
    return scope.allows_on(Action.REPORT_VIEW, lead_agency_id, field_id)


def _authorise(scope: Scope, t: Transition, report: Report) -> ActorKind:
    """Which capacity the caller acts in; raises FORBIDDEN when it has none."""
    own = scope.user_id is not None and scope.user_id == report.reporter_user_id
    if ActorKind.REPORTER in t.actor and own and scope.allows(t.permission):
        return ActorKind.REPORTER
    if ActorKind.STAFF in t.actor:
        scope.require_on(t.permission, report.lead_agency_id, report.field_id)
        if staff_may(scope, t, report.lead_agency_id, report.field_id):
            return ActorKind.STAFF
    scope.require_user()
    raise PermissionDenied(t.permission)


async def _assignment(report: Report, assign: AssignInput | None) -> dict[str, Any]:
    if assign is None:
        raise DomainError(
            "REQUIRED",
            "Cần chọn cơ quan chủ trì xử lý.",
            "A lead agency is required.",
            "leadAgencyId",
        )
    v = Validator()
    wanted = {assign.lead_agency_id, *assign.coordinating_agency_ids}
    found = await Agency.filter(tenant_id=report.tenant_id, id__in=wanted, active=True).count()
    if found != len(wanted):
        v.add("NOT_FOUND", "leadAgencyId", "Đơn vị không tồn tại.", "Unknown or inactive agency.")
    if assign.urgency is not None and assign.urgency not in {u.value for u in Urgency}:
        v.add("INVALID_CHOICE", "urgency", "Mức độ không hợp lệ.", "Unknown urgency.")
    v.check()
    coordinating = [
        a for a in dict.fromkeys(assign.coordinating_agency_ids) if a != assign.lead_agency_id
    ]
    return {
        "lead_agency_id": assign.lead_agency_id,
        "coordinating_agency_ids": coordinating,
        "urgency": assign.urgency or report.urgency,
    }


async def _last_entered(report: Report, state: ReportState) -> datetime | None:
    event = await _last_step_into(report, state)
    return event.created_at if event else None


async def _last_step_into(report: Report, state: ReportState) -> ReportEvent | None:
    # Workflow steps only: side events (comments, extensions) repeat the current state.
    return (
        await ReportEvent.filter(
            tenant_id=report.tenant_id,
            report_id=report.id,
            to_state=state.value,
            action__in=[a.value for a in WorkflowAction],
        )
        .order_by("-created_at", "-id")  # ids are time-ordered: steps at one instant stay in order
        .first()
    )


async def _clock_changes(
    rules: TenantRules, report: Report, effect: ClockEffect, now: datetime
) -> dict[str, Any]:
    """New deadline and timestamp columns for a transition's clock effect."""
    if effect is ClockEffect.START_ACCEPT:
        return {"accept_due_at": await due_at(rules, report, Stage.ACCEPT, now)}
    if effect is ClockEffect.START_RESOLVE:
        return {"resolve_due_at": await due_at(rules, report, Stage.RESOLVE, now)}
    if effect is ClockEffect.START_REVIEW:
        return {"review_due_at": await due_at(rules, report, Stage.REVIEW, now)}
    if effect is ClockEffect.RESTART_SCREEN:
        restart = {"screen_due_at": await due_at(rules, report, Stage.SCREEN, now)}
        # Reopened after the rating window closed it: it is open again.
        return restart | ({"closed_at": None} if report.closed_at is not None else {})
    if effect is ClockEffect.RESUME_RESOLVE and report.resolve_due_at is not None:
        # The review time does not count against the agency; at least one working day remains.
        paused = await _last_entered(report, ReportState.RESULT_SUBMITTED) or now
        urgency = Urgency(report.urgency)
        due = extend_due_for_pause(rules.calendar, report.resolve_due_at, paused, now, urgency)
        floor = rules.calendar.add_working_days(now, 1)
        return {"resolve_due_at": max(due, floor).astimezone(UTC), "review_due_at": None}
    if effect is ClockEffect.OPEN_WINDOWS:
        return {"resolved_at": now}
    if effect is ClockEffect.STOP_ALL:
        return {"closed_at": now}
    return {}


async def transition(
    scope: Scope,
    report_id: uuid.UUID,
    action: WorkflowAction | str,
    expected_version: int,
    reason_code: str | None = None,
    comment: str | None = None,
    assign: AssignInput | None = None,
    *,
    rating: int | None = None,
    media: Sequence[ProcessedMedia] = (),
    storage: Storage | None = None,
    duplicate_of: Report | None = None,
) -> Report:
    """Apply one workflow step; returns the updated report.

    ``media`` (``MEDIA_ACTIONS`` only) is stored with ``storage`` and attached to the step's
    event. A retry of a step that succeeded fails on ``expected_version`` before anything is
    stored."""
    tenant_id = scope.require_tenant()
    try:
        action = WorkflowAction(action)
    except ValueError:
        raise DomainError(
            "INVALID_ACTION", "Thao tác không hợp lệ.", f"Unknown action {action!r}.", "action"
        ) from None
    if action in (WorkflowAction.RATE, WorkflowAction.RATE_DISSATISFIED):
        if rating is None or not 1 <= rating <= 5:
            raise DomainError(
                "OUT_OF_RANGE", "Đánh giá từ 1 đến 5.", "Rating must be 1 to 5.", "rating"
            )
        action = rating_action(rating)  # a low rating goes to the centre's review queue
    report = await Report.get_or_none(tenant_id=tenant_id, id=report_id)
    if report is None:
        raise NotFound(Term.REPORT)
    if report.version != expected_version:
        raise stale_error()
    rules = await tenant_rules(tenant_id)
    t = find_transition(ReportState(report.state), action, options=rules.options)
    actor = _authorise(scope, t, report)
    now = clock.now()  # the one instant of this step: its event, timestamps and deadlines
    if not window_open(t, report.resolved_at, now):
        raise window_closed_error(t)
    if action is WorkflowAction.REOPEN and report.state == ReportState.CLOSED:
        closing = await _last_step_into(report, ReportState.CLOSED)
        if closing is not None and closing.from_state in DECIDED_CLOSE_FROM:
            raise closed_by_decision_error()
    validate_reason(t, reason_code, comment)
    if media and action not in MEDIA_ACTIONS:
        raise DomainError(
            "MEDIA_NOT_ALLOWED",
            f"Không thể đính kèm tệp khi thực hiện «{action.label_vi}».",
            f"Files cannot be attached to {action.value}.",
            MEDIA_FIELD,
        )
    check_media(media, storage)
    changes: dict[str, Any] = {}
    if action in (WorkflowAction.ASSIGN, WorkflowAction.REROUTE):
        changes = await _assignment(report, assign)
        if action is WorkflowAction.REROUTE and changes["lead_agency_id"] == report.lead_agency_id:
            raise DomainError(
                "SAME_AGENCY",
                "Cần chọn một cơ quan chủ trì khác cơ quan đang xử lý.",
                "Choose a lead agency other than the current one.",
                "leadAgencyId",
            )
        report.urgency = changes["urgency"]  # deadlines follow the (re)classified urgency
        if changes["lead_agency_id"] != report.lead_agency_id:
            changes["assignee_user_id"] = (
                None  # an officer of the previous agency no longer holds it
            )
    if action is WorkflowAction.MARK_DUPLICATE:
        if duplicate_of is None:  # through mark_duplicate only
            raise DomainError(
                "REQUIRED", "Cần chọn phản ánh gốc.", "A master is required.", "masterId"
            )
        changes["duplicate_of_id"] = duplicate_of.id
    if action is WorkflowAction.TRANSFER:  # through reports.transfer only
        raise DomainError(
            "REQUIRED",
            "Cần chọn đơn vị triển khai nhận phản ánh.",
            "A receiving locality is required.",
            "tenantCode",
        )
    if action is WorkflowAction.UNMARK_DUPLICATE:
        changes["duplicate_of_id"] = None
    if action is WorkflowAction.APPROVE_RESULT:
        changes["outcome"] = (reason_code or "").strip() or Outcome.FIXED.value
    if rating is not None and t.permission is Action.REPORT_RATE:
        changes["rating"] = rating
    changes |= await _clock_changes(rules, report, t.clock, now)
    updated = await update_report(
        report, now, expected_version=expected_version, state=t.to_state.value, **changes
    )
    event = await record_event(
        scope,
        report,
        action,
        actor,
        at=now,
        from_state=report.state,
        to_state=t.to_state.value,
        reason_code=reason_code,
        comment=comment,
        data=changes,
    )
    async with cleanup_on_error(storage if media else None) as written:
        if written is not None:  # check_media refused media without storage
            await store_media(
                scope, report.id, media, written.storage, event.id, written=written, now=now
            )
    return updated


async def system_transition(
    tenant_id: uuid.UUID,
    report: Report,
    action: WorkflowAction,
    reason_code: str | None = None,
    comment: str | None = None,
    *,
    now: datetime | None = None,
) -> bool:
    """A step the system takes on its own (auto-close after the rating window, auto-reject of
    an unanswered request for information). Only transitions that name ``ActorKind.SYSTEM`` are
    allowed; returns False when someone changed the report first (it is then left alone).

    ``now`` is the instant of the job pass that takes the step (default: the clock)."""
    rules = await tenant_rules(tenant_id)
    t = find_transition(ReportState(report.state), action, options=rules.options)
    if ActorKind.SYSTEM not in t.actor:
        raise PermissionDenied(t.permission)
    validate_reason(t, reason_code, comment)
    now = now or clock.now()
    changes = await _clock_changes(rules, report, t.clock, now)
    try:
        await update_report(report, now, state=t.to_state.value, **changes)
    except DomainError:  # STALE_VERSION: someone changed the report first
        return False
    await record_event(
        None,
        report,
        action,
        ActorKind.SYSTEM,
        at=now,
        from_state=report.state,
        to_state=t.to_state.value,
        reason_code=reason_code,
        comment=comment,
        data=changes,
    )
    return True


async def mark_duplicate(
    scope: Scope,
    report_id: uuid.UUID,
    expected_version: int,
    master_id: uuid.UUID,
    comment: str | None = None,
) -> Report:
    """A duplicate points to its master (a report the caller may see, not itself): by id on
    the report, and by code in the reporter's history."""
    master = await Report.get_or_none(tenant_id=scope.require_tenant(), id=master_id)
    visible = master is not None and scope.allows_on(
        Action.REPORT_VIEW, master.lead_agency_id, master.field_id
    )
    if master is None or not visible or master.id == report_id:
        raise NotFound(Term.REPORT, "masterId")
    text = (comment or "").strip() or f"Trùng với phản ánh {master.code}."
    return await transition(
        scope,
        report_id,
        WorkflowAction.MARK_DUPLICATE,
        expected_version,
        reason_code="DUPLICATE",
        comment=text,
        duplicate_of=master,
    )
