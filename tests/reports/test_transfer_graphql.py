"""Transfer between localities (issue 12, item 3), end to end through GraphQL as the application
role: Lào Cai's hotline takes a call about a point in Sa Pa and transfers it; Sa Pa handles it
(routing, hand-off to an officer, the leader's sign-off, the centre's approval); the caller, who
holds the report in Lào Cai's app, rates it low and reopens it within the window themself, from
their own locality; the reporter follows it by the same tracking code in both localities, and
neither locality sees the other's row."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from api.settings import Settings
from permissions.session import tenant_transaction
from permissions.store import store
from reports.workflow import ReportState
from tenants.models import Agency
from tenants.options import WorkflowOption
from tests.clock import access_token, vn
from tests.conftest import GraphQLClient
from tests.factories import user_named
from tests.support.workflow import (
    EVENTS,
    REPORT,
    SAPA_POINT,
    Clock,
    Env,
    act,
    at,
    error_codes,
    gid,
    headers,
    make_env,
    mutate,
    staff_view,
    tenant_option,
)

FIELDS = "{ fields { id code } }"
TRANSFER_VIEW = "transfer { sent tenantCode tenantName reportCode trackingCode }"
TRACK = f"""query($c: String!) {{ trackReport(trackingCode: $c) {{ id code state version
  {TRANSFER_VIEW} {EVENTS} reporter {{ name }} }} }}"""


@pytest.fixture
async def env(pilot: dict[str, Any], gql: GraphQLClient) -> Env:
    return await make_env(pilot, gql)


async def track(gql: GraphQLClient, tenant: str, code: str) -> dict[str, Any] | None:
    response = await gql.http.post(
        "/graphql", json={"query": TRACK, "variables": {"c": code}}, headers=headers(None, tenant)
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["trackReport"]


async def hotline_call_about_sapa(gql: GraphQLClient, operator: str) -> tuple[dict[str, Any], str]:
    """Lào Cai's operator enters a call about Sa Pa's market (a point inside Sa Pa): accepted
    with no unit, to be transferred."""
    fields = (await gql.ok(FIELDS, token=operator))["fields"]
    food = next(f["id"] for f in fields if f["code"] == "ve-sinh-attp")
    submitted = await gql.ok(
        f"""mutation($i: SubmitReportInput!) {{ submitReport(input: $i) {{
          report {{ {REPORT} unitCode }} trackingCode errors {{ code field }} }} }}""",
        {
            "i": {
                "title": "Quán ăn dùng thực phẩm ôi thiu",
                "description": "Người gọi báo quán ăn ở chợ Sa Pa dùng thịt ôi thiu.",
                "fieldId": food,
                "latitude": SAPA_POINT[0],
                "longitude": SAPA_POINT[1],
                "address": "Chợ Sa Pa",
                "idempotencyKey": uuid.uuid4().hex,
                "onBehalf": True,
                "contact": {"name": "Lò Thị Mai", "phone": "0987654321"},
            }
        },
        token=operator,
    )
    payload = submitted["submitReport"]
    assert payload["errors"] == [], payload
    assert payload["report"]["unitCode"] is None and payload["trackingCode"]
    return payload["report"], payload["trackingCode"]


def _v(report: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"id": report["id"], "version": report["version"], **extra}


async def sapa_copy(gql: GraphQLClient, env: Env, code: str) -> dict[str, Any]:
    found = await gql.ok(
        f"query($c: String!) {{ reportByCode(code: $c) {{ {REPORT} unitCode {TRANSFER_VIEW} "
        f"{EVENTS} reporter {{ name phone }} }} }}",
        {"c": code},
        token=env.token("intake_operator"),
    )
    assert found["reportByCode"] is not None, code
    return found["reportByCode"]


async def test_transfer_refusals_change_nothing(
    gql: GraphQLClient, env: Env, pilot: dict[str, Any]
) -> None:
    operator = env.laocai["intake-operator"]
    report, _ = await hotline_call_about_sapa(gql, operator)
    move = _v(report, tenantCode="sa-pa", comment="Thuộc địa bàn thị xã Sa Pa.")
    # Who may not: the citizen and the handler lack report:assign (refused by the directive).
    for role in ("citizen", "handler"):
        body = await mutate(gql, "transferReport", move, env.laocai[role])
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", role
    # Sa Pa's operator cannot reach Lào Cai's report at all.
    assert await error_codes(gql, "transferReport", move, env.token("intake_operator")) == [
        "NOT_FOUND"
    ]
    for variables, codes in (
        ({**move, "tenantCode": "ha-noi"}, ["NOT_FOUND"]),  # no such locality
        ({**move, "tenantCode": "lao-cai"}, ["SAME_TENANT"]),
        ({**move, "comment": " "}, ["COMMENT_REQUIRED"]),
        ({**move, "version": report["version"] + 1}, ["STALE_VERSION"]),
    ):
        assert await error_codes(gql, "transferReport", variables, operator) == codes, variables
    seen = await gql.ok(
        f"query($id: ID!) {{ report(id: $id) {{ state version {TRANSFER_VIEW} }} }}",
        {"id": report["id"]},
        token=operator,
    )
    assert seen["report"] == {"state": "SUBMITTED", "version": 1, "transfer": None}
    # Once routed to an agency it is the agency's: return it first (INVALID_TRANSITION).
    laocai = pilot["tenants"]["lao-cai"]
    async with tenant_transaction(laocai.id):
        agency = await Agency.filter(tenant_id=laocai.id, is_coordination_centre=False).first()
    assert agency is not None
    lead = gid("Agency", agency.id)
    assigned = await act(gql, "assignReport", _v(report, leadAgencyId=lead), operator)
    routed = {**move, "version": assigned["report"]["version"]}
    assert await error_codes(gql, "transferReport", routed, operator) == ["INVALID_TRANSITION"]


async def test_the_demo_story_across_two_localities(
    gql: GraphQLClient,
    env: Env,
    pilot: dict[str, Any],
    settings: Settings,
    time_machine: Clock,
) -> None:
    env = await at(env, settings, time_machine, vn(2026, 3, 11, 9))
    laocai = pilot["tenants"]["lao-cai"]
    operator_user = await user_named("laocai.intake-operator")
    laocai_operator = await access_token(
        settings, await store.scope_for(operator_user.id, laocai.id)
    )
    citizen_user = await user_named("laocai.citizen")
    citizen_scope = await store.scope_for(citizen_user.id, laocai.id)
    report, tracking = await hotline_call_about_sapa(gql, laocai_operator)
    # The caller has Lào Cai's app: they attach the hotline entry to their account.
    claimed = await gql.ok(
        """mutation($i: ClaimReportsInput!) { claimReports(input: $i) {
          reports { code } errors { code } } }""",
        {"i": {"trackingCodes": [tracking]}},
        token=await access_token(settings, citizen_scope),
    )
    assert claimed["claimReports"] == {"reports": [{"code": report["code"]}], "errors": []}
    moved = await act(
        gql,
        "transferReport",
        _v(report, tenantCode="sa-pa", comment="Chợ Sa Pa thuộc địa bàn thị xã Sa Pa."),
        laocai_operator,
    )
    left = moved["report"]
    assert left["state"] == ReportState.TRANSFERRED and left["availableActions"] == []
    assert left["lastEvent"]["action"] == "TRANSFER"
    assert left["lastEvent"]["data"]["to_tenant"] == "sa-pa"
    # The record left behind is read-only and points to the copy.
    behind = await gql.ok(
        f"query($id: ID!) {{ report(id: $id) {{ state closedAt {TRANSFER_VIEW} }} }}",
        {"id": report["id"]},
        token=laocai_operator,
    )
    pointer = behind["report"]["transfer"]
    assert pointer["sent"] is True and pointer["tenantCode"] == "sa-pa"
    assert pointer["tenantName"] == env.tenant.name_en
    assert pointer["trackingCode"] is None  # staff never read the reporter's code
    assert behind["report"]["closedAt"] is not None
    again = await error_codes(
        gql, "rejectReport", _v(left, reason="OUT_OF_AREA", comment="x"), laocai_operator
    )
    assert again == ["INVALID_TRANSITION"]

    # Sa Pa has the copy, its own code, the history and the caller's contact.
    copy = await sapa_copy(gql, env, pointer["reportCode"])
    assert copy["code"].startswith("SP-") and copy["state"] == "SUBMITTED"
    assert copy["unitCode"] == "03001"  # located again, in Sa Pa's own units
    assert copy["screenDueAt"] is not None
    assert copy["transfer"]["sent"] is False and copy["transfer"]["tenantCode"] == "lao-cai"
    assert copy["transfer"]["reportCode"] == report["code"]
    assert [e["action"] for e in copy["events"]] == ["SUBMIT", "RECEIVE_TRANSFER"]
    assert copy["events"][0]["data"]["transferred_from"]["tenant"] == "lao-cai"
    assert copy["reporter"] == {"name": "Lò Thị Mai", "phone": "0987654321"}

    # Isolation, as the application role: neither locality reads the other's row.
    sapa_operator = env.token("intake_operator")
    for token, rid in ((sapa_operator, report["id"]), (laocai_operator, copy["id"])):
        seen = await gql.ok("query($id: ID!) { report(id: $id) { id } }", {"id": rid}, token=token)
        assert seen == {"report": None}

    # The caller follows it by the same code in both localities.
    there = await track(gql, "lao-cai", tracking)
    assert there is not None and there["state"] == "TRANSFERRED"
    assert there["transfer"]["tenantCode"] == "sa-pa"
    assert there["transfer"]["trackingCode"] == tracking
    assert [e["action"] for e in there["events"]] == ["SUBMIT", "TRANSFER"]
    assert there["events"][1]["comment"] == "Chợ Sa Pa thuộc địa bàn thị xã Sa Pa."
    here = await track(gql, "sa-pa", tracking)
    assert here is not None and here["id"] == copy["id"] and here["reporter"] is None

    # Sa Pa handles it, with the leader's sign-off switched on.
    async with tenant_option(env, WorkflowOption.LEADER_SIGN_OFF):
        routed = await act(
            gql, "assignReport", _v(copy, leadAgencyId=gid("Agency", env.health.id)), sapa_operator
        )
        accepted = await act(gql, "acceptReport", _v(routed["report"]), env.token("agency_contact"))
        handed = await act(
            gql,
            "handOffReport",
            _v(accepted["report"], officerId=gid("User", env.scopes["handler"].user_id)),
            env.token("agency_contact"),
        )
        result = await act(
            gql,
            "submitResult",
            _v(handed["report"], comment="Đã kiểm tra, xử phạt, tiêu hủy thực phẩm."),
            env.token("handler"),
        )
        assert result["report"]["state"] == "LEADER_REVIEW"
        assert result["report"]["dueAt"] == result["report"]["resolveDueAt"]  # agency's clock
        signed = await act(gql, "signOffResult", _v(result["report"]), env.token("agency_leader"))
        assert signed["report"]["state"] == "RESULT_SUBMITTED"
        assert signed["report"]["reviewDueAt"] is not None
    approved = await act(
        gql, "approveResult", _v(signed["report"], outcome="FIXED"), env.token("centre_supervisor")
    )
    assert approved["report"]["state"] == "RESOLVED"
    # The caller, unhappy, answers from Lào Cai's app on day 9: they follow the copy by their
    # tracking code, rate it 2 (the centre's review queue), then reopen it themself.
    env = await at(env, settings, time_machine, vn(2026, 3, 20, 9))
    citizen = await access_token(settings, citizen_scope)
    laocai_operator = await access_token(
        settings, await store.scope_for(operator_user.id, laocai.id)
    )
    live = await track(gql, "sa-pa", tracking)
    assert live is not None and live["state"] == "RESOLVED"
    step_on_copy = "report { id code state version } errors { code field }"
    rate = f"""mutation($i: RateReportInput!) {{ rateReport(input: $i) {{ {step_on_copy} }} }}"""
    reopen = f"""mutation($i: ReasonedTransitionInput!) {{ reopenReport(input: $i) {{
      {step_on_copy} }} }}"""
    unhappy = {"rating": 2, "comment": "Quán vẫn bán thịt ôi thiu."}
    # Nobody else reaches the copy this way: Lào Cai's operator does not hold the report.
    refused = await gql.ok(reopen, {"i": _v(live, comment="x")}, token=laocai_operator)
    assert [e["code"] for e in refused["reopenReport"]["errors"]] == ["NOT_FOUND"]
    rated = (await gql.ok(rate, {"i": _v(live, **unhappy)}, token=citizen))["rateReport"]
    assert rated["errors"] == [] and rated["report"]["id"] == copy["id"]
    assert rated["report"]["state"] == "RATING_REVIEW"
    stale = await gql.ok(reopen, {"i": _v(live, comment="x")}, token=citizen)
    assert [e["code"] for e in stale["reopenReport"]["errors"]] == ["STALE_VERSION"]
    reopened = await gql.ok(
        reopen,
        {"i": _v(rated["report"], comment="Tôi vẫn thấy quán bán thịt ôi thiu.")},
        token=citizen,
    )
    assert reopened["reopenReport"]["errors"] == []
    assert reopened["reopenReport"]["report"]["state"] == "REOPENED"
    history = await staff_view(gql, env.token("intake_operator"), copy["id"])
    assert [e["action"] for e in history["events"]] == [
        "SUBMIT", "RECEIVE_TRANSFER", "ASSIGN", "ACCEPT", "HAND_OFF", "SUBMIT_RESULT", "SIGN_OFF",
        "APPROVE_RESULT", "RATE_DISSATISFIED", "REOPEN",
    ]  # fmt: skip
    assert [e["actorRole"] for e in history["events"][-2:]] == ["reporter", "reporter"]
    # The record left behind in Lào Cai is untouched.
    behind_now = await gql.ok(
        "query($id: ID!) { report(id: $id) { state version } }",
        {"id": report["id"]},
        token=laocai_operator,
    )
    assert behind_now["report"] == {"state": "TRANSFERRED", "version": left["version"]}
    followed = await track(gql, "sa-pa", tracking)
    assert followed is not None and followed["state"] == "REOPENED"
    shown = [e["action"] for e in followed["events"]]
    assert shown == [
        "SUBMIT", "RECEIVE_TRANSFER", "ASSIGN", "ACCEPT", "APPROVE_RESULT", "RATE_DISSATISFIED",
        "REOPEN",
    ]  # fmt: skip
