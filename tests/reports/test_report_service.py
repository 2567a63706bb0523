"""reports.service against the real database, as the RLS-bound application role."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from tortoise.exceptions import OperationalError

from core.errors import DomainError, NotFound
from permissions.scope import anonymous_in
from permissions.session import scoped_transaction
from reports.models import Report, ReporterContact, ReportEvent
from reports.service import AssignInput, ContactInput, submit_report, transition
from reports.workflow import WorkflowAction as A
from tests.support.services import events, new_input, scope_of, step, submit


async def test_submit_sets_code_unit_deadline_and_event(sapa: dict[str, Any]) -> None:
    report = await submit(sapa)
    assert report.code.startswith("SP-") and len(report.code.split("-")[2]) == 6
    assert report.state == "SUBMITTED" and report.version == 1
    assert report.unit_code == "03001"
    assert report.screen_due_at is not None and report.screen_due_at > report.created_at
    assert report.reporter_user_id == sapa["citizen"].user_id and report.tracking_code is None
    [event] = await events(sapa["operator"], report.id)
    assert (event.action, event.from_state, event.to_state) == ("SUBMIT", None, "SUBMITTED")
    second = await submit(sapa)
    assert second.code != report.code


async def test_submit_validates_every_field(sapa: dict[str, Any]) -> None:
    bad = new_input(sapa, title="abc", latitude=95.0, urgency="soon", field_id=uuid.uuid4())
    with pytest.raises(DomainError) as error:
        async with scoped_transaction(sapa["citizen"]):
            await submit_report(sapa["citizen"], bad)
    fields = {d.field for d in error.value.details}
    assert {"title", "latitude", "urgency", "fieldId"} <= fields


async def test_idempotent_retry_returns_the_first_report(sapa: dict[str, Any]) -> None:
    data = new_input(sapa)
    async with scoped_transaction(sapa["citizen"]):
        first = await submit_report(sapa["citizen"], data)
    async with scoped_transaction(sapa["citizen"]):
        again = await submit_report(sapa["citizen"], data)
    assert first.created and not again.created
    assert again.report.id == first.report.id


async def test_concurrent_retries_create_one_report(sapa: dict[str, Any]) -> None:
    data = new_input(sapa)

    async def once() -> Any:
        async with scoped_transaction(sapa["citizen"]):
            return await submit_report(sapa["citizen"], data)

    results = await asyncio.gather(once(), once(), once())
    assert len({r.report.id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    async with scoped_transaction(sapa["operator"]):
        assert await Report.filter(idempotency_key=data.idempotency_key).count() == 1


async def test_anonymous_submission_gets_a_tracking_code(sapa: dict[str, Any]) -> None:
    scope = anonymous_in(sapa["tenant"].id)
    data = new_input(sapa, contact=ContactInput(name="Nguyễn Văn A", phone="0912345678"))
    async with scoped_transaction(scope):
        result = await submit_report(scope, data)
    assert result.report.anonymous and result.report.reporter_user_id is None
    assert result.tracking_code and result.report.tracking_code == result.tracking_code
    async with scoped_transaction(sapa["operator"]):
        contact = await ReporterContact.get(report_id=result.report.id)
    assert contact.phone == "0912345678"


async def test_happy_path_to_closed(sapa: dict[str, Any]) -> None:
    report = await submit(sapa)
    assign = AssignInput(sapa["health"].id, (sapa["urban"].id,))
    report = await step(sapa["operator"], report, A.ASSIGN, assign=assign)
    assert report.state == "ASSIGNED" and report.lead_agency_id == sapa["health"].id
    assert report.coordinating_agency_ids == [sapa["urban"].id]
    assert report.accept_due_at is not None
    report = await step(sapa["contact"], report, A.ACCEPT)
    assert report.state == "IN_PROGRESS" and report.resolve_due_at is not None
    report = await step(sapa["handler"], report, A.SUBMIT_RESULT, comment="Đã thu gom rác.")
    assert report.state == "RESULT_SUBMITTED" and report.review_due_at is not None
    report = await step(sapa["supervisor"], report, A.APPROVE_RESULT)
    assert report.state == "RESOLVED" and report.resolved_at is not None
    report = await step(sapa["supervisor"], report, A.CLOSE)
    assert report.state == "CLOSED" and report.closed_at is not None and report.version == 6
    history = await events(sapa["operator"], report.id)
    assert [(e.action, e.to_state) for e in history] == [
        ("SUBMIT", "SUBMITTED"),
        ("ASSIGN", "ASSIGNED"),
        ("ACCEPT", "IN_PROGRESS"),
        ("SUBMIT_RESULT", "RESULT_SUBMITTED"),
        ("APPROVE_RESULT", "RESOLVED"),
        ("CLOSE", "CLOSED"),
    ]
    assert history[3].comment == "Đã thu gom rác."
    assert history[1].actor_user_id == sapa["operator"].user_id
    # What staff write on the way is internal; why a report is closed is owed to its reporter.
    assert [e.public for e in history[1:]] == [False, False, False, False, True]


async def test_invalid_transition_changes_nothing(sapa: dict[str, Any]) -> None:
    report = await submit(sapa)
    with pytest.raises(DomainError) as error:
        await step(sapa["supervisor"], report, A.APPROVE_RESULT)
    assert error.value.code == "INVALID_TRANSITION"
    async with scoped_transaction(sapa["operator"]):
        fresh = await Report.get(id=report.id)
        assert await ReportEvent.filter(report_id=report.id).count() == 1
    assert (fresh.state, fresh.version) == ("SUBMITTED", 1)


async def test_reason_is_required_to_reject(sapa: dict[str, Any]) -> None:
    report = await submit(sapa)
    with pytest.raises(DomainError) as error:
        await step(sapa["operator"], report, A.REJECT)
    assert {d.code for d in error.value.details} == {"REASON_REQUIRED", "COMMENT_REQUIRED"}
    rejected = await step(
        sapa["operator"], report, A.REJECT, reason_code="OUT_OF_SCOPE", comment="Không thuộc."
    )
    assert rejected.state == "REJECTED" and rejected.closed_at is not None


async def test_stale_version(sapa: dict[str, Any]) -> None:
    report = await submit(sapa)
    await step(sapa["operator"], report, A.ASSIGN, assign=AssignInput(sapa["health"].id))
    with pytest.raises(DomainError) as error:
        await step(sapa["operator"], report, A.REJECT, reason_code="OUT_OF_SCOPE", comment="x")
    assert error.value.code == "STALE_VERSION"


async def test_agency_staff_of_another_agency_is_forbidden(sapa: dict[str, Any]) -> None:
    report = await submit(sapa)
    report = await step(sapa["operator"], report, A.ASSIGN, assign=AssignInput(sapa["urban"].id))
    # The demo agency contact and handler belong to the health division, not urban management.
    for who in ("contact", "handler"):
        with pytest.raises(DomainError) as error:
            await step(sapa[who], report, A.ACCEPT)
        assert error.value.code == "FORBIDDEN"
    # A citizen cannot take staff actions either.
    with pytest.raises(DomainError) as error:
        await step(sapa["citizen"], report, A.RETURN, reason_code="WRONG_AREA", comment="x")
    assert error.value.code == "FORBIDDEN"


async def test_only_the_reporter_withdraws(sapa: dict[str, Any]) -> None:
    report = await submit(sapa)
    with pytest.raises(DomainError) as error:
        await step(sapa["operator"], report, A.WITHDRAW)
    assert error.value.code == "FORBIDDEN"
    withdrawn = await step(sapa["citizen"], report, A.WITHDRAW)
    assert withdrawn.state == "WITHDRAWN"
    [_, event] = await events(sapa["operator"], report.id)
    assert event.actor_role == "reporter"
    assert event.public  # the reporter's own step is theirs to see


async def test_concurrent_conflicting_transitions_apply_once(sapa: dict[str, Any]) -> None:
    report = await submit(sapa)
    operator = sapa["operator"]
    results = await asyncio.gather(
        step(operator, report, A.ASSIGN, assign=AssignInput(sapa["health"].id)),
        step(operator, report, A.REJECT, reason_code="OUT_OF_SCOPE", comment="Trùng nội dung."),
        return_exceptions=True,
    )
    applied = [r for r in results if isinstance(r, Report)]
    failed = [r for r in results if isinstance(r, DomainError)]
    assert len(applied) == 1 and len(failed) == 1, results
    assert failed[0].code == "STALE_VERSION"
    async with scoped_transaction(operator):
        fresh = await Report.get(id=report.id)
        assert await ReportEvent.filter(report_id=report.id).count() == 2
    assert fresh.version == 2 and fresh.state == applied[0].state


async def test_other_tenant_cannot_see_the_report(
    sapa: dict[str, Any], pilot: dict[str, Any]
) -> None:
    report = await submit(sapa)
    laocai = await scope_of(pilot, "laocai.intake-operator", "lao-cai")
    async with scoped_transaction(laocai):
        assert await Report.get_or_none(id=report.id) is None
        assert await ReportEvent.filter(report_id=report.id).count() == 0
        with pytest.raises(NotFound):
            await transition(laocai, report.id, A.ASSIGN, 1, assign=AssignInput(uuid.uuid4()))


async def test_events_are_append_only(sapa: dict[str, Any]) -> None:
    report = await submit(sapa)
    with pytest.raises(OperationalError, match="permission denied for table report_event"):
        async with scoped_transaction(sapa["operator"]):
            await ReportEvent.filter(report_id=report.id).update(comment="rewritten")
