"""Side processes against the real database: extensions, information requests, comments and
publication, with their refusals (permission, state, once per report, tenant isolation)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import pytest
import time_machine
from tortoise.exceptions import OperationalError
from tortoise.transactions import in_transaction

from core.errors import DomainError, NotFound
from permissions.scope import Scope, anonymous_in
from permissions.session import scoped_transaction
from reports import transitions
from reports.models import ExtensionRequest, InfoRequest, Report, ReportEvent
from reports.service import (
    AssignInput,
    add_comment,
    answer_info,
    decide_extension,
    publish,
    request_extension,
    request_info,
    submit_report,
)
from reports.workflow import ReportState
from reports.workflow import WorkflowAction as A
from tests.clock import stop_clock, vn
from tests.support.services import (
    ROLES,
    events,
    fresh,
    in_progress,
    new_input,
    scope_of,
    step,
    submit,
)


async def run(scope: Scope, service: Any, *args: Any, **kwargs: Any) -> Any:
    async with scoped_transaction(scope):
        return await service(scope, *args, **kwargs)


async def refused(code: str, scope: Scope, service: Any, *args: Any, **kwargs: Any) -> DomainError:
    with pytest.raises(DomainError) as error:
        await run(scope, service, *args, **kwargs)
    assert error.value.code == code, error.value.details
    return error.value


# --- extension ----------------------------------------------------------------------------------
async def test_extension_requested_then_approved(sapa: dict[str, Any]) -> None:
    report = await in_progress(sapa)
    due = report.resolve_due_at
    assert due is not None
    wanted = due + timedelta(days=1)
    extension = await run(sapa["handler"], request_extension, report.id, wanted, " Cần thêm mẫu ")
    assert (extension.status, extension.reason) == ("pending", "Cần thêm mẫu")
    assert extension.requested_by == sapa["handler"].user_id
    unchanged = await fresh(sapa["operator"], report.id)
    assert (unchanged.version, unchanged.resolve_due_at) == (report.version, due)

    decided = await run(sapa["supervisor"], decide_extension, report.id, True, "Đồng ý")
    assert decided.status == "approved" and decided.decided_by == sapa["supervisor"].user_id
    after = await fresh(sapa["operator"], report.id)
    assert after.resolve_due_at == wanted and after.version == report.version + 1
    assert after.state == "IN_PROGRESS"
    history = await events(sapa["operator"], report.id)
    side = [(e.action, e.from_state, e.to_state, e.public) for e in history[-2:]]
    assert side == [
        ("REQUEST_EXTENSION", "IN_PROGRESS", "IN_PROGRESS", False),
        ("APPROVE_EXTENSION", "IN_PROGRESS", "IN_PROGRESS", True),
    ]
    assert history[-1].data["resolve_due_at"] == wanted.isoformat()
    # Only one extension per report, whatever became of the first.
    await refused(
        "EXTENSION_ALREADY_REQUESTED",
        sapa["handler"],
        request_extension,
        report.id,
        wanted + timedelta(hours=1),
        "Lần hai",
    )
    await refused(
        "EXTENSION_ALREADY_DECIDED", sapa["supervisor"], decide_extension, report.id, True
    )


@pytest.mark.parametrize(
    ("accepted", "due", "latest", "calendar_time_latest"),
    [
        # 5 working days from Mon 2 Feb: Tue 3 .. Mon 9; 5 more: Tue 10 .. Fri 13, Tết 16-20
        # closed, Mon 23. The same time on the wall clock would end in the middle of Tết.
        (vn(2026, 2, 2, 9), vn(2026, 2, 9, 17), vn(2026, 2, 23, 17), vn(2026, 2, 17, 1)),
        # 5 working days from Wed 22 Apr: Thu 23, Fri 24, Tue 28, Wed 29, Mon 4 May (Giỗ Tổ,
        # 30/4, 1/5 off); 5 more: Tue 5 .. Mon 11. Wall-clock time would give until 17 May.
        (vn(2026, 4, 22, 9), vn(2026, 5, 4, 17), vn(2026, 5, 11, 17), vn(2026, 5, 17, 1)),
    ],
)
async def test_extension_cap_is_the_original_period_in_working_days(
    sapa: dict[str, Any],
    time_machine: time_machine.TimeMachineFixture,
    accepted: Any,
    due: Any,
    latest: Any,
    calendar_time_latest: Any,
) -> None:
    stop_clock(time_machine, accepted)
    longest, too_long = await in_progress(sapa), await in_progress(sapa)
    assert longest.resolve_due_at == due
    assert due + (due - accepted) == calendar_time_latest  # what the old cap allowed
    minute = timedelta(minutes=1)
    await refused(
        "EXTENSION_TOO_LONG", sapa["handler"], request_extension, too_long.id, latest + minute, "x"
    )
    extension = await run(sapa["handler"], request_extension, longest.id, latest, "Chờ mẫu")
    assert extension.requested_due_at == latest


async def test_second_pending_extension_is_refused(sapa: dict[str, Any]) -> None:
    report = await in_progress(sapa)
    wanted = report.resolve_due_at + timedelta(hours=4)
    await run(sapa["handler"], request_extension, report.id, wanted, "Chờ kết quả xét nghiệm")
    error = await refused(
        "EXTENSION_ALREADY_REQUESTED", sapa["handler"], request_extension, report.id, wanted, "x"
    )
    assert error.details[0].message_vi and error.details[0].message_en
    async with scoped_transaction(sapa["operator"]):
        assert await ExtensionRequest.filter(report_id=report.id).count() == 1


async def test_extension_refusals(
    sapa: dict[str, Any], time_machine: time_machine.TimeMachineFixture
) -> None:
    stop_clock(time_machine, vn(2026, 3, 9, 9))
    report = await in_progress(sapa)
    due = report.resolve_due_at
    assert due == vn(2026, 3, 16, 17)  # 5 working days: Tue 10 .. Mon 16
    later = due + timedelta(hours=2)
    for who in ("citizen", "contact", "operator", "supervisor"):
        await refused("FORBIDDEN", sapa[who], request_extension, report.id, later, "Lý do")
    error = await refused("REQUIRED", sapa["handler"], request_extension, report.id, due, "  ")
    fields = {(d.code, d.field) for d in error.details}
    assert fields == {("REQUIRED", "reason"), ("EXTENSION_NOT_LATER", "requestedDueAt")}
    too_long = due + timedelta(days=60)
    error = await refused(
        "EXTENSION_TOO_LONG", sapa["handler"], request_extension, report.id, too_long, "Lý do"
    )
    assert error.field == "requestedDueAt"
    stop_clock(time_machine, due + timedelta(minutes=1))
    error = await refused(
        "DEADLINE_PASSED", sapa["handler"], request_extension, report.id, later, "Lý do"
    )
    assert error.field == "requestedDueAt" and "deadline" in error.details[0].message_en
    async with scoped_transaction(sapa["operator"]):
        assert not await ExtensionRequest.exists(report_id=report.id)
    # Not in progress: the request is refused by state; urgent reports escalate instead.
    assigned = await step(
        sapa["operator"], await submit(sapa), A.ASSIGN, assign=AssignInput(sapa["health"].id)
    )
    await refused("INVALID_STATE", sapa["handler"], request_extension, assigned.id, later, "x")
    urgent = await in_progress(sapa, urgency="urgent")
    await refused(
        "EXTENSION_NOT_ALLOWED",
        sapa["handler"],
        request_extension,
        urgent.id,
        urgent.resolve_due_at + timedelta(minutes=30),
        "Lý do",
    )


async def test_denial_needs_a_comment_and_keeps_the_deadline(sapa: dict[str, Any]) -> None:
    report = await in_progress(sapa)
    await refused("NOT_FOUND", sapa["supervisor"], decide_extension, report.id, False, "Không")
    wanted = report.resolve_due_at + timedelta(hours=8)
    await run(sapa["handler"], request_extension, report.id, wanted, "Thiếu nhân lực")
    await refused("FORBIDDEN", sapa["handler"], decide_extension, report.id, True)
    error = await refused("REQUIRED", sapa["supervisor"], decide_extension, report.id, False)
    assert error.field == "comment"
    denied = await run(sapa["supervisor"], decide_extension, report.id, False, "Không đủ lý do")
    assert denied.status == "denied" and denied.decision_comment == "Không đủ lý do"
    after = await fresh(sapa["operator"], report.id)
    assert (after.version, after.resolve_due_at) == (report.version, report.resolve_due_at)
    assert (await events(sapa["operator"], report.id))[-1].action == "DENY_EXTENSION"


# --- information request ------------------------------------------------------------------------
async def test_answered_info_request_extends_the_deadline(
    sapa: dict[str, Any], time_machine: time_machine.TimeMachineFixture
) -> None:
    stop_clock(time_machine, vn(2026, 3, 9, 9))  # Monday
    report = await in_progress(sapa)
    assert report.resolve_due_at == vn(2026, 3, 16, 17)
    stop_clock(time_machine, vn(2026, 3, 10, 9))
    await refused("FORBIDDEN", sapa["contact"], request_info, report.id, "Ở đâu?")
    info = await run(sapa["handler"], request_info, report.id, "Quán ăn ở số nhà nào?")
    assert info.status == "open" and info.requested_by == sapa["handler"].user_id
    await refused("INFO_ALREADY_REQUESTED", sapa["handler"], request_info, report.id, "Lần 2?")
    await refused("FORBIDDEN", sapa["operator"], answer_info, report.id, "Số 5")
    assert info.created_at == vn(2026, 3, 10, 9)  # the pause starts with the question
    stop_clock(time_machine, vn(2026, 3, 10, 11))  # answered two working hours later
    done = await run(sapa["citizen"], answer_info, report.id, " Số 5 đường Cầu Mây ")
    assert (done.status, done.answer) == ("answered", "Số 5 đường Cầu Mây")
    after = await fresh(sapa["operator"], report.id)
    # Mon 16 Mar 17:00 + 2 working hours: Tue 17 Mar 07:30-09:30.
    assert after.resolve_due_at == vn(2026, 3, 17, 9, 30) and after.version == report.version + 1
    history = await events(sapa["operator"], report.id)
    assert [(e.action, e.to_state) for e in history[-2:]] == [
        ("ASK_INFO", "IN_PROGRESS"),
        ("ANSWER_INFO", "IN_PROGRESS"),
    ]
    assert history[-1].actor_role == "reporter"
    await refused("NOT_FOUND", sapa["citizen"], answer_info, report.id, "Lần nữa")
    # Once answered, a new question may be asked.
    again = await run(sapa["handler"], request_info, report.id, "Giờ mở cửa?")
    assert (again.status, again.question) == ("open", "Giờ mở cửa?") and again.id != info.id
    async with scoped_transaction(sapa["operator"]):
        asked = await InfoRequest.filter(report_id=report.id)
    assert {(i.id, i.status) for i in asked} == {(info.id, "answered"), (again.id, "open")}


async def test_a_reporter_without_account_or_tracking_code_cannot_be_asked(
    sapa: dict[str, Any],
) -> None:
    """Anonymous reporters answer through their tracking code (test_anonymous_answer_graphql);
    a row with neither an account nor a code (entered before codes existed) cannot answer."""
    scope = anonymous_in(sapa["tenant"].id)
    async with scoped_transaction(scope):
        report = (await submit_report(scope, new_input(sapa))).report
    report = await step(sapa["operator"], report, A.ASSIGN, assign=AssignInput(sapa["health"].id))
    report = await step(sapa["contact"], report, A.ACCEPT)
    async with scoped_transaction(sapa["operator"]):
        await Report.filter(id=report.id).update(tracking_code=None)
    await refused("REPORTER_UNREACHABLE", sapa["handler"], request_info, report.id, "Ở đâu?")


# --- comments -----------------------------------------------------------------------------------
async def test_comments_by_staff_and_reporter(sapa: dict[str, Any]) -> None:
    report = await submit(sapa)
    note = await run(sapa["operator"], add_comment, report.id, "Đã gọi điện xác minh.", False)
    assert (note.action, note.from_state, note.to_state) == ("COMMENT", "SUBMITTED", "SUBMITTED")
    assert not note.public and note.actor_user_id == sapa["operator"].user_id
    own = await run(sapa["citizen"], add_comment, report.id, "Vẫn còn rác.", False)
    assert own.public and own.actor_role == "reporter"
    assert (await fresh(sapa["operator"], report.id)).version == report.version
    error = await refused("REQUIRED", sapa["operator"], add_comment, report.id, "  ", True)
    assert error.field == "text"
    # Agency staff comment only on reports their agency leads or coordinates.
    urban = await step(sapa["operator"], report, A.ASSIGN, assign=AssignInput(sapa["urban"].id))
    await refused("FORBIDDEN", sapa["coordinating"], add_comment, urban.id, "Phối hợp", True)
    await refused("FORBIDDEN", sapa["handler"], add_comment, urban.id, "Xử lý", True)
    other = await submit(sapa)
    await step(
        sapa["operator"],
        other,
        A.ASSIGN,
        assign=AssignInput(sapa["urban"].id, (sapa["health"].id,)),
    )
    joint = await run(sapa["coordinating"], add_comment, other.id, "Y tế phối hợp.", True)
    assert joint.public and joint.to_state == "ASSIGNED"


async def test_side_events_do_not_move_the_review_pause(sapa: dict[str, Any]) -> None:
    report = await in_progress(sapa)
    report = await step(sapa["handler"], report, A.SUBMIT_RESULT, comment="Đã xử lý.")
    await run(sapa["supervisor"], add_comment, report.id, "Đang kiểm tra.", False)
    async with scoped_transaction(sapa["operator"]):
        submitted = await ReportEvent.get(report_id=report.id, action="SUBMIT_RESULT")
        paused = await transitions._last_entered(report, ReportState.RESULT_SUBMITTED)
    assert paused == submitted.created_at


# --- publication --------------------------------------------------------------------------------
async def test_publication(sapa: dict[str, Any]) -> None:
    report = await in_progress(sapa)
    await refused("NOT_PUBLISHABLE", sapa["supervisor"], publish, report.id, True)
    report = await step(sapa["handler"], report, A.SUBMIT_RESULT, comment="Đã xử lý.")
    report = await step(sapa["supervisor"], report, A.APPROVE_RESULT)
    await refused("FORBIDDEN", sapa["operator"], publish, report.id, True)
    await refused("FORBIDDEN", sapa["citizen"], publish, report.id, True)
    published = await run(sapa["supervisor"], publish, report.id, True)
    assert published.published and published.version == report.version + 1
    again = await run(sapa["supervisor"], publish, report.id, True)
    assert again.version == published.version  # nothing changed, nothing recorded
    hidden = await run(sapa["supervisor"], publish, report.id, False)
    assert not hidden.published and hidden.version == published.version + 1
    history = await events(sapa["operator"], report.id)
    publications = [e.data for e in history if e.action == "PUBLISH"]
    assert publications == [{"published": True}, {"published": False}]
    assert history[-1].to_state == "RESOLVED"


# --- isolation ----------------------------------------------------------------------------------
async def test_other_tenant_gets_not_found(sapa: dict[str, Any], pilot: dict[str, Any]) -> None:
    report = await in_progress(sapa)
    later = report.resolve_due_at + timedelta(hours=1)
    laocai = {
        role: await scope_of(pilot, f"laocai.{name.split('.', 1)[1]}", "lao-cai")
        for role, name in ROLES.items()
    }
    calls = [
        ("handler", request_extension, (report.id, later, "Lý do")),
        ("supervisor", decide_extension, (report.id, True, "Đồng ý")),
        ("handler", request_info, (report.id, "Câu hỏi")),
        ("citizen", answer_info, (report.id, "Trả lời")),
        ("operator", add_comment, (report.id, "Bình luận", True)),
        ("supervisor", publish, (report.id, True)),
    ]
    for role, service, args in calls:
        with pytest.raises(NotFound):
            await run(laocai[role], service, *args)


@pytest.mark.parametrize("table", ["extension_request", "info_request"])
async def test_side_tables_force_rls(database: Any, table: str) -> None:
    async with in_transaction() as conn:
        _, rows = await conn.execute_query(
            "SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = $1::regclass",
            [table],
        )
        _, policies = await conn.execute_query(
            # the policies every role is under (migration 0023 adds one for the owner role
            # only, the merge path's: tests/tenants/test_merge.py)
            "SELECT polname FROM pg_policy WHERE polrelid = $1::regclass AND 0 = ANY (polroles)",
            [table],
        )
    assert rows[0]["relrowsecurity"] and rows[0]["relforcerowsecurity"]
    assert {p["polname"] for p in policies} == {
        "tenant_read",
        "tenant_insert",
        "tenant_update",
        "tenant_delete",
    }


async def test_side_rows_stay_in_their_tenant(sapa: dict[str, Any], pilot: dict[str, Any]) -> None:
    report = await in_progress(sapa)
    later = report.resolve_due_at + timedelta(hours=1)
    await run(sapa["handler"], request_extension, report.id, later, "Lý do")
    await run(sapa["handler"], request_info, report.id, "Câu hỏi")
    laocai = await scope_of(pilot, "laocai.intake-operator", "lao-cai")
    async with scoped_transaction(laocai):
        assert await ExtensionRequest.filter(report_id=report.id).count() == 0
        assert await InfoRequest.filter(report_id=report.id).count() == 0
        changed = await ExtensionRequest.filter(report_id=report.id).update(status="approved")
        assert changed == 0
    with pytest.raises(OperationalError, match="row-level security") as refused_insert:
        async with scoped_transaction(laocai):
            await ExtensionRequest.create(
                tenant_id=sapa["tenant"].id,
                report_id=report.id,
                requested_by=laocai.user_id,
                reason="x",
                requested_due_at=later,
            )
    assert isinstance(refused_insert.value.__cause__, asyncpg.InsufficientPrivilegeError)
