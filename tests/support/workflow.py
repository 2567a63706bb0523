"""The GraphQL workflow scenario shared by the report tests: the Sa Pa cast of roles, an Env of
tokens and scopes, acting by mutation, frozen moments, and service shortcuts to set a report up."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
import time_machine
from strawberry import relay

from api.settings import Settings
from permissions.scope import Scope
from permissions.session import scoped_transaction
from permissions.store import store
from permissions.templates import TENANT_ADMIN, TENANT_TEMPLATES
from reports.models import Report
from reports.service import (
    AssignInput,
    ContactInput,
    SubmitInput,
    mark_duplicate,
    request_extension,
    request_info,
    submit_report,
    transition,
)
from reports.workflow import WorkflowAction as A
from tenants.models import Agency, Field
from tenants.options import WorkflowOption
from tenants.regulation import tenant_options, update_options
from tests.clock import MOMENTS, access_token, moment_id, stop_clock
from tests.conftest import GraphQLClient
from tests.factories import (
    user_named,
)


def gid(kind: str, value: uuid.UUID) -> str:
    return str(relay.GlobalID(kind, str(value)))


SAPA_POINT = (22.332, 103.842)  # inside Phường Sa Pa (unit 03001)


ROLES = [t.code for t in TENANT_TEMPLATES]


USERS = {
    code: "sapa.admin" if code == TENANT_ADMIN else f"sapa.{code.replace('_', '-')}"
    for code in ROLES
}


CITIZEN, OPERATOR, SUPERVISOR = "citizen", "intake_operator", "centre_supervisor"


CONTACT, HANDLER, LEADER = "agency_contact", "handler", "agency_leader"


REPORT = """id code state version screenDueAt acceptDueAt resolveDueAt reviewDueAt resolvedAt
  closedAt dueAt published rating leadAgency { id } availableActions
  lastEvent { action fromState toState reasonCode comment public data }"""


SUBMIT = f"""mutation($i: SubmitReportInput!) {{ submitReport(input: $i) {{
  report {{ {REPORT} attachments {{ url thumbnailUrl contentType width height }} }}
  trackingCode errors {{ code field message }} }} }}"""


EVENTS = "events { action fromState toState actorRole reasonCode comment public data }"


def headers(token: str | None = None, tenant: str | None = None) -> dict[str, str]:
    result = {"Accept-Language": "en"}
    if token:
        result["Authorization"] = f"Bearer {token}"
    if tenant:
        result["X-Paht-Tenant"] = tenant
    return result


async def multipart(
    gql: GraphQLClient,
    query: str,
    variables: dict[str, Any],
    files: list[tuple[str, tuple[str, bytes, str]]],
    token: str | None = None,
    tenant: str | None = None,
) -> dict[str, Any]:
    """A GraphQL multipart request (spec: operations + map + files); each of ``files`` is
    (variable path such as ``variables.i.attachments.0``, (filename, bytes, content type)).
    No CSRF-preventing header is needed: strawberry accepts multipart POSTs as they are."""
    response = await gql.http.post(
        "/graphql",
        data={
            "operations": json.dumps({"query": query, "variables": variables}),
            "map": json.dumps({str(n): [path] for n, (path, _) in enumerate(files)}),
        },
        files={str(n): file for n, (_, file) in enumerate(files)},
        headers=headers(token, tenant),
    )
    assert response.status_code == 200, response.text
    return response.json()


def media_files(settings: Settings) -> set[str]:
    root = settings.media_dir()
    return (
        {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
        if root.exists()
        else set()
    )


def when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def report_input(env: Env, **overrides: Any) -> dict[str, Any]:
    return {
        "title": "Quán ăn dùng thực phẩm ôi thiu",
        "description": "Quán ăn đầu chợ dùng thịt ôi thiu, nhiều người bị đau bụng.",
        "fieldId": gid("Field", env.food.id),
        "latitude": SAPA_POINT[0],
        "longitude": SAPA_POINT[1],
        "address": "Chợ Sa Pa, đường Cầu Mây",
        "idempotencyKey": uuid.uuid4().hex,
        **overrides,
    }


INPUT_TYPES = {
    "rejectReport": "RejectReportInput",
    "markDuplicate": "MarkDuplicateInput",
    "unmarkDuplicate": "ReasonedTransitionInput",
    "requestInfo": "TransitionInput",
    "provideInfo": "TransitionInput",
    "assignReport": "AssignReportInput",
    "rerouteReport": "RerouteReportInput",
    "setCoordinatingAgencies": "SetCoordinatingAgenciesInput",
    "handOffReport": "HandOffReportInput",
    "transferReport": "TransferReportInput",
    "escalateReport": "EscalateReportInput",
    "acceptReport": "TransitionInput",
    "returnReport": "ReturnReportInput",
    "submitResult": "SubmitResultInput",
    "signOffResult": "TransitionInput",
    "sendBackResult": "ReasonedTransitionInput",
    "approveResult": "ApproveResultInput",
    "requestRework": "ReasonedTransitionInput",
    "reopenReport": "ReasonedTransitionInput",
    "closeReport": "ReasonedTransitionInput",
    "withdrawReport": "TransitionInput",
    "rateReport": "RateReportInput",
    "publishReport": "PublishReportInput",
    "requestExtension": "RequestExtensionInput",
    "decideExtension": "DecideExtensionInput",
    "askReporter": "AskReporterInput",
    "answerInfoRequest": "AnswerInfoRequestInput",
    "addComment": "AddCommentInput",
}


PAYLOADS = {
    "publishReport": f"report {{ {REPORT} }}",
    "requestExtension": "extension { status reason requestedDueAt decidedAt }",
    "decideExtension": "extension { status reason requestedDueAt decidedAt }",
    "askReporter": "infoRequest { status question answer }",
    "answerInfoRequest": "infoRequest { status question answer }",
    "addComment": "event { action comment public }",
}


async def mutate(
    gql: GraphQLClient, name: str, variables: dict[str, Any], token: str | None
) -> dict[str, Any]:
    """The whole response body of one mutation (payload errors and GraphQL errors)."""
    selection = PAYLOADS.get(name, f"report {{ {REPORT} }}")
    query = (
        f"mutation($i: {INPUT_TYPES[name]}!) {{ {name}(input: $i) "
        f"{{ {selection} errors {{ code field }} }} }}"
    )
    return await gql(query, {"i": variables}, token)


async def act(
    gql: GraphQLClient, name: str, variables: dict[str, Any], token: str
) -> dict[str, Any]:
    """Run a mutation that must succeed; returns its payload."""
    body = await mutate(gql, name, variables, token)
    assert "errors" not in body, body
    payload = body["data"][name]
    assert payload["errors"] == [], payload
    return payload


async def error_codes(
    gql: GraphQLClient, name: str, variables: dict[str, Any], token: str
) -> list[str]:
    """The payload error codes of a mutation that must be refused by its service."""
    body = await mutate(gql, name, variables, token)
    assert "errors" not in body, body
    payload = body["data"][name]
    assert payload.get("report") is None, payload
    return [e["code"] for e in payload["errors"]]


async def staff_view(gql: GraphQLClient, token: str, report_id: str) -> dict[str, Any]:
    query = f"""query($id: ID!) {{ report(id: $id) {{ {REPORT} {EVENTS}
      extension {{ status reason requestedDueAt decidedAt decisionComment }}
      infoRequests {{ question answer status }}
      reporter {{ name phone }} attachments {{ url thumbnailUrl contentType }} }} }}"""
    report = (await gql.ok(query, {"id": report_id}, token=token))["report"]
    assert report is not None, report_id
    return report


async def own_view(gql: GraphQLClient, token: str, report_id: str) -> dict[str, Any]:
    """The reporter's view of their report, found in ``myReports``."""
    query = f"""query($after: String) {{ myReports(first: 100, after: $after) {{
      edges {{ node {{ {REPORT} {EVENTS} infoRequests {{ question answer status }}
        reporter {{ name }} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"""
    after = None
    while True:
        page = (await gql.ok(query, {"after": after}, token=token))["myReports"]
        for edge in page["edges"]:
            if edge["node"]["id"] == report_id:
                return edge["node"]
        assert page["pageInfo"]["hasNextPage"], f"{report_id} is not among my reports"
        after = page["pageInfo"]["endCursor"]


@dataclass
class Env:
    tenant: Any
    food: Field
    health: Agency
    urban: Agency
    scopes: dict[str, Scope]
    tokens: dict[str, str]
    laocai: dict[str, str]
    master: Report | None = None  # an earlier report, for markDuplicate

    def token(self, role: str) -> str:
        return self.tokens[role]


async def make_env(pilot: dict[str, Any], gql: GraphQLClient) -> Env:
    """Sa Pa's role users (scopes for set-up, tokens for the API) and its reference rows."""
    tenant = pilot["tenants"]["sa-pa"]
    scopes = {}
    for role, username in USERS.items():
        user = await user_named(username)
        scopes[role] = await store.scope_for(user.id, tenant.id)
    async with scoped_transaction(scopes[OPERATOR]):
        food = await Field.get(tenant_id=tenant.id, code="ve-sinh-attp")
        health = await Agency.get(tenant_id=tenant.id, id=food.default_agency_id)
        urban = await Agency.get(tenant_id=tenant.id, code="phong-qldt")
    password = pilot["password"]
    tokens = {role: await gql.login(username, password) for role, username in USERS.items()}
    laocai = {
        role: await gql.login(f"laocai.{role}", password)
        for role in ("intake-operator", "citizen", "handler")
    }
    world = Env(tenant, food, health, urban, scopes, tokens, laocai)
    world.master = await prepare(world, "SUBMITTED")
    return world


Clock = time_machine.TimeMachineFixture


@asynccontextmanager
async def tenant_option(env: Env, option: WorkflowOption) -> AsyncIterator[None]:
    """Sa Pa with ``option`` switched on for the block (its administrator sets it), as before
    afterwards."""
    admin = env.scopes[TENANT_ADMIN]
    before = (await tenant_options(env.tenant.id)).to_config()
    chosen = sorted({*before["workflow_options"], option.value})
    async with scoped_transaction(admin):
        await update_options(admin, {**before, "workflow_options": chosen})
    try:
        yield
    finally:
        async with scoped_transaction(admin):
            await update_options(admin, before)


by_moment = pytest.mark.parametrize("moment", MOMENTS, ids=moment_id)


async def at(env: Env, settings: Settings, clock: Clock, when: datetime) -> Env:
    """Stop the clock at ``when`` (tests/clock.py); the Env returned holds tokens issued then."""
    stop_clock(clock, when)
    return replace(env, tokens={r: await access_token(settings, s) for r, s in env.scopes.items()})


async def service_submit(env: Env, *, own: bool = True) -> Report:
    """A food-safety report of the citizen's (``own``), or one an operator entered for a hotline
    caller (nobody's own)."""
    scope = env.scopes[CITIZEN] if own else env.scopes[OPERATOR]
    data = SubmitInput(
        title="Cơ sở giết mổ không phép",
        description="Giết mổ gia súc ban đêm, nước thải chảy ra đường.",
        field_id=env.food.id,
        latitude=SAPA_POINT[0],
        longitude=SAPA_POINT[1],
        address="Tổ 5, phường Sa Pa",
        idempotency_key=uuid.uuid4().hex,
        contact=None if own else ContactInput("Lò Thị Mai", "0987654321"),
        on_behalf=not own,
    )
    async with scoped_transaction(scope):
        result = await submit_report(scope, data)
    assert result.created
    return result.report


async def service_step(env: Env, role: str, report: Report, action: A, **kwargs: Any) -> Report:
    scope = env.scopes[role]
    async with scoped_transaction(scope):
        return await transition(scope, report.id, action, report.version, **kwargs)


async def _led_by_urban(env: Env, report: Report) -> Report:
    """Re-routed behind the API's back: the health office staff no longer lead it."""
    async with scoped_transaction(env.scopes[OPERATOR]):
        await Report.filter(id=report.id).update(lead_agency_id=env.urban.id)
        return await Report.get(id=report.id)


ROUTE = ("SUBMITTED", "ASSIGNED", "IN_PROGRESS", "RESULT_SUBMITTED", "RESOLVED")
AFTER_RESOLVED = ("RATING_REVIEW", "CLOSED")


async def prepare(
    env: Env,
    state: str,
    *,
    own: bool = True,
    agency: str = "health",
    extension: bool = False,
    question: bool = False,
) -> Report:
    """A report brought to ``state`` through the services (fast set-up for the GraphQL calls).

    ``agency="urban"`` leaves it with the urban management office, which the demo agency-bound
    users (granted for the health office) do not belong to."""
    if state == "LEADER_REVIEW":  # with the leader's sign-off on (tenant_option)
        report = await prepare(env, "IN_PROGRESS", own=own)
        report = await service_step(env, HANDLER, report, A.SUBMIT_RESULT, comment="Đã xử phạt.")
        assert report.state == state
        return await _led_by_urban(env, report) if agency == "urban" else report
    if state == "RETURNED":
        report = await prepare(env, "ASSIGNED", own=own)
        return await service_step(
            env, CONTACT, report, A.RETURN, reason_code="NOT_COMPETENT", comment="Không đúng."
        )
    report = await service_submit(env, own=own)
    if state == "NEED_INFO":
        return await service_step(env, OPERATOR, report, A.REQUEST_INFO, comment="Ảnh mờ quá.")
    if state == "DUPLICATE":
        assert env.master is not None
        async with scoped_transaction(env.scopes[OPERATOR]):
            return await mark_duplicate(
                env.scopes[OPERATOR], report.id, report.version, env.master.id
            )
    if state in AFTER_RESOLVED:  # rated 1 (the centre's review queue), or closed by the centre
        report = await prepare(env, "RESOLVED", own=own, agency=agency)
        if state == "RATING_REVIEW":
            return await service_step(env, CITIZEN, report, A.RATE, rating=1)
        return await service_step(env, SUPERVISOR, report, A.CLOSE)
    urban_now = agency == "urban" and state == "ASSIGNED"
    steps = {
        "ASSIGNED": (
            OPERATOR,
            A.ASSIGN,
            {"assign": AssignInput((env.urban if urban_now else env.health).id)},
        ),
        "IN_PROGRESS": (CONTACT, A.ACCEPT, {}),
        "RESULT_SUBMITTED": (HANDLER, A.SUBMIT_RESULT, {"comment": "Đã xử phạt, đình chỉ."}),
        "RESOLVED": (SUPERVISOR, A.APPROVE_RESULT, {"reason_code": "FIXED"}),
    }
    for target in ROUTE[1 : ROUTE.index(state) + 1]:
        role, action, kwargs = steps[target]
        report = await service_step(env, role, report, action, **kwargs)
    assert report.state == state
    if agency == "urban" and not urban_now:
        report = await _led_by_urban(env, report)
    if extension:
        assert report.resolve_due_at is not None
        due = report.resolve_due_at + timedelta(days=1)
        async with scoped_transaction(env.scopes[HANDLER]):
            await request_extension(env.scopes[HANDLER], report.id, due, "Chờ kết quả xét nghiệm.")
    if question:
        async with scoped_transaction(env.scopes[HANDLER]):
            await request_info(env.scopes[HANDLER], report.id, "Quán ở số nhà bao nhiêu?")
    return report
