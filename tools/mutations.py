"""The curated mutations of ``tools/mutants.py``: one realistic bug each, as an exact snippet of
one file (it must occur exactly once) and its replacement, with the tests expected to catch it.

Add one whenever a bug slips through review: name it after the bug, not the edit."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]


RLS = ("tests/tenants/test_rls_catalogue.py",)
RLS_ALL = (*RLS, "tests/tenants/test_rls_isolation.py")
SESSION = ("tests/permissions/test_session.py",)
SCOPE = ("tests/permissions/test_scope.py",)
NARROWING = ("tests/reports/test_narrowed_reach.py", "tests/reports/test_report_queries.py")
WORKFLOW = ("tests/reports/test_workflow.py", "tests/reports/test_report_service.py")
JOBS = ("tests/reports/test_jobs.py",)
ACCOUNTS = ("tests/accounts",)
CLOCK = ("tests/reports/test_calendar.py", "tests/reports/test_sla.py")


def m(name: str, path: str, old: str, new: str, *tests: str) -> Mutation:
    return Mutation(name, path, old, new, tuple(tests))


M1, M2, M3 = (
    "migrations/0001_initial.py",
    "migrations/0002_reports.py",
    "migrations/0003_side_processes.py",
)
M4, M7 = "migrations/0004_report_due_and_counts.py", "migrations/0007_notifications.py"
FORCE = '        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",\n'
OWN = 'OWN = f"(tenant_id = {TENANT})"'
READ = 'f"CREATE POLICY tenant_read ON {table} FOR SELECT USING {read}",'

MUTATIONS: tuple[Mutation, ...] = (
    # --- row-level security in the migrations --------------------------------------------------
    m("rls-0001-no-force", M1, FORCE, "", *RLS),
    m("rls-0001-write-true", M1, OWN, 'OWN = "(true)"', *RLS),
    m(
        "rls-0001-provincial-rules-writable-without-flag",
        M1,
        "(tenant_id IS NULL AND current_setting('app.province', true) = 'on')",
        "(tenant_id IS NULL)",
        *RLS_ALL,
    ),
    m("rls-0002-no-force", M2, FORCE, "", *RLS),
    m("rls-0002-write-true", M2, OWN, 'OWN = "(true)"', *RLS),
    m("rls-0002-read-true", M2, READ, READ.replace("{read}", "(true)"), *RLS),
    m(
        "rls-0002-provincial-list-ignored",
        M2,
        "tenant_id = ANY (CAST({TENANTS} AS uuid[]))",
        "{TENANTS} IS NOT NULL",
        *RLS,
    ),
    m(
        "rls-0002-update-without-check",
        M2,
        "FOR UPDATE USING {write} WITH CHECK {write}",
        "FOR UPDATE USING {write} WITH CHECK (true)",
        *RLS,
    ),
    m(
        "rls-0002-delete-true",
        M2,
        "FOR DELETE USING {write}",
        "FOR DELETE USING (true)",
        *RLS,
    ),
    m(
        "rls-0002-events-not-append-only",
        M2,
        '"report_event": "SELECT, INSERT",',
        '"report_event": "SELECT, INSERT, UPDATE",',
        "tests/reports/test_report_service.py",
    ),
    m("rls-0003-write-true", M3, OWN, 'OWN = "(true)"', *RLS),
    m(
        "rls-0004-report-count-read-true",
        M4,
        'f"CREATE POLICY tenant_read ON report_count FOR SELECT USING {VISIBLE}",',
        '"CREATE POLICY tenant_read ON report_count FOR SELECT USING (true)",',
        *RLS,
    ),
    m(
        "rls-0004-force-not-restored-after-backfill",
        M4,
        '    "ALTER TABLE report FORCE ROW LEVEL SECURITY",\n'
        '    "ALTER TABLE report_count FORCE ROW LEVEL SECURITY",\n]',
        "]",
        *RLS,
    ),
    m(
        "rls-0007-notification-read-true",
        M7,
        'f"CREATE POLICY tenant_read ON {table} FOR SELECT USING {VISIBLE}",',
        'f"CREATE POLICY tenant_read ON {table} FOR SELECT USING (true)",',
        *RLS,
    ),
    m(
        "rls-0007-insert-true",
        M7,
        'f"CREATE POLICY tenant_insert ON {table} FOR INSERT WITH CHECK {OWN}",',
        'f"CREATE POLICY tenant_insert ON {table} FOR INSERT WITH CHECK (true)",',
        *RLS,
    ),
    # --- the RLS settings glue -----------------------------------------------------------------
    m(
        "session-province-flag-for-every-scope",
        "permissions/session.py",
        'return [tenant, tenants, "on" if scope.provincial else ""]',
        'return [tenant, tenants, "on"]',
        *SESSION,
    ),
    m(
        "session-own-tenant-listed-as-readable",
        "permissions/session.py",
        "others = scope.readable_tenant_ids - ({scope.tenant_id} if scope.tenant_id else set())",
        "others = scope.readable_tenant_ids",
        *SESSION,
    ),
    m(
        "session-caller-settings-not-restored",
        "permissions/session.py",
        "        yield conn\n        await conn.execute_query(SET_SCOPE_SQL, previous)\n",
        "        yield conn\n",
        *SESSION,
    ),
    m(
        "session-cross-tenant-read-not-audited",
        "permissions/session.py",
        "    if settings[1]:\n",
        "    if settings[1] and not scope.provincial:\n",
        *SESSION,
    ),
    # --- the Scope and its compiler ------------------------------------------------------------
    m(
        "scope-reach-ignores-field",
        "permissions/scope.py",
        ") and (\n            self.field_id is None or self.field_id == field_id\n        )",
        ")",
        *SCOPE,
    ),
    m(
        "scope-everywhere-means-anywhere",
        "permissions/scope.py",
        "return any(r.unlimited for r in self.reach.get(str(action), ()))",
        "return bool(self.reach.get(str(action)))",
        *SCOPE,
    ),
    m(
        "scope-require-on-checks-anywhere",
        "permissions/scope.py",
        "        if not self.allows_on(action, agency_id, field_id):\n            if",
        "        if not self.allows(action):\n            if",
        *SCOPE,
        *WORKFLOW,
    ),
    m(
        "compile-grant-field-ignored",
        "permissions/store.py",
        "field_id = _intersect(grant.field, field)",
        "field_id = field",
        *SCOPE,
    ),
    m(
        "compile-disjoint-narrowing-kept",
        "permissions/store.py",
        "    if b is None or a == b:\n        return a\n    return _DISJOINT",
        "    if b is None or a == b:\n        return a\n    return a",
        *SCOPE,
    ),
    m(
        "compile-any-role-in-province-domain-is-provincial",
        "permissions/store.py",
        "grant.domain == PROVINCE_DOMAIN and grant.role == PROVINCIAL_ADMIN",
        "grant.domain == PROVINCE_DOMAIN",
        *SCOPE,
    ),
    m(
        "compile-role-inheritance-ignored",
        "permissions/store.py",
        "for role in self.roles_with_ancestors(grant.role):",
        "for role in {grant.role}:",
        *SCOPE,
    ),
    # --- report visibility in SQL --------------------------------------------------------------
    m(
        "reach-condition-ignores-field",
        "reports/queries.py",
        "    if reach.field_id is not None:\n        condition &= Q(field_id=reach.field_id)\n",
        "",
        *NARROWING,
    ),
    m(
        "reach-condition-ignores-coordination",
        "reports/queries.py",
        "condition &= Q(lead_agency_id=reach.agency_id) | Q(",
        "condition &= Q(lead_agency_id=reach.agency_id) & Q(",
        *NARROWING,
    ),
    m(
        "visible-reports-field-reach-counted-unlimited",
        "reports/queries.py",
        "    if any(r.unlimited for r in reaches):\n        return query\n",
        "    if any(r.agency_id is None for r in reaches):\n        return query\n",
        *NARROWING,
    ),
    m(
        "own-reports-of-everyone",
        "reports/queries.py",
        "Report.filter(tenant_id=scope.require_tenant(), reporter_user_id=scope.require_user())",
        "Report.filter(tenant_id=scope.require_tenant())",
        "tests/api/test_subscriptions.py",
    ),
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
        "    return scope.allows_on(Perm.VIEW, lead_agency_id, field_id)",
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
        "reports/transitions.py",
        "public=actor is ActorKind.REPORTER,",
        "public=True,",
        *WORKFLOW,
        "tests/reports/test_workflow_graphql.py",
    ),
    m(
        "system-steps-recorded-as-staff",
        "reports/transitions.py",
        'actor_role="system",',
        'actor_role="staff",',
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
        "_t(A.REJECT, {S.SUBMITTED, S.RETURNED}, S.REJECTED, Perm.SCREEN, C.STOP_ALL,\n"
        "       reason=True, comment=True),",
        "_t(A.REJECT, {S.SUBMITTED, S.RETURNED}, S.REJECTED, Perm.SCREEN, C.STOP_ALL,\n"
        "       reason=False, comment=True),",
        *WORKFLOW,
    ),
    m(
        "system-closes-reopened-reports",
        "reports/workflow.py",
        "_t(A.CLOSE, {S.REOPENED}, S.CLOSED, Perm.CLOSE, C.STOP_ALL, reason=True",
        "_t(A.CLOSE, {S.REOPENED}, S.CLOSED, Perm.CLOSE, C.STOP_ALL, STAFF | SYSTEM, reason=True",
        *JOBS,
    ),
    m(
        "rework-restarts-the-resolve-clock",
        "reports/workflow.py",
        "Perm.REVIEW, C.RESUME_RESOLVE,",
        "Perm.REVIEW, C.START_RESOLVE,",
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
    # --- accounts ------------------------------------------------------------------------------
    m(
        "login-of-a-deactivated-user",
        "accounts/service.py",
        "if user is None or not ok or not user.is_active:",
        "if user is None or not ok:",
        *ACCOUNTS,
    ),
    m(
        "refresh-reuse-keeps-the-family",
        "accounts/service.py",
        "        await RefreshToken.filter(family_id=row.family_id, revoked_at__isnull=True)"
        ".update(\n            revoked_at=now\n        )\n",
        "",
        *ACCOUNTS,
    ),
    m(
        "refresh-of-an-expired-token",
        "accounts/service.py",
        "if row is None or row.revoked_at is not None or row.expires_at <= now:",
        "if row is None or row.revoked_at is not None:",
        *ACCOUNTS,
    ),
    m(
        "refresh-race-both-win",
        "accounts/service.py",
        "    if claimed == 0:  # a concurrent refresh won the race\n"
        "        return RefreshOutcome(None, _invalid_refresh())\n",
        "",
        *ACCOUNTS,
    ),
    m(
        "login-without-a-role",
        "accounts/service.py",
        "    if not scope.roles:\n        raise (",
        "    if False:\n        raise (",
        *ACCOUNTS,
    ),
    m(
        "jwt-expiry-not-required",
        "accounts/tokens.py",
        'options={"require": ["iss", "aud", "exp", "iat", "sub", "jti"]},',
        'options={"require": ["iss", "aud", "iat", "sub", "jti"]},',
        *ACCOUNTS,
    ),
    # --- the working calendar and the SLA clock -------------------------------------------------
    m(
        "calendar-make-up-days-ignored",
        "reports/calendar.py",
        "        if d in self.extra_working_days:\n            return True\n",
        "",
        *CLOCK,
    ),
    m(
        "calendar-tenant-days-off-ignored",
        "reports/calendar.py",
        "        if d in self.extra_days_off:\n            return False\n",
        "",
        *CLOCK,
    ),
    m(
        "calendar-period-end-counts-as-open",
        "reports/calendar.py",
        "            if end > t:\n                return self._local(max(start, t))",
        "            if end >= t:\n                return self._local(max(start, t))",
        *CLOCK,
    ),
    m(
        "calendar-due-on-period-end-jumps-to-next-opening",
        "reports/calendar.py",
        "if remaining <= available:",
        "if remaining < available:",
        *CLOCK,
    ),
    m(
        "calendar-working-days-count-the-start-day",
        "reports/calendar.py",
        "        for _ in range(days):\n            d = self.next_working_day(d)",
        "        for _ in range(days - 1):\n            d = self.next_working_day(d)",
        *CLOCK,
    ),
    m(
        "calendar-time-between-overcounts-the-last-period",
        "reports/calendar.py",
        "total += min(end, b) - max(start, a)",
        "total += end - max(start, a)",
        *CLOCK,
    ),
    m(
        "sla-urgent-on-working-time",
        "reports/sla.py",
        "    if urgency is Urgency.URGENT:\n"
        "        return _calendar_add(calendar, start, duration.as_calendar_time())\n",
        "",
        *CLOCK,
    ),
    m(
        "sla-calendar-deadline-left-on-a-holiday",
        "reports/sla.py",
        "    if not calendar.is_working_day(due.date()):\n"
        "        due = calendar.end_of_day(calendar.next_working_day(due.date()))\n",
        "",
        *CLOCK,
    ),
    m(
        "sla-pause-at-the-deadline-extends-it",
        "reports/sla.py",
        "if resumed_at <= paused_at or paused_at >= due:",
        "if resumed_at <= paused_at or paused_at > due:",
        *CLOCK,
    ),
    m(
        "reminder-due-soon-at-90-percent",
        "reports/reminders.py",
        'Threshold(0.8, "DUE_SOON"',
        'Threshold(0.9, "DUE_SOON"',
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
