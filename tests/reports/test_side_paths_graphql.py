"""The workflow's side paths over GraphQL HTTP: rejection, requests for information, duplicates,
withdrawal, returns, rework, reopening, extensions, questions to the reporter, comments and stale
versions. Steps that set a deadline run on a stopped clock, and the deadline is checked exactly
against the value worked out by hand (tests/clock.py)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from api.settings import Settings
from tenants.models import Agency
from tests.clock import Moment, on
from tests.conftest import GraphQLClient
from tests.support.workflow import (
    CITIZEN,
    CONTACT,
    HANDLER,
    OPERATOR,
    SUBMIT,
    SUPERVISOR,
    Clock,
    Env,
    act,
    at,
    by_moment,
    error_codes,
    gid,
    make_env,
    mutate,
    own_view,
    report_input,
    staff_view,
    when,
)


@pytest.fixture(scope="module")
async def env(pilot: dict[str, Any], gql: GraphQLClient) -> Env:
    return await make_env(pilot, gql)


async def submitted(gql: GraphQLClient, env: Env, **overrides: Any) -> dict[str, Any]:
    body = await gql(SUBMIT, {"i": report_input(env, **overrides)}, env.token(CITIZEN))
    assert "errors" not in body and body["data"]["submitReport"]["errors"] == [], body
    return body["data"]["submitReport"]["report"]


async def assigned(gql: GraphQLClient, env: Env, agency: Agency | None = None) -> dict[str, Any]:
    report = await submitted(gql, env)
    variables = {
        "id": report["id"],
        "version": report["version"],
        "leadAgencyId": gid("Agency", (agency or env.health).id),
    }
    return (await act(gql, "assignReport", variables, env.token(OPERATOR)))["report"]


async def in_progress(gql: GraphQLClient, env: Env) -> dict[str, Any]:
    report = await assigned(gql, env)
    variables = {"id": report["id"], "version": report["version"]}
    return (await act(gql, "acceptReport", variables, env.token(CONTACT)))["report"]


async def result_submitted(gql: GraphQLClient, env: Env) -> dict[str, Any]:
    report = await in_progress(gql, env)
    variables = {"id": report["id"], "version": report["version"], "comment": "Đã xử lý xong."}
    return (await act(gql, "submitResult", variables, env.token(HANDLER)))["report"]


async def resolved(gql: GraphQLClient, env: Env) -> dict[str, Any]:
    report = await result_submitted(gql, env)
    variables = {"id": report["id"], "version": report["version"]}
    return (await act(gql, "approveResult", variables, env.token(SUPERVISOR)))["report"]


def ref(report: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": report["id"], "version": report["version"], **extra}


async def schema_refusal(
    gql: GraphQLClient, name: str, variables: dict[str, Any], token: str
) -> str:
    """The code of a mutation the schema itself refuses (a reason is an enum, required)."""
    body = await mutate(gql, name, variables, token)
    assert body["data"] is None, body
    return str(body["errors"][0]["extensions"]["code"])


async def test_reject_needs_a_reason_from_the_list(gql: GraphQLClient, env: Env) -> None:
    operator = env.token(OPERATOR)
    report = await submitted(gql, env)
    before = await staff_view(gql, operator, report["id"])
    missing = ref(report, comment="Không rõ.")
    assert await schema_refusal(gql, "rejectReport", missing, operator) == "BAD_USER_INPUT"
    unknown = ref(report, reason="BORING", comment="x")
    assert await schema_refusal(gql, "rejectReport", unknown, operator) == "BAD_USER_INPUT"
    after = await staff_view(gql, operator, report["id"])
    assert (after["state"], after["version"], after["events"]) == (
        "SUBMITTED",
        1,
        before["events"],
    )
    variables = ref(report, reason="OUT_OF_SCOPE", comment="Không thuộc lĩnh vực ATTP.")
    rejected = (await act(gql, "rejectReport", variables, operator))["report"]
    assert rejected["state"] == "REJECTED" and rejected["closedAt"] and rejected["version"] == 2
    assert rejected["lastEvent"]["reasonCode"] == "OUT_OF_SCOPE"
    assert rejected["availableActions"] == []
    mine = await own_view(gql, env.token(CITIZEN), report["id"])
    assert mine["state"] == "REJECTED"


@by_moment
async def test_request_info_then_provide_info(
    gql: GraphQLClient, env: Env, settings: Settings, time_machine: Clock, moment: Moment
) -> None:
    """Submitted at 09:00 the working day before, asked at 10:00, answered at ``moment``: the
    screening clock starts again from the answer."""
    day = moment.day
    env = await at(env, settings, time_machine, on(day.one_before, 9))
    report = await submitted(gql, env)
    assert when(report["screenDueAt"]) == on(day.one_before, 15)  # 2.5 h + 1.5 h
    env = await at(env, settings, time_machine, on(day.one_before, 10))
    operator = env.token(OPERATOR)
    codes = await error_codes(gql, "requestInfo", ref(report), operator)
    assert codes == ["COMMENT_REQUIRED"]
    asked = (await act(gql, "requestInfo", ref(report, comment="Quán ở số nhà nào?"), operator))[
        "report"
    ]
    assert asked["state"] == "NEED_INFO" and asked["dueAt"] is None
    env = await at(env, settings, time_machine, moment.at)
    operator, citizen = env.token(OPERATOR), env.token(CITIZEN)
    assert (await own_view(gql, citizen, report["id"]))["availableActions"] == [
        "PROVIDE_INFO",
        "WITHDRAW",
    ]
    answered = (await act(gql, "provideInfo", ref(asked, comment="Số 12 Cầu Mây."), citizen))[
        "report"
    ]
    assert answered["state"] == "SUBMITTED" and answered["version"] == 3
    assert when(answered["screenDueAt"]) == moment.plus_4_working_hours
    assert answered["dueAt"] == answered["screenDueAt"]
    assert answered["lastEvent"]["public"] is True
    assert answered["lastEvent"]["comment"] == "Số 12 Cầu Mây."
    history = (await staff_view(gql, operator, report["id"]))["events"]
    assert [e["action"] for e in history] == ["SUBMIT", "REQUEST_INFO", "PROVIDE_INFO"]
    assert when(history[2]["data"]["screen_due_at"]) == when(answered["screenDueAt"])


async def test_mark_duplicate_of_another_report(gql: GraphQLClient, env: Env) -> None:
    operator = env.token(OPERATOR)
    first = await submitted(gql, env)
    second = await submitted(gql, env)
    variables = ref(second, masterId=first["id"])
    duplicate = (await act(gql, "markDuplicate", variables, operator))["report"]
    assert duplicate["state"] == "DUPLICATE" and duplicate["closedAt"]
    assert first["code"] in duplicate["lastEvent"]["comment"]
    assert duplicate["lastEvent"]["reasonCode"] == "DUPLICATE"
    master = await staff_view(gql, operator, first["id"])
    assert (master["state"], master["version"]) == ("SUBMITTED", 1)


async def test_withdraw_by_the_citizen(gql: GraphQLClient, env: Env) -> None:
    citizen = env.token(CITIZEN)
    report = await submitted(gql, env)
    withdrawn = (
        await act(gql, "withdrawReport", ref(report, comment="Đã tự giải quyết."), citizen)
    )["report"]
    assert withdrawn["state"] == "WITHDRAWN" and withdrawn["closedAt"]
    history = (await staff_view(gql, env.token(OPERATOR), report["id"]))["events"]
    assert history[-1]["actorRole"] == "reporter" and history[-1]["public"] is True
    # Withdrawn is final: nothing further is possible, not even by the operator.
    variables = ref(withdrawn, leadAgencyId=gid("Agency", env.health.id))
    codes = await error_codes(gql, "assignReport", variables, env.token(OPERATOR))
    assert codes == ["INVALID_TRANSITION"]


@by_moment
async def test_return_not_competent_then_reassign(
    gql: GraphQLClient, env: Env, settings: Settings, time_machine: Clock, moment: Moment
) -> None:
    """Assigned at 09:00 the working day before, returned at 10:00, re-assigned at ``moment``:
    the new agency's acceptance clock starts from the re-assignment."""
    day = moment.day
    env = await at(env, settings, time_machine, on(day.one_before, 9))
    report = await assigned(gql, env)
    assert when(report["acceptDueAt"]) == on(day.date, 9, 30)  # 6 h that day, 2 h the next
    env = await at(env, settings, time_machine, on(day.one_before, 10))
    operator, contact = env.token(OPERATOR), env.token(CONTACT)
    missing = ref(report, comment="Sai.")
    assert await schema_refusal(gql, "returnReport", missing, contact) == "BAD_USER_INPUT"
    variables = ref(report, reason="NOT_COMPETENT", comment="Thuộc Phòng Quản lý đô thị.")
    returned = (await act(gql, "returnReport", variables, contact))["report"]
    assert returned["state"] == "RETURNED" and returned["dueAt"] is None
    assert returned["lastEvent"]["reasonCode"] == "NOT_COMPETENT"
    assert (await staff_view(gql, operator, report["id"]))["availableActions"] == [
        "REJECT",
        "ASSIGN",
        "TRANSFER",
    ]
    env = await at(env, settings, time_machine, moment.at)
    operator, contact = env.token(OPERATOR), env.token(CONTACT)
    variables = ref(returned, leadAgencyId=gid("Agency", env.urban.id))
    again = (await act(gql, "assignReport", variables, operator))["report"]
    assert again["state"] == "ASSIGNED" and again["leadAgency"]["id"] == gid("Agency", env.urban.id)
    assert when(again["acceptDueAt"]) == moment.plus_8_working_hours
    assert again["dueAt"] == again["acceptDueAt"]
    # The health office no longer sees the report at all.
    hidden = await gql.ok(
        "query($id: ID!) { report(id: $id) { id } }", {"id": report["id"]}, contact
    )
    assert hidden == {"report": None}
    codes = await error_codes(gql, "acceptReport", ref(again), contact)
    assert codes == ["FORBIDDEN"]


@by_moment
async def test_request_rework_then_resubmit(
    gql: GraphQLClient, env: Env, settings: Settings, time_machine: Clock, moment: Moment
) -> None:
    """Accepted at 09:00 two working days before, result at 09:00 the day before, rework at
    ``moment``: the time under review is given back to the agency (tests/clock.py), which then
    resubmits at once."""
    day = moment.day
    env = await at(env, settings, time_machine, on(day.two_before, 9))
    accepted = await in_progress(gql, env)
    assert when(accepted["resolveDueAt"]) == day.resolve_from_two_before
    env = await at(env, settings, time_machine, on(day.one_before, 9))
    variables = {"id": accepted["id"], "version": accepted["version"], "comment": "Đã xử lý."}
    report = (await act(gql, "submitResult", variables, env.token(HANDLER)))["report"]
    assert when(report["reviewDueAt"]) == on(day.one_before, 15)
    env = await at(env, settings, time_machine, moment.at)
    supervisor, handler = env.token(SUPERVISOR), env.token(HANDLER)
    missing = await error_codes(gql, "requestRework", ref(report), supervisor)
    assert missing == ["COMMENT_REQUIRED"]
    variables = ref(report, comment="Thiếu ảnh sau xử lý.", reasonCode="MISSING_PHOTOS")
    rework = (await act(gql, "requestRework", variables, supervisor))["report"]
    assert rework["state"] == "IN_PROGRESS" and rework["reviewDueAt"] is None
    assert when(rework["resolveDueAt"]) == moment.resolve_pushed
    assert rework["dueAt"] == rework["resolveDueAt"]
    assert rework["lastEvent"]["reasonCode"] == "MISSING_PHOTOS"
    variables = ref(rework, comment="Đã bổ sung ảnh.")
    again = (await act(gql, "submitResult", variables, handler))["report"]
    assert again["state"] == "RESULT_SUBMITTED"
    assert when(again["reviewDueAt"]) == moment.plus_4_working_hours
    history = (await staff_view(gql, supervisor, report["id"]))["events"]
    assert [e["action"] for e in history][-3:] == [
        "SUBMIT_RESULT",
        "REQUEST_REWORK",
        "SUBMIT_RESULT",
    ]


@by_moment
async def test_reopen_by_the_citizen_then_close_with_a_reason(
    gql: GraphQLClient, env: Env, settings: Settings, time_machine: Clock, moment: Moment
) -> None:
    """Resolved the working day before, reopened at ``moment``: screening starts again."""
    env = await at(env, settings, time_machine, on(moment.day.one_before, 9))
    report = await resolved(gql, env)
    env = await at(env, settings, time_machine, moment.at)
    citizen, operator = env.token(CITIZEN), env.token(OPERATOR)
    missing = await error_codes(gql, "reopenReport", ref(report), citizen)
    assert missing == ["COMMENT_REQUIRED"]
    variables = ref(report, comment="Quán vẫn bán thịt ôi thiu.")
    reopened = (await act(gql, "reopenReport", variables, citizen))["report"]
    assert reopened["state"] == "REOPENED"
    assert when(reopened["screenDueAt"]) == moment.plus_4_working_hours
    assert reopened["dueAt"] == reopened["screenDueAt"]
    assert (await staff_view(gql, operator, report["id"]))["availableActions"] == [
        "ASSIGN",
        "TRANSFER",
        "CLOSE",
    ]
    missing = await error_codes(gql, "closeReport", ref(reopened), operator)
    assert missing == ["COMMENT_REQUIRED"]
    variables = ref(reopened, reasonCode="ALREADY_FIXED", comment="Đã kiểm tra lại: đã khắc phục.")
    closed = (await act(gql, "closeReport", variables, operator))["report"]
    assert closed["state"] == "CLOSED" and when(closed["closedAt"]) == moment.at
    history = (await staff_view(gql, operator, report["id"]))["events"]
    assert [(e["action"], e["toState"]) for e in history][-2:] == [
        ("REOPEN", "REOPENED"),
        ("CLOSE", "CLOSED"),
    ]
    assert history[-2]["actorRole"] == "reporter" and history[-1]["reasonCode"] == "ALREADY_FIXED"


@by_moment
async def test_extension_requested_and_approved(
    gql: GraphQLClient, env: Env, settings: Settings, time_machine: Clock, moment: Moment
) -> None:
    """Accepted at ``moment``; the extension is asked and granted at once."""
    env = await at(env, settings, time_machine, moment.at)
    handler, supervisor = env.token(HANDLER), env.token(SUPERVISOR)
    report = await in_progress(gql, env)
    due = when(report["resolveDueAt"])
    assert due == moment.plus_5_working_days
    wanted = (due + timedelta(days=2)).isoformat()
    variables = {"id": report["id"], "requestedDueAt": wanted, "reason": "Chờ kết quả xét nghiệm."}
    extension = (await act(gql, "requestExtension", variables, handler))["extension"]
    assert extension["status"] == "PENDING" and when(extension["requestedDueAt"]) == when(wanted)
    pending = await staff_view(gql, supervisor, report["id"])
    assert when(pending["resolveDueAt"]) == due and pending["version"] == report["version"]
    decided = await act(gql, "decideExtension", {"id": report["id"], "approve": True}, supervisor)
    assert decided["extension"]["status"] == "APPROVED"
    assert when(decided["extension"]["decidedAt"]) == moment.at
    after = await staff_view(gql, supervisor, report["id"])
    assert when(after["resolveDueAt"]) == when(wanted) == when(after["dueAt"])
    assert after["state"] == "IN_PROGRESS" and after["version"] == report["version"] + 1
    assert after["extension"]["status"] == "APPROVED"
    assert [e["action"] for e in after["events"]][-2:] == [
        "REQUEST_EXTENSION",
        "APPROVE_EXTENSION",
    ]
    assert when(after["events"][-1]["data"]["previous_resolve_due_at"]) == due
    # Once per report.
    variables["requestedDueAt"] = (due + timedelta(days=1)).isoformat()
    codes = await error_codes(gql, "requestExtension", variables, handler)
    assert codes == ["EXTENSION_ALREADY_REQUESTED"]


@by_moment
async def test_ask_reporter_and_answer(
    gql: GraphQLClient, env: Env, settings: Settings, time_machine: Clock, moment: Moment
) -> None:
    """Accepted at 09:00 two working days before, asked at 09:00 the day before, answered at
    ``moment``: the agency clock stood still meanwhile (tests/clock.py)."""
    day = moment.day
    env = await at(env, settings, time_machine, on(day.two_before, 9))
    report = await in_progress(gql, env)
    assert when(report["resolveDueAt"]) == day.resolve_from_two_before
    env = await at(env, settings, time_machine, on(day.one_before, 9))
    handler, citizen = env.token(HANDLER), env.token(CITIZEN)
    question = "Quán mở cửa giờ nào?"
    asked = await act(gql, "askReporter", {"id": report["id"], "question": question}, handler)
    assert asked["infoRequest"] == {"status": "OPEN", "question": question, "answer": None}
    mine = await own_view(gql, citizen, report["id"])
    assert mine["infoRequests"] == [{"question": question, "answer": None, "status": "OPEN"}]
    assert mine["state"] == "IN_PROGRESS"
    again = await error_codes(gql, "askReporter", {"id": report["id"], "question": "?"}, handler)
    assert again == ["INFO_ALREADY_REQUESTED"]
    env = await at(env, settings, time_machine, moment.at)
    handler, citizen = env.token(HANDLER), env.token(CITIZEN)
    variables = {"id": report["id"], "answer": "Từ 6 giờ sáng."}
    answered = await act(gql, "answerInfoRequest", variables, citizen)
    assert answered["infoRequest"]["status"] == "ANSWERED"
    after = await staff_view(gql, handler, report["id"])
    assert after["infoRequests"] == [
        {"question": question, "answer": "Từ 6 giờ sáng.", "status": "ANSWERED"}
    ]
    assert after["state"] == "IN_PROGRESS"
    assert when(after["resolveDueAt"]) == moment.resolve_pushed == when(after["dueAt"])
    assert [e["action"] for e in after["events"]][-2:] == ["ASK_INFO", "ANSWER_INFO"]
    none_open = await error_codes(gql, "answerInfoRequest", variables, citizen)
    assert none_open == ["NOT_FOUND"]


async def test_internal_and_public_comments(gql: GraphQLClient, env: Env) -> None:
    operator, handler, citizen = env.token(OPERATOR), env.token(HANDLER), env.token(CITIZEN)
    report = await in_progress(gql, env)
    internal = "Ghi chú nội bộ: chủ quán là người quen của cán bộ phường."
    public = "Đoàn kiểm tra sẽ đến trong tuần này."
    note = await act(gql, "addComment", {"id": report["id"], "text": internal}, operator)
    assert note["event"] == {"action": "COMMENT", "comment": internal, "public": False}
    shown = {"id": report["id"], "text": public, "public": True}
    assert (await act(gql, "addComment", shown, handler))["event"]["public"] is True
    mine = (await act(gql, "addComment", {"id": report["id"], "text": "Cảm ơn."}, citizen))["event"]
    assert mine == {"action": "COMMENT", "comment": "Cảm ơn.", "public": True}

    staff = await staff_view(gql, operator, report["id"])
    comments = [(e["comment"], e["public"]) for e in staff["events"] if e["action"] == "COMMENT"]
    assert comments == [(internal, False), (public, True), ("Cảm ơn.", True)]
    assert staff["version"] == report["version"]  # comments never touch the report row

    query = """query { myReports(first: 100) { edges { node { id
      events { action comment public } lastEvent { comment } } } } }"""
    body = await gql(query, token=citizen)
    assert internal not in json.dumps(body, ensure_ascii=False)
    node = next(
        e["node"] for e in body["data"]["myReports"]["edges"] if e["node"]["id"] == report["id"]
    )
    seen = [(e["comment"], e["public"]) for e in node["events"] if e["action"] == "COMMENT"]
    # The internal note is not even listed for the reporter.
    assert seen == [(public, True), ("Cảm ơn.", True)]
    assert node["lastEvent"]["comment"] == "Cảm ơn."


async def test_stale_version_changes_nothing(gql: GraphQLClient, env: Env) -> None:
    operator = env.token(OPERATOR)
    report = await assigned(gql, env)  # version 2 now
    before = await staff_view(gql, operator, report["id"])
    stale = {
        "id": report["id"],
        "version": 1,
        "leadAgencyId": gid("Agency", env.urban.id),
    }
    body = await mutate(gql, "assignReport", stale, operator)
    assert body["data"]["assignReport"]["report"] is None
    assert body["data"]["assignReport"]["errors"] == [{"code": "STALE_VERSION", "field": "version"}]
    codes = await error_codes(gql, "acceptReport", ref(report, version=1), env.token(CONTACT))
    assert codes == ["STALE_VERSION"]
    after = await staff_view(gql, operator, report["id"])
    assert after == before
    assert after["leadAgency"]["id"] == gid("Agency", env.health.id)
