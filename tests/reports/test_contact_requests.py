"""An anonymous reporter's own data (reports/contact_requests.py, Nghị định 13/2023/NĐ-CP): with
the tracking code they see what the report holds about them and until when, and have it erased
at once. Staff and other callers never see it this way; another locality's header finds
nothing; the report stays and is still followed by its code."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from permissions.scope import anonymous_in
from permissions.session import scoped_transaction, tenant_transaction
from reports.models import Report, ReporterContact
from reports.service import submit_report
from reports.submission import ContactInput
from reports.workflow import WorkflowAction as A
from tenants.regulation import tenant_options
from tests.conftest import GraphQLClient
from tests.factories import gid
from tests.support.services import new_input, step

HELD = "heldContact { name phone email notifyBy anonymisedAt keptUntil }"
TRACK = f"query($c: String!) {{ trackReport(trackingCode: $c) {{ code state {HELD} }} }}"
ERASE = """mutation($i: EraseContactInput!) { eraseContactByTrackingCode(input: $i) {
  contact { name phone email anonymisedAt } errors { code field } } }"""
STAFF = f"query($id: ID!) {{ report(id: $id) {{ reporter {{ name phone }} {HELD} }} }}"


async def _anonymous(
    gql: GraphQLClient, query: str, variables: dict[str, Any], tenant: str = "sa-pa"
) -> dict[str, Any]:
    response = await gql.http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"X-Paht-Tenant": tenant, "Accept-Language": "en"},
    )
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def _reported(sapa: dict[str, Any]) -> tuple[Report, str]:
    scope = anonymous_in(sapa["tenant"].id)
    contact = ContactInput(name="Giàng A Páo", phone="0912345678", email="pao@example.vn")
    async with scoped_transaction(scope):
        result = await submit_report(scope, new_input(sapa, contact=contact))
    assert result.tracking_code is not None
    return result.report, result.tracking_code


async def _row(report: Report) -> ReporterContact:
    async with tenant_transaction(report.tenant_id):
        return await ReporterContact.get(tenant_id=report.tenant_id, report_id=report.id)


async def test_the_code_shows_the_contact_and_erases_it(
    gql: GraphQLClient, sapa: dict[str, Any], pilot: dict[str, Any]
) -> None:
    report, code = await _reported(sapa)
    held = (await _anonymous(gql, TRACK, {"c": code}))["trackReport"]["heldContact"]
    assert held == {
        "name": "Giàng A Páo",
        "phone": "0912345678",
        "email": "pao@example.vn",
        "notifyBy": None,
        "anonymisedAt": None,
        "keptUntil": None,  # kept while the report is open
    }
    # staff who may see the reporter see it as staff do (and the reveal is logged), never as
    # the reporter's own copy
    operator = await gql.login("sapa.intake-operator", pilot["password"])
    seen = (await gql.ok(STAFF, {"id": gid("Report", report.id)}, operator))["report"]
    assert seen["reporter"]["phone"] == "0912345678" and seen["heldContact"] is None

    # another locality's header, or a wrong code: not found, nothing erased
    for tenant, guess in (("lao-cai", code), ("sa-pa", uuid.uuid4().hex[:12])):
        refused = await _anonymous(gql, ERASE, {"i": {"trackingCode": guess}}, tenant)
        payload = refused["eraseContactByTrackingCode"]
        assert payload["contact"] is None
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [
            ("NOT_FOUND", "trackingCode")
        ]
    assert (await _row(report)).phone == "0912345678"

    erased = await _anonymous(gql, ERASE, {"i": {"trackingCode": code.lower()}})
    payload = erased["eraseContactByTrackingCode"]
    assert payload["errors"] == []
    blank = payload["contact"]
    assert (blank["name"], blank["phone"], blank["email"]) == ("", None, None)
    assert blank["anonymisedAt"] is not None
    row = await _row(report)
    assert (row.name, row.phone, row.email, row.notify_by) == ("", None, None, None)

    # asking again changes nothing; the report stays and is still followed by its code
    again = await _anonymous(gql, ERASE, {"i": {"trackingCode": code}})
    assert again["eraseContactByTrackingCode"]["contact"]["anonymisedAt"] == blank["anonymisedAt"]
    tracked = (await _anonymous(gql, TRACK, {"c": code}))["trackReport"]
    assert (tracked["code"], tracked["state"]) == (report.code, "SUBMITTED")
    assert tracked["heldContact"]["anonymisedAt"] == blank["anonymisedAt"]
    seen = (await gql.ok(STAFF, {"id": gid("Report", report.id)}, operator))["report"]
    assert seen["reporter"]["phone"] is None


async def test_a_finished_report_says_until_when_its_contact_is_kept(
    gql: GraphQLClient, sapa: dict[str, Any]
) -> None:
    report, code = await _reported(sapa)
    rejected = await step(
        sapa["operator"], report, A.REJECT, reason_code="OUT_OF_SCOPE", comment="Không thuộc."
    )
    async with tenant_transaction(rejected.tenant_id):
        days = (await tenant_options(rejected.tenant_id)).contact_retention_days
    finished = rejected.closed_at or rejected.updated_at
    held = (await _anonymous(gql, TRACK, {"c": code}))["trackReport"]["heldContact"]
    assert held["anonymisedAt"] is None
    kept_until = (finished + timedelta(days=days)).isoformat()
    assert held["keptUntil"].replace("Z", "+00:00") == kept_until
