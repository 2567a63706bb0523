"""An agency asks an anonymous reporter (issue 12, item 9): the question reaches them through
the tracking code, and they answer with it; the agency clock resumes. Through GraphQL, with
the X-Paht-Tenant header as the citizen app without an account sends it."""

from __future__ import annotations

import uuid
from typing import Any

from permissions.scope import anonymous_in
from permissions.session import scoped_transaction
from reports.service import AssignInput, submit_report
from reports.workflow import WorkflowAction as A
from tests.conftest import GraphQLClient
from tests.support.services import events, fresh, new_input, step

ASK = """mutation($i: AskReporterInput!) { askReporter(input: $i) {
  infoRequest { status question } errors { code } } }"""
ANSWER = """mutation($i: AnswerByTrackingCodeInput!) { answerInfoRequestByTrackingCode(input: $i) {
  infoRequest { status question answer } errors { code field } } }"""
TRACK = """query($c: String!) { trackReport(trackingCode: $c) {
  infoRequests { question answer status } } }"""


async def anonymous(gql: GraphQLClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await gql.http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"X-Paht-Tenant": "sa-pa", "Accept-Language": "en"},
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def test_an_anonymous_reporter_answers_through_the_tracking_code(
    gql: GraphQLClient, sapa: dict[str, Any], pilot: dict[str, Any]
) -> None:
    scope = anonymous_in(sapa["tenant"].id)
    async with scoped_transaction(scope):
        result = await submit_report(scope, new_input(sapa))
    report, code = result.report, result.tracking_code
    assert code is not None and report.reporter_user_id is None
    report = await step(sapa["operator"], report, A.ASSIGN, assign=AssignInput(sapa["health"].id))
    report = await step(sapa["contact"], report, A.ACCEPT)
    handler = await gql.login("sapa.handler", pilot["password"])
    rid = (
        await gql.ok(
            "query($c: String!) { reportByCode(code: $c) { id } }", {"c": report.code}, handler
        )
    )["reportByCode"]["id"]
    asked = await gql.ok(ASK, {"i": {"id": rid, "question": "Quán ở số nhà bao nhiêu?"}}, handler)
    assert asked["askReporter"]["errors"] == []
    seen = await anonymous(gql, TRACK, {"c": code})
    assert seen["trackReport"]["infoRequests"] == [
        {"question": "Quán ở số nhà bao nhiêu?", "answer": None, "status": "OPEN"}
    ]
    # A wrong code answers nothing, and says only "not found".
    wrong = await anonymous(gql, ANSWER, {"i": {"trackingCode": uuid.uuid4().hex[:12],
                                                "answer": "Số 12."}})  # fmt: skip
    payload = wrong["answerInfoRequestByTrackingCode"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "trackingCode")]
    answered = await anonymous(
        gql, ANSWER, {"i": {"trackingCode": code.lower(), "answer": "Số 12."}}
    )
    payload = answered["answerInfoRequestByTrackingCode"]
    assert payload["errors"] == [] and payload["infoRequest"]["status"] == "ANSWERED"
    assert payload["infoRequest"]["answer"] == "Số 12."
    again = await anonymous(gql, ANSWER, {"i": {"trackingCode": code, "answer": "Lần nữa."}})
    assert [e["code"] for e in again["answerInfoRequestByTrackingCode"]["errors"]] == ["NOT_FOUND"]
    answer = [e for e in await events(sapa["operator"], report.id) if e.action == "ANSWER_INFO"]
    assert len(answer) == 1 and answer[0].actor_role == "anonymous" and answer[0].public
    assert (await fresh(sapa["operator"], report.id)).state == "IN_PROGRESS"
