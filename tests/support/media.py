"""Reports with photos in given states, for the media-link and Open311 tests."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
from strawberry import relay

from permissions.session import scoped_transaction
from reports.models import Report
from reports.service import AssignInput
from reports.workflow import WorkflowAction as A
from tests.factories import jpeg
from tests.support.workflow import (
    CITIZEN,
    CONTACT,
    HANDLER,
    OPERATOR,
    SAPA_POINT,
    SUPERVISOR,
    Env,
    service_step,
)

SUBMIT = """mutation($i: SubmitReportInput!) { submitReport(input: $i) {
  report { id code attachments { url thumbnailUrl } } errors { code } } }"""


PUBLISH = """mutation($id: ID!, $p: Boolean!) { publishReport(input: {id: $id, published: $p}) {
  report { published } errors { code } } }"""


async def submitted_with_photo(http: httpx.AsyncClient, env: Env) -> dict[str, Any]:
    variables = {
        "i": {
            "title": f"Ảnh {uuid.uuid4().hex[:8]}",
            "description": "Rác thải đổ trộm.",
            "fieldId": str(relay.GlobalID("Field", str(env.food.id))),
            "latitude": SAPA_POINT[0],
            "longitude": SAPA_POINT[1],
            "idempotencyKey": uuid.uuid4().hex,
            "attachments": [None],
        }
    }
    response = await http.post(
        "/graphql",
        data={
            "operations": json.dumps({"query": SUBMIT, "variables": variables}),
            "map": json.dumps({"0": ["variables.i.attachments.0"]}),
        },
        files={"0": ("photo.jpg", jpeg(), "image/jpeg")},
        headers={"Authorization": f"Bearer {env.token(CITIZEN)}"},
    )
    payload = response.json()["data"]["submitReport"]
    assert payload["errors"] == [], payload
    return payload["report"]


async def resolved_report(env: Env, report_id: str) -> Report:
    """Brought to RESOLVED through the services (the caller publishes it over GraphQL)."""
    rid = uuid.UUID(relay.GlobalID.from_id(report_id).node_id)
    async with scoped_transaction(env.scopes[OPERATOR]):
        report = await Report.get(id=rid)
    report = await service_step(env, OPERATOR, report, A.ASSIGN, assign=AssignInput(env.health.id))
    report = await service_step(env, CONTACT, report, A.ACCEPT)
    report = await service_step(env, HANDLER, report, A.SUBMIT_RESULT, comment="Đã dọn.")
    return await service_step(env, SUPERVISOR, report, A.APPROVE_RESULT, reason_code="FIXED")
