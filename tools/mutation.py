"""What a curated mutation is (see ``tools/mutants.py``), and the test sets they run.

The mutations themselves live in ``tools/mutations.py`` (isolation, permissions, accounts)
and ``tools/mutations_workflow.py`` (transitions, the workflow table, the clock)."""

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
CLOCK = ("tests/tenants/test_calendar.py", "tests/tenants/test_sla.py")


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
