"""What a reporter sees of their own report — logged in, or following it by its tracking code:
the questions put to them and their answers, the steps owed to them and for which agency
(never which person), the result once the centre approved it, with its photos; and the public
feed's photos."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from strawberry import relay

from permissions.session import scoped_transaction
from reports.models import Report
from reports.workflow import WorkflowAction as A
from tests.conftest import GraphQLClient
from tests.factories import jpeg
from tests.support.workflow import (
    CITIZEN,
    CONTACT,
    HANDLER,
    OPERATOR,
    SUPERVISOR,
    Env,
    gid,
    make_env,
    multipart,
    prepare,
    report_input,
    service_step,
)

VIEW = """
  id code state version availableActions
  events { action comment actorRole actorAgency { code } reason data }
  infoRequests { question answer status }
  result { text outcome approved attachments { origin contentType } }
  attachments { origin }
  location { precise }
"""
BY_ID = f"query($id: ID!) {{ report(id: $id) {{ {VIEW} }} }}"
BY_NODE = f"query($id: ID!) {{ node(id: $id) {{ ... on Report {{ {VIEW} }} }} }}"
BY_CODE = f"query($c: String!) {{ reportByCode(code: $c) {{ {VIEW} }} }}"
TRACK = f"query($c: String!) {{ trackReport(trackingCode: $c) {{ {VIEW} }} }}"


@pytest.fixture(scope="module")
async def env(pilot: dict[str, Any], gql: GraphQLClient) -> Env:
    return await make_env(pilot, gql)


async def view(gql: GraphQLClient, token: str, report: Report) -> dict[str, Any]:
    data = await gql.ok(BY_ID, {"id": gid("Report", report.id)}, token=token)
    assert data["report"] is not None
    return data["report"]


async def test_the_reporter_reads_their_report_by_id_node_and_code(
    gql: GraphQLClient, env: Env
) -> None:
    report = await prepare(env, "SUBMITTED")
    citizen = env.token(CITIZEN)
    by_id = await view(gql, citizen, report)
    node = (await gql.ok(BY_NODE, {"id": gid("Report", report.id)}, token=citizen))["node"]
    code = (await gql.ok(BY_CODE, {"c": report.code}, token=citizen))["reportByCode"]
    assert by_id == node == code and by_id["code"] == report.code
    # Another citizen of the same locality: not found, by any of the three.
    other = env.laocai["citizen"]
    assert (await gql.ok(BY_ID, {"id": gid("Report", report.id)}, token=other))["report"] is None


async def test_my_reports_are_the_callers_own_only(gql: GraphQLClient, env: Env) -> None:
    """``myReports`` lists the caller's reports, not the other reports of their tenant (here one
    an operator entered for a hotline caller)."""
    mine = await prepare(env, "SUBMITTED")
    hotline = await prepare(env, "SUBMITTED", own=False)
    query = """query($after: String) { myReports(first: 100, after: $after) {
      edges { node { id } } pageInfo { hasNextPage endCursor } } }"""
    listed: list[str] = []
    after = None
    while True:
        page = (await gql.ok(query, {"after": after}, token=env.token(CITIZEN)))["myReports"]
        listed += [e["node"]["id"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert gid("Report", mine.id) in listed
    assert gid("Report", hotline.id) not in listed


async def test_the_questions_put_to_the_reporter_and_their_answers(
    gql: GraphQLClient, env: Env
) -> None:
    report = await prepare(env, "NEED_INFO")  # the centre asked: "Ảnh mờ quá."
    citizen = env.token(CITIZEN)
    mine = await view(gql, citizen, report)
    assert mine["infoRequests"] == [{"question": "Ảnh mờ quá.", "answer": None, "status": "OPEN"}]
    asked = mine["events"][-1]
    assert (asked["action"], asked["comment"]) == ("REQUEST_INFO", "Ảnh mờ quá.")
    answered = await gql.ok(
        """mutation($i: TransitionInput!) { provideInfo(input: $i) { errors { code } } }""",
        {"i": {"id": gid("Report", report.id), "version": mine["version"],
               "comment": "Đây là ảnh rõ hơn."}},
        token=citizen,
    )  # fmt: skip
    assert answered["provideInfo"]["errors"] == []
    after = await view(gql, citizen, report)
    assert after["infoRequests"] == [
        {"question": "Ảnh mờ quá.", "answer": "Đây là ảnh rõ hơn.", "status": "ANSWERED"}
    ]


async def test_the_result_reaches_the_reporter_once_approved(gql: GraphQLClient, env: Env) -> None:
    report = await prepare(env, "IN_PROGRESS")
    body = await multipart(
        gql,
        """mutation($i: SubmitResultInput!) { submitResult(input: $i) { errors { code } } }""",
        {"i": {"id": gid("Report", report.id), "version": report.version,
               "comment": "Đã đình chỉ cơ sở.", "attachments": [None]}},
        [("variables.i.attachments.0", ("after.jpg", jpeg(gps=False), "image/jpeg"))],
        token=env.token(HANDLER),
    )  # fmt: skip
    assert body["data"]["submitResult"]["errors"] == [], body
    citizen = env.token(CITIZEN)

    pending = await view(gql, citizen, report)
    assert pending["result"] is None
    assert "SUBMIT_RESULT" not in [e["action"] for e in pending["events"]]
    assert pending["attachments"] == []  # set up through the service, without photos
    assert "RATE" not in pending["availableActions"]
    staff = await view(gql, env.token(SUPERVISOR), report)
    assert staff["result"]["approved"] is False and staff["result"]["text"] == "Đã đình chỉ cơ sở."

    approved = await gql.ok(
        """mutation($i: ApproveResultInput!) { approveResult(input: $i) { errors { code } } }""",
        {"i": {"id": gid("Report", report.id), "version": staff["version"],
               "outcome": "FIXED"}},
        token=env.token(SUPERVISOR),
    )  # fmt: skip
    assert approved["approveResult"]["errors"] == []
    mine = await view(gql, citizen, report)
    assert mine["result"] == {
        "text": "Đã đình chỉ cơ sở.",
        "outcome": "FIXED",
        "approved": True,
        "attachments": [{"origin": "RESULT", "contentType": "image/jpeg"}],
    }
    assert [a["origin"] for a in mine["attachments"]] == ["RESULT"]
    assert "RATE" in mine["availableActions"]  # the result can be rated now that it is seen


async def test_who_handled_it_is_an_agency_never_a_person(gql: GraphQLClient, env: Env) -> None:
    report = await prepare(env, "IN_PROGRESS")
    mine = await view(gql, env.token(CITIZEN), report)
    steps = {e["action"]: e for e in mine["events"]}
    assert steps["ACCEPT"]["actorAgency"] == {"code": env.health.code}
    assert steps["ASSIGN"]["actorAgency"]["code"] != env.health.code  # the centre routed it
    assert all(e["data"] is None for e in mine["events"])
    assert "userId" not in str(mine) and "actorUserId" not in str(mine)


async def test_internal_steps_are_not_the_reporters(gql: GraphQLClient, env: Env) -> None:
    report = await prepare(env, "ASSIGNED")
    report = await service_step(
        env, CONTACT, report, A.RETURN, reason_code="NOT_COMPETENT", comment="Không đúng."
    )
    staff = await view(gql, env.token(OPERATOR), report)
    assert staff["events"][-1]["action"] == "RETURN"
    assert staff["events"][-1]["reason"] == "Not within the agency's competence"
    mine = await view(gql, env.token(CITIZEN), report)
    assert "RETURN" not in [e["action"] for e in mine["events"]]


async def test_a_tracking_code_gives_the_reporters_view(gql: GraphQLClient, env: Env) -> None:
    submitted = await gql.http.post(
        "/graphql",
        json={
            "query": """mutation($i: SubmitReportInput!) { submitReport(input: $i) {
              report { id } trackingCode errors { code } } }""",
            "variables": {"i": report_input(env, idempotencyKey=uuid.uuid4().hex)},
        },
        headers={"X-Paht-Tenant": "sa-pa"},
    )
    payload = submitted.json()["data"]["submitReport"]
    assert payload["errors"] == [] and payload["trackingCode"]
    report_id = uuid.UUID(relay.GlobalID.from_id(payload["report"]["id"]).node_id)
    async with scoped_transaction(env.scopes[OPERATOR]):
        report = await Report.get(id=report_id)
    await service_step(env, OPERATOR, report, A.REQUEST_INFO, comment="Quán tên là gì?")
    tracked = await gql.http.post(
        "/graphql",
        json={"query": TRACK, "variables": {"c": payload["trackingCode"]}},
        headers={"X-Paht-Tenant": "sa-pa", "Accept-Language": "en"},
    )
    seen = tracked.json()["data"]["trackReport"]
    assert seen["infoRequests"] == [{"question": "Quán tên là gì?", "answer": None,
                                     "status": "OPEN"}]  # fmt: skip
    assert [e["action"] for e in seen["events"]] == ["SUBMIT", "REQUEST_INFO"]
    # Anyone without the code, even logged in, sees nothing of it.
    other = await gql.ok(BY_ID, {"id": payload["report"]["id"]}, token=env.laocai["citizen"])
    assert other["report"] is None
