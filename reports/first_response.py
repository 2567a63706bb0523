"""Urgent reports answer twice (docs/domain.md §4): a first response within 4 hours, 24/7
(the resolve rule of the SLA table, set when the agency accepts), then the full result within
one working day (``tenants.sla.urgent_result_due``).

The first response is the handling agency's first public comment while it holds the report;
it moves the running resolve deadline on to the full result, so reminders, escalation and the
`report_running_due` trigger follow it unchanged. Submitting the result within the 4 hours
meets both. Use it through ``reports.side.add_comment``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from reports.models import Report, ReportEvent
from reports.records import tenant_rules, update_report
from reports.workflow import ReportState, WorkflowAction
from tenants.sla import Urgency, urgent_result_due

#: States in which the agency's resolve clock runs (the first response is owed there).
ANSWERING = frozenset({ReportState.IN_PROGRESS, ReportState.LEADER_REVIEW})


async def _accepted_at(report: Report, fallback: datetime) -> datetime:
    accept = (
        await ReportEvent.filter(
            tenant_id=report.tenant_id, report_id=report.id, action=WorkflowAction.ACCEPT.value
        )
        .order_by("-created_at", "-id")
        .first()
    )
    return accept.created_at if accept else fallback


async def first_response(report: Report, now: datetime) -> tuple[Report, dict[str, Any]]:
    """After a public staff comment: the report (its resolve deadline moved on if this was the
    urgent report's first response) and what to record on the comment's event."""
    if (
        report.urgency != Urgency.URGENT.value
        or ReportState(report.state) not in ANSWERING
        or report.resolve_due_at is None
    ):
        return report, {}
    rules = await tenant_rules(report.tenant_id)
    result_due = urgent_result_due(rules.calendar, await _accepted_at(report, now)).astimezone(UTC)
    if result_due <= report.resolve_due_at:  # answered before, or the result is due sooner
        return report, {}
    first_due = report.resolve_due_at
    updated = await update_report(report, now, resolve_due_at=result_due)
    return updated, {
        "first_response": True,
        "first_response_late": now > first_due,
        "previous_resolve_due_at": first_due,
        "resolve_due_at": result_due,
    }
