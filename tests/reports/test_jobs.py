"""The background pass: auto-close after the rating window, auto-reject of unanswered requests
for information, one runner at a time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.db import root_client
from core.errors import PermissionDenied
from permissions.scope import Scope
from permissions.session import scoped_transaction, tenant_transaction
from permissions.store import store
from reports.jobs import JOBS_LOCK, run_once
from reports.models import Report, ReportEvent
from reports.service import AssignInput, SubmitInput, submit_report, transition
from reports.transitions import system_transition
from reports.workflow import TRANSITIONS, ActorKind, ReportState
from reports.workflow import WorkflowAction as A
from tenants.models import Field
from tests.factories import user_named


async def scope_of(username: str, tenant_id: uuid.UUID) -> Scope:
    return await store.scope_for((await user_named(username)).id, tenant_id)


async def new_report(tenant_id: uuid.UUID) -> tuple[Report, dict[str, Scope]]:
    scopes = {
        name: await scope_of(f"laocai.{name}", tenant_id)
        for name in ("citizen", "intake-operator", "agency-contact", "handler", "centre-supervisor")
    }
    async with scoped_transaction(scopes["intake-operator"]):
        field = await Field.get(tenant_id=tenant_id, code="ve-sinh-attp")
    async with scoped_transaction(scopes["citizen"]):
        result = await submit_report(
            scopes["citizen"],
            SubmitInput(
                title="Kiểm thử tác vụ nền",
                description="x",
                field_id=field.id,
                latitude=22.486,
                longitude=103.97,
                idempotency_key=uuid.uuid4().hex,
            ),
        )
    return result.report, scopes


async def step(scope: Scope, report: Report, action: A, **kwargs: Any) -> Report:
    async with scoped_transaction(scope):
        return await transition(scope, report.id, action, report.version, **kwargs)


async def state_of(scope: Scope, report_id: uuid.UUID) -> tuple[str, list[ReportEvent]]:
    async with scoped_transaction(scope):
        report = await Report.get(id=report_id)
        events = await ReportEvent.filter(report_id=report_id).order_by("created_at")
    return report.state, events


async def test_unrated_reports_close_and_unanswered_ones_are_rejected(
    pilot: dict[str, Any],
) -> None:
    tenant = pilot["tenants"]["lao-cai"]
    resolved, scopes = await new_report(tenant.id)
    async with scoped_transaction(scopes["intake-operator"]):
        food = await Field.get(tenant_id=tenant.id, code="ve-sinh-attp")
    resolved = await step(
        scopes["intake-operator"],
        resolved,
        A.ASSIGN,
        assign=AssignInput(lead_agency_id=food.default_agency_id),
    )
    resolved = await step(scopes["agency-contact"], resolved, A.ACCEPT)
    resolved = await step(scopes["handler"], resolved, A.SUBMIT_RESULT, comment="Đã xử lý.")
    resolved = await step(scopes["centre-supervisor"], resolved, A.APPROVE_RESULT)
    waiting, _ = await new_report(tenant.id)
    waiting = await step(
        scopes["intake-operator"], waiting, A.REQUEST_INFO, comment="Xin bổ sung ảnh."
    )

    # Nothing is due yet.
    today = await run_once(tenant_codes=["lao-cai"])
    assert (await state_of(scopes["intake-operator"], resolved.id))[0] == "RESOLVED"
    assert (await state_of(scopes["intake-operator"], waiting.id))[0] == "NEED_INFO"
    assert today.tenants == 1 and not today.errors

    # Eight days on, every resolved report of Lào Cai is past its rating window and every one
    # awaiting information past its reply window: ours, and any other test's.
    async with tenant_transaction(tenant.id):
        resolved_now = await Report.filter(tenant_id=tenant.id, state="RESOLVED").count()
        waiting_now = await Report.filter(tenant_id=tenant.id, state="NEED_INFO").count()
    pass_at = datetime.now(UTC) + timedelta(days=8)
    later = await run_once(pass_at, tenant_codes=["lao-cai"])
    assert (later.closed, later.rejected, later.errors) == (resolved_now, waiting_now, [])
    state, events = await state_of(scopes["intake-operator"], resolved.id)
    assert state == "CLOSED"
    assert (events[-1].action, events[-1].actor_role, events[-1].actor_user_id) == (
        "CLOSE",
        "system",
        None,
    )
    # The pass acts at its own instant, not at the moment the code happens to run.
    async with scoped_transaction(scopes["intake-operator"]):
        assert (await Report.get(id=resolved.id)).closed_at == pass_at
    assert events[-1].created_at == pass_at
    state, events = await state_of(scopes["intake-operator"], waiting.id)
    assert state == "REJECTED" and events[-1].reason_code == "INSUFFICIENT_INFO"
    assert events[-1].created_at == pass_at

    again = await run_once(datetime.now(UTC) + timedelta(days=8), tenant_codes=["lao-cai"])
    assert (again.closed, again.rejected) == (0, 0)  # each report is handled once


async def test_one_runner_at_a_time() -> None:
    async with root_client().acquire_connection() as other:
        assert await other.fetchval("SELECT pg_try_advisory_lock($1)", JOBS_LOCK)
        try:
            stats = await run_once(tenant_codes=[])
            assert stats.skipped and stats.tenants == 0
        finally:
            await other.execute("SELECT pg_advisory_unlock($1)", JOBS_LOCK)
    assert not (await run_once(tenant_codes=[])).skipped


# --- system steps -------------------------------------------------------------------------------
NOT_SYSTEM = [
    (state, t.action)
    for t in TRANSITIONS
    if ActorKind.SYSTEM not in t.actor and t.tenant_option is None  # options: off in the demo
    for state in sorted(t.from_states)
]


def test_the_system_takes_exactly_two_steps() -> None:
    """Auto-reject after the reply window, auto-close after the rating window: nothing else
    (the list below is the specification; the parametrised test derives from the code)."""
    system = {
        (state, t.action)
        for t in TRANSITIONS
        if ActorKind.SYSTEM in t.actor
        for state in t.from_states
    }
    assert system == {(ReportState.NEED_INFO, A.REJECT), (ReportState.RESOLVED, A.CLOSE)}


@pytest.mark.parametrize(("state", "action"), NOT_SYSTEM, ids=lambda v: str(v))
async def test_system_may_not_take_a_step_meant_for_people(
    pilot: dict[str, Any], state: ReportState, action: A
) -> None:
    """Refused before anything is read or written: the report need not even exist."""
    tenant = pilot["tenants"]["lao-cai"]
    ghost = Report(tenant_id=tenant.id, id=uuid.uuid4(), state=state.value, version=1)
    async with tenant_transaction(tenant.id):
        with pytest.raises(PermissionDenied):
            await system_transition(
                tenant.id, ghost, action, reason_code="INSUFFICIENT_INFO", comment="Hệ thống."
            )


async def test_system_rejects_an_unanswered_request_but_not_a_fresh_report(
    pilot: dict[str, Any],
) -> None:
    tenant = pilot["tenants"]["lao-cai"]
    report, scopes = await new_report(tenant.id)
    reason = {"reason_code": "INSUFFICIENT_INFO", "comment": "Không bổ sung."}
    async with tenant_transaction(tenant.id):
        with pytest.raises(PermissionDenied):  # REJECT from SUBMITTED is the centre's call
            await system_transition(tenant.id, report, A.REJECT, **reason)
    state, events = await state_of(scopes["intake-operator"], report.id)
    assert (state, [e.action for e in events]) == ("SUBMITTED", ["SUBMIT"])

    waiting = await step(scopes["intake-operator"], report, A.REQUEST_INFO, comment="Xin ảnh.")
    async with tenant_transaction(tenant.id):
        assert await system_transition(tenant.id, waiting, A.REJECT, **reason) is True
        # A second pass holding the old copy finds the version moved on and leaves it alone.
        assert await system_transition(tenant.id, waiting, A.REJECT, **reason) is False
    state, events = await state_of(scopes["intake-operator"], report.id)
    assert state == "REJECTED"
    assert (events[-1].action, events[-1].actor_role, events[-1].actor_user_id) == (
        "REJECT",
        "system",
        None,
    )
    assert [e.action for e in events].count("REJECT") == 1
