"""The only writer of reports: submission and workflow transitions (DESIGN §4).

Callers run these inside ``permissions.session.scoped_transaction(scope)``: RLS then confines
every statement to the scope's tenant, and a raised ``DomainError`` rolls the whole step back.

- ``submit_report(scope, SubmitInput) -> SubmitResult``: validated, idempotent on the client's
  key (a retry returns the first report), located in an administrative unit, screening deadline
  set from the tenant's SLA table, SUBMITTED event recorded.
- ``transition(scope, report_id, action, expected_version, reason_code, comment, assign)``: one
  step of ``reports.workflow.TRANSITIONS``, guarded by permission (staff) or ownership
  (reporter) and by optimistic concurrency on ``version`` (``STALE_VERSION``).
"""

from reports.submission import ContactInput, SubmitInput, SubmitResult, submit_report
from reports.transitions import AssignInput, transition

__all__ = [
    "AssignInput",
    "ContactInput",
    "SubmitInput",
    "SubmitResult",
    "submit_report",
    "transition",
]
