"""Regression tests for the security review fixes on reports: personal data checked per report,
anonymous idempotent retries must repeat the request, files of rolled-back requests are deleted,
bad input gets typed errors, and citizens see only rounded duplicate distances."""

from __future__ import annotations

import base64
import math
import uuid
from typing import Any

import pytest

from api.settings import Settings
from permissions.session import scoped_transaction
from reports.duplicates import haversine_m
from reports.models import Report
from tests.conftest import GraphQLClient
from tests.factories import jpeg
from tests.support.admin import PASSWORD, create_user, field_ids, grant, post
from tests.support.workflow import OPERATOR, Env, make_env, media_files, multipart

SAPA_POINT = (22.332, 103.842)  # inside Phường Sa Pa
METRES_PER_DEGREE = math.pi * 6_371_008.8 / 180  # of latitude
FOOD, ORDER = "ve-sinh-attp", "trat-tu-xa-hoi"  # the second is a sensitive field

SUBMIT = """mutation($i: SubmitReportInput!) { submitReport(input: $i) {
  report { id code state version } trackingCode
  possibleDuplicates { code title state distanceM }
  errors { code field } } }"""
STAFF_VIEW = """query($id: ID!) { report(id: $id) {
  id reporter { name phone } location { latitude longitude precise } } }"""


@pytest.fixture(scope="module")
async def env(pilot: dict[str, Any], gql: GraphQLClient) -> Env:
    return await make_env(pilot, gql)


@pytest.fixture(scope="module")
async def fields(env: Env, gql: GraphQLClient) -> dict[str, str]:
    return await field_ids(gql, env.token(OPERATOR))


def report_input(field_id: str, point: tuple[float, float], **overrides: Any) -> dict[str, Any]:
    return {
        "title": "Phản ánh kiểm thử hồi quy",
        "description": "Nội dung phản ánh để kiểm thử.",
        "fieldId": field_id,
        "latitude": point[0],
        "longitude": point[1],
        "address": "Phường Sa Pa",
        "idempotencyKey": uuid.uuid4().hex,
        **overrides,
    }


async def submit(
    gql: GraphQLClient,
    data: dict[str, Any],
    *,
    token: str | None = None,
    tenant: str | None = None,
) -> dict[str, Any]:
    """The submitReport payload; the request itself must not fail."""
    response = await post(gql, SUBMIT, {"i": data}, token=token, tenant=tenant)
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]["submitReport"]


async def reports_with_key(env: Env, key: str) -> int:
    async with scoped_transaction(env.scopes[OPERATOR]):
        return await Report.filter(tenant_id=env.tenant.id, idempotency_key=key).count()


def north(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0] + metres / METRES_PER_DEGREE, point[1]


# --- 2. personal data is checked on each report -----------------------------------------------


async def test_a_field_narrowed_grant_reveals_no_reporter_of_other_fields(
    gql: GraphQLClient, env: Env, fields: dict[str, str]
) -> None:
    admin, operator = env.token("tenant_admin"), env.token(OPERATOR)
    user_id, username = await create_user(gql, admin, "narrow")
    await grant(gql, admin, user_id, "intake_operator", fieldId=fields[FOOD])
    await grant(gql, admin, user_id, "locality_leader")  # report:view everywhere
    narrowed = await gql.login(username, PASSWORD)

    caller = {"name": "Người gọi đường dây nóng", "phone": "0912345678"}
    sensitive = await submit(
        gql,
        report_input(fields[ORDER], SAPA_POINT, onBehalf=True, contact=caller),
        token=operator,
    )
    food = await submit(
        gql,
        report_input(fields[FOOD], SAPA_POINT, onBehalf=True, contact=caller),
        token=operator,
    )
    assert sensitive["errors"] == food["errors"] == [], (sensitive, food)

    # The tenant-wide operator sees both callers.
    full = (await gql.ok(STAFF_VIEW, {"id": sensitive["report"]["id"]}, operator))["report"]
    assert full["reporter"] == caller and full["location"]["precise"] is True

    # The user narrowed to food safety sees the report of another field, but not its caller
    # nor its precise location ...
    seen = (await gql.ok(STAFF_VIEW, {"id": sensitive["report"]["id"]}, narrowed))["report"]
    assert seen is not None and seen["id"] == sensitive["report"]["id"]
    assert seen["reporter"] is None
    assert seen["location"]["precise"] is False
    # ... and the caller of a food-safety report.
    seen = (await gql.ok(STAFF_VIEW, {"id": food["report"]["id"]}, narrowed))["report"]
    assert seen["reporter"] == caller and seen["location"]["precise"] is True
    # The same holds in lists.
    listed = await gql.ok(
        """query($f: [ID!]) { reports(first: 50, filter: { fieldIds: $f }) {
             edges { node { id reporter { phone } location { precise } } } } }""",
        {"f": [fields[ORDER]]},
        narrowed,
    )
    nodes = [e["node"] for e in listed["reports"]["edges"]]
    assert sensitive["report"]["id"] in {n["id"] for n in nodes}
    assert all(n["reporter"] is None and not n["location"]["precise"] for n in nodes), nodes


# --- 3. anonymous idempotent retries ----------------------------------------------------------


async def test_an_anonymous_key_returns_the_report_only_to_the_same_request(
    gql: GraphQLClient, env: Env, fields: dict[str, str]
) -> None:
    data = report_input(
        fields[FOOD], SAPA_POINT, contact={"name": "Ẩn danh", "phone": "0977111333"}
    )
    first = await submit(gql, data, tenant="sa-pa")
    assert first["errors"] == [] and first["trackingCode"], first

    other = await submit(gql, {**data, "title": "Một phản ánh khác"}, tenant="sa-pa")
    assert other["report"] is None and other["trackingCode"] is None, other
    assert [e["code"] for e in other["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]

    again = await submit(gql, data, tenant="sa-pa")
    assert again["errors"] == [], again
    assert again["report"]["id"] == first["report"]["id"]
    assert again["trackingCode"] == first["trackingCode"]
    assert await reports_with_key(env, data["idempotencyKey"]) == 1


# --- 5. files stored by a rolled-back request are deleted -------------------------------------


async def test_files_of_a_rolled_back_request_are_deleted(
    gql: GraphQLClient, env: Env, fields: dict[str, str], settings: Settings
) -> None:
    query = """mutation($i: SubmitReportInput!, $r: RejectReportInput!) {
      a: submitReport(input: $i) { report { id } errors { code } }
      b: rejectReport(input: $r) { report { id } errors { code } } }"""
    data = report_input(fields[FOOD], SAPA_POINT, attachments=[None])
    # The citizen may submit (a succeeds, its photo is stored) but may not reject: b raises a
    # GraphQL error and the whole request's transaction rolls back.
    reject = {"id": "not-a-global-id", "version": 1, "reason": "OUT_OF_SCOPE", "comment": "x"}
    before = media_files(settings)
    body = await multipart(
        gql,
        query,
        {"i": data, "r": reject},
        [("variables.i.attachments.0", ("IMG_0099.jpg", jpeg(), "image/jpeg"))],
        token=env.token("citizen"),
    )
    assert body.get("errors"), body
    assert await reports_with_key(env, data["idempotencyKey"]) == 0
    assert media_files(settings) == before

    # The same submission on its own stores the photo (the refusal above was not about it).
    body = await multipart(
        gql,
        """mutation($i: SubmitReportInput!) { submitReport(input: $i) {
             report { id } errors { code } } }""",
        {"i": data},
        [("variables.i.attachments.0", ("IMG_0099.jpg", jpeg(), "image/jpeg"))],
        token=env.token("citizen"),
    )
    assert "errors" not in body and body["data"]["submitReport"]["errors"] == [], body
    assert await reports_with_key(env, data["idempotencyKey"]) == 1
    assert len(media_files(settings) - before) == 2  # the photo and its thumbnail


# --- 7. bad input gets typed answers ----------------------------------------------------------


async def test_contact_details_are_validated(
    gql: GraphQLClient, env: Env, fields: dict[str, str]
) -> None:
    citizen = env.token("citizen")
    data = report_input(fields[FOOD], SAPA_POINT, contact={"name": "A", "phone": "9" * 100})
    payload = await submit(gql, data, token=citizen)
    assert payload["report"] is None, payload
    codes = {e["code"] for e in payload["errors"]}
    assert codes and codes <= {"INVALID_PHONE", "TOO_LONG"}, payload
    assert {e["field"] for e in payload["errors"]} == {"contact.phone"}, payload

    email = "a" * 289 + "@example.vn"
    assert len(email) == 300
    data = report_input(fields[FOOD], SAPA_POINT, contact={"name": "A", "email": email})
    payload = await submit(gql, data, token=citizen)
    assert payload["report"] is None
    assert payload["errors"] == [{"code": "TOO_LONG", "field": "contact.email"}]

    data = report_input(fields[FOOD], SAPA_POINT, contact={"name": "A", "phone": "gọi tôi nhé"})
    payload = await submit(gql, data, token=citizen)
    assert payload["errors"] == [{"code": "INVALID_PHONE", "field": "contact.phone"}]
    assert await reports_with_key(env, data["idempotencyKey"]) == 0


async def test_a_malformed_node_id_is_simply_not_found(gql: GraphQLClient, env: Env) -> None:
    bad_node = base64.b64encode(b"Report:notauuid").decode()
    body = await gql(
        "query($id: ID!) { node(id: $id) { id } }", {"id": bad_node}, env.token(OPERATOR)
    )
    assert body == {"data": {"node": None}}, body


async def test_an_overlong_report_code_is_simply_not_found(gql: GraphQLClient, env: Env) -> None:
    query = "query($c: String!) { reportByCode(code: $c) { id } }"
    body = await gql(query, {"c": "X" * 40}, env.token(OPERATOR))
    assert body == {"data": {"reportByCode": None}}, body


async def test_an_overlong_tracking_code_is_simply_not_found(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    query = "query($c: String!) { trackReport(trackingCode: $c) { code } }"
    response = await post(gql, query, {"c": "A" * 40}, tenant="sa-pa")
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"trackReport": None}}


# --- 10. possible duplicates shown to citizens ------------------------------------------------


async def test_citizens_see_rounded_duplicate_distances(
    gql: GraphQLClient, env: Env, fields: dict[str, str]
) -> None:
    citizen, operator = env.token("citizen"), env.token(OPERATOR)
    base = (22.3371, 103.8463)  # ~600 m from the point the other tests use
    first = await submit(gql, report_input(fields[FOOD], base), token=citizen)
    assert first["errors"] == [], first

    near = north(base, 37)
    exact = haversine_m(near[0], near[1], base[0], base[1])
    assert 36 < exact < 38
    second = await submit(gql, report_input(fields[FOOD], near), token=citizen)
    assert second["errors"] == [], second
    shown = {d["code"]: d["distanceM"] for d in second["possibleDuplicates"]}
    assert first["report"]["code"] in shown, second
    assert shown[first["report"]["code"]] == round(exact, -2) == 0
    assert all(d % 100 == 0 for d in shown.values()), shown

    # An operator entering a hotline call nearby sees exact distances.
    hotline = north(base, 150)
    third = await submit(
        gql,
        report_input(fields[FOOD], hotline, onBehalf=True, contact={"name": "Người gọi"}),
        token=operator,
    )
    assert third["errors"] == [], third
    staff = {d["code"]: d["distanceM"] for d in third["possibleDuplicates"]}
    expected = haversine_m(hotline[0], hotline[1], base[0], base[1])
    assert staff[first["report"]["code"]] == pytest.approx(expected, abs=0.01)
    assert staff[first["report"]["code"]] % 100 != 0


async def test_others_unpublished_reports_are_only_counted(
    gql: GraphQLClient, env: Env, fields: dict[str, str]
) -> None:
    """Someone else submitting nearby learns that a report exists, never its code or text."""
    citizen = env.token("citizen")
    base = (22.3389, 103.8441)
    first = await submit(gql, report_input(fields[FOOD], base), token=citizen)
    assert first["errors"] == [], first
    anonymous = await submit(gql, report_input(fields[FOOD], north(base, 20)), tenant="sa-pa")
    assert anonymous["errors"] == [], anonymous
    shown = anonymous["possibleDuplicates"]
    assert shown and all(d["code"] is None and d["title"] is None for d in shown), shown
    assert {"SUBMITTED"} <= {d["state"] for d in shown}


async def test_citizens_see_no_duplicates_in_a_sensitive_field(
    gql: GraphQLClient, env: Env, fields: dict[str, str]
) -> None:
    citizen, operator = env.token("citizen"), env.token(OPERATOR)
    spot = (22.3290, 103.8395)  # away from the other tests' points
    caller = {"name": "Người báo tin", "phone": "0966000111"}
    open_one = await submit(
        gql, report_input(fields[ORDER], spot, onBehalf=True, contact=caller), token=operator
    )
    assert open_one["errors"] == [], open_one

    mine = await submit(gql, report_input(fields[ORDER], north(spot, 30)), token=citizen)
    assert mine["errors"] == [] and mine["report"]["state"] == "SUBMITTED", mine
    assert mine["possibleDuplicates"] == []

    # The nearby open report is there: staff are shown it.
    staff = await submit(
        gql,
        report_input(fields[ORDER], north(spot, 10), onBehalf=True, contact=caller),
        token=operator,
    )
    codes = {d["code"] for d in staff["possibleDuplicates"]}
    assert {open_one["report"]["code"], mine["report"]["code"]} <= codes, staff
