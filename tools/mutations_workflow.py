"""Curated mutations (see ``tools/mutations.py``): transitions, the workflow table, the working
calendar and the SLA clock."""

from __future__ import annotations

from tools.mutation import CLOCK, JOBS, WORKFLOW, Mutation, m

WORKFLOW_MUTATIONS: tuple[Mutation, ...] = (
    # --- transitions ---------------------------------------------------------------------------
    m(
        "system-step-actor-unchecked",
        "reports/transitions.py",
        "    if ActorKind.SYSTEM not in t.actor:\n        raise PermissionDenied(t.permission)\n",
        "",
        *JOBS,
    ),
    m(
        "reporter-permission-on-others-reports",
        "reports/transitions.py",
        "    return scope.allows_on(Action.REPORT_VIEW, lead_agency_id, field_id)",
        "    return True",
        *WORKFLOW,
        "tests/reports/test_workflow_graphql.py",
    ),
    m(
        "reporter-acts-on-any-report",
        "reports/transitions.py",
        "own = scope.user_id is not None and scope.user_id == report.reporter_user_id",
        "own = scope.user_id is not None",
        *WORKFLOW,
        "tests/reports/test_workflow_graphql.py",
    ),
    m(
        "staff-steps-shown-to-the-reporter",
        "reports/records.py",
        "shown = disclosure(action, public) is Disclosure.STEP_AND_COMMENT",
        "shown = True",
        *WORKFLOW,
        "tests/reports/test_workflow_graphql.py",
        "tests/reports/test_reporter_view.py",
    ),
    m(
        "system-steps-recorded-as-staff",
        "reports/records.py",
        '        return "system"\n',
        '        return "staff"\n',
        *JOBS,
    ),
    # --- the workflow table --------------------------------------------------------------------
    m(
        "withdraw-after-assignment",
        "reports/workflow.py",
        "_t(A.WITHDRAW, {S.SUBMITTED, S.NEED_INFO}",
        "_t(A.WITHDRAW, {S.SUBMITTED, S.NEED_INFO, S.ASSIGNED}",
        *WORKFLOW,
    ),
    m(
        "reject-without-reason",
        "reports/workflow.py",
        "_t(A.REJECT, {S.SUBMITTED, S.RETURNED}, S.REJECTED, P.REPORT_SCREEN, C.STOP_ALL,\n"
        "       reason=True, comment=True),",
        "_t(A.REJECT, {S.SUBMITTED, S.RETURNED}, S.REJECTED, P.REPORT_SCREEN, C.STOP_ALL,\n"
        "       reason=False, comment=True),",
        *WORKFLOW,
    ),
    m(
        "system-closes-reopened-reports",
        "reports/workflow.py",
        "S.CLOSED, P.REPORT_CLOSE, C.STOP_ALL,\n       reason=True, comment=True),",
        "S.CLOSED, P.REPORT_CLOSE, C.STOP_ALL,\n       STAFF | SYSTEM, reason=True, comment=True),",
        *JOBS,
    ),
    m(
        "rework-restarts-the-resolve-clock",
        "reports/workflow.py",
        "P.REPORT_REVIEW, C.RESUME_RESOLVE,",
        "P.REPORT_REVIEW, C.START_RESOLVE,",
        *WORKFLOW,
        *CLOCK,
    ),
    m(
        "any-reason-code-accepted",
        "reports/workflow.py",
        "code in codes.__members__ if codes is not None else _FREE_CODE.fullmatch(code)",
        "_FREE_CODE.fullmatch(code)",
        *WORKFLOW,
    ),
    m(
        "tenant-options-ignored-in-available-actions",
        "reports/workflow.py",
        "return [a for a in WorkflowAction if _enabled(_INDEX.get((state, a)), options)]",
        "return [a for a in WorkflowAction if _INDEX.get((state, a)) is not None]",
        *WORKFLOW,
    ),
    # --- the working calendar and the SLA clock -------------------------------------------------
    m(
        "calendar-make-up-days-ignored",
        "tenants/calendar.py",
        "        if d in self.extra_working_days:\n            return True\n",
        "",
        *CLOCK,
    ),
    m(
        "calendar-tenant-days-off-ignored",
        "tenants/calendar.py",
        "        if d in self.extra_days_off:\n            return False\n",
        "",
        *CLOCK,
    ),
    m(
        "calendar-period-end-counts-as-open",
        "tenants/calendar.py",
        "            if end > t:\n                return self._local(max(start, t))",
        "            if end >= t:\n                return self._local(max(start, t))",
        *CLOCK,
    ),
    m(
        "calendar-due-on-period-end-jumps-to-next-opening",
        "tenants/calendar.py",
        "if remaining <= available:",
        "if remaining < available:",
        *CLOCK,
    ),
    m(
        "calendar-working-days-count-the-start-day",
        "tenants/calendar.py",
        "        for _ in range(days):\n            d = self.next_working_day(d)",
        "        for _ in range(days - 1):\n            d = self.next_working_day(d)",
        *CLOCK,
    ),
    m(
        "calendar-time-between-overcounts-the-last-period",
        "tenants/calendar.py",
        "total += min(end, b) - max(start, a)",
        "total += end - max(start, a)",
        *CLOCK,
    ),
    m(
        "sla-urgent-on-working-time",
        "tenants/sla.py",
        "    if urgency is Urgency.URGENT:\n"
        "        return _calendar_add(calendar, start, duration.as_calendar_time())\n",
        "",
        *CLOCK,
    ),
    m(
        "sla-calendar-deadline-left-on-a-holiday",
        "tenants/sla.py",
        "    if not calendar.is_working_day(due.date()):\n"
        "        due = calendar.end_of_day(calendar.next_working_day(due.date()))\n",
        "",
        *CLOCK,
    ),
    m(
        "sla-pause-at-the-deadline-extends-it",
        "tenants/sla.py",
        "if resumed_at <= paused_at or paused_at >= due:",
        "if resumed_at <= paused_at or paused_at > due:",
        *CLOCK,
    ),
    m(
        "reminder-due-soon-at-90-percent",
        "reports/reminders.py",
        "Threshold(0.8, ReminderKind.DUE_SOON)",
        "Threshold(0.9, ReminderKind.DUE_SOON)",
        "tests/reports/test_reminders.py",
    ),
    m(
        "stats-overdue-counts-the-not-yet-due",
        "reports/stats.py",
        "AND due_at < $2 GROUP BY tenant_id",
        "AND due_at > $2 GROUP BY tenant_id",
        "tests/reports/test_province_stats.py",
        "tests/reports/test_report_stats.py",
    ),
)
