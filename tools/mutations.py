"""The curated mutations of ``tools/mutants.py``: one realistic bug each, as an exact snippet of
one file (it must occur exactly once) and its replacement, with the tests expected to catch it.

Add one whenever a bug slips through review: name it after the bug, not the edit. This file:
row-level security, the settings glue, the Scope, report visibility and accounts; the workflow
and the clock are in ``tools/mutations_workflow.py``."""

from __future__ import annotations

from tools.mutation import (
    ACCOUNTS,
    FORCE,
    M1,
    M2,
    M3,
    M4,
    M7,
    NARROWING,
    OWN,
    READ,
    RLS,
    RLS_ALL,
    SCOPE,
    SESSION,
    WORKFLOW,
    Mutation,
    m,
)
from tools.mutations_workflow import WORKFLOW_MUTATIONS

SECURITY_MUTATIONS: tuple[Mutation, ...] = (
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
        'return [tenant, tenants, "on" if scope.provincial else "", user]',
        'return [tenant, tenants, "on", user]',
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
        "        yield conn\n        await set_rls_settings(conn, *previous)\n",
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
        "    if any(r.unlimited for r in reaches):\n        return query\n"
        "    return query.filter(reduce(or_, (reach",
        "    if any(r.agency_id is None for r in reaches):\n        return query\n"
        "    return query.filter(reduce(or_, (reach",
        *NARROWING,
    ),
    m(
        "own-reports-of-everyone",
        "reports/queries.py",
        "Report.filter(tenant_id=scope.require_tenant(), reporter_user_id=scope.require_user())",
        "Report.filter(tenant_id=scope.require_tenant())",
        "tests/api/test_subscriptions.py",
        "tests/reports/test_reporter_view.py",
    ),
    # --- accounts ------------------------------------------------------------------------------
    m(
        "login-of-a-deactivated-user",
        "accounts/sessions.py",
        "if found is None or not found.is_active:",
        "if found is None:",
        *ACCOUNTS,
    ),
    m(
        "refresh-reuse-keeps-the-family",
        "accounts/sessions.py",
        '        await revoke_sessions([row.session_id], "reuse")\n',
        "",
        *ACCOUNTS,
    ),
    m(
        "refresh-of-an-expired-token",
        "accounts/sessions.py",
        "        or row.expires_at <= now\n",
        "",
        *ACCOUNTS,
    ),
    m(
        "refresh-race-both-win",
        "accounts/sessions.py",
        "    if claimed == 0:\n"
        "        again = await credentials.refresh_row(token_hash)\n"
        "        replayed = await _replay(token, again, now) if again else None\n"
        "        return replayed or RefreshOutcome(None, _invalid_refresh())\n",
        "",
        *ACCOUNTS,
    ),
    m(
        "login-without-a-role",
        "accounts/sessions.py",
        "    if not scope.roles:\n        raise (",
        "    if False:\n        raise (",
        *ACCOUNTS,
    ),
    m(
        "jwt-expiry-not-required",
        "accounts/tokens.py",
        'options={"require": ["iss", "aud", "exp", "iat", "sub", "jti", "sid"]},',
        'options={"require": ["iss", "aud", "iat", "sub", "jti", "sid"]},',
        *ACCOUNTS,
    ),
)

MUTATIONS: tuple[Mutation, ...] = (*SECURITY_MUTATIONS, *WORKFLOW_MUTATIONS)
