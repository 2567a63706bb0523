"""Open311 GeoReport v2 over HTTP: client applications registered and revoked over GraphQL;
discovery, services and definitions; POST validated like GraphQL (nothing created on error);
requests read from the public feed only; JSON validated against schemas written from the spec,
XML parsed with the standard library; cross-tenant ids are 404."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import jsonschema
import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
from strawberry import relay

from api.app import create_app
from api.database import DatabaseUrls
from api.settings import Settings
from core import throttle
from open311.mapping import STATES, Status
from open311.submit import SUBMISSIONS
from permissions.session import scoped_transaction
from reports.models import Report
from reports.workflow import ReportState
from reports.workflow import WorkflowAction as A
from tests.conftest import GraphQLClient, serving
from tests.factories import jpeg
from tests.open311 import schemas
from tests.open311.client import GeoReportClient, xml_errors, xml_requests
from tests.support.media import PUBLISH, resolved_report, submitted_with_photo
from tests.support.services import SAPA_POINT
from tests.support.workflow import (
    CONTACT,
    HANDLER,
    OPERATOR,
    SUPERVISOR,
    Env,
    make_env,
    service_step,
)

BASE = "/open311/v2"
REGISTER = """mutation($i: RegisterOpen311ClientInput!) { registerOpen311Client(input: $i) {
  client { id name keyPrefix revokedAt } apiKey errors { code } } }"""
REVOKE = """mutation($id: ID!) { revokeOpen311Client(input: {id: $id}) {
  client { revokedAt } errors { code } } }"""
CLIENTS = "{ open311Clients { id name keyPrefix revokedAt } }"
DEACTIVATE_FIELD = """mutation($i: UpdateFieldInput!) { updateField(input: $i) {
  errors { code } } }"""
CREATE_FIELD = """mutation($i: CreateFieldInput!) { createField(input: $i) {
  field { id code } errors { code message } } }"""
ASSIGN = """mutation($i: AssignReportInput!) { assignReport(input: $i) {
  report { id state } errors { code } } }"""
REPORT = "query($id: ID!) { node(id: $id) { ... on Report { id code state version channel } } }"


@pytest.fixture(scope="module")
async def env(pilot: dict[str, Any], gql: GraphQLClient) -> Env:
    return await make_env(pilot, gql)


@pytest.fixture(scope="module")
async def admin(pilot: dict[str, Any], gql: GraphQLClient) -> str:
    return await gql.login("sapa.admin", pilot["password"])


@pytest.fixture(scope="module")
async def api_key(gql: GraphQLClient, admin: str) -> str:
    data = await gql.ok(REGISTER, {"i": {"name": "Ứng dụng Zalo", "contact": "it@sapa.vn"}},
                        token=admin)  # fmt: skip
    payload = data["registerOpen311Client"]
    assert payload["errors"] == []
    assert payload["apiKey"].startswith(payload["client"]["keyPrefix"])
    return payload["apiKey"]


@pytest.fixture(scope="module")
async def asked(gql: GraphQLClient, admin: str) -> AsyncIterator[dict[str, Any]]:
    """A field of Sa Pa with one question of every kind."""
    code = f"o311-{uuid.uuid4().hex[:6]}"
    q = [
        {"key": "note", "labelVi": "Ghi chú", "labelEn": "Note", "kind": "TEXT"},
        {"key": "count", "labelVi": "Số lượng", "labelEn": "Count", "kind": "NUMBER",
         "required": True},
        {"key": "blocked", "labelVi": "Có chắn đường không", "labelEn": "Road blocked",
         "kind": "BOOLEAN"},
        {"key": "size", "labelVi": "Kích thước", "labelEn": "Size", "kind": "CHOICE",
         "choices": ["nho", "lon"]},
        {"key": "kinds", "labelVi": "Loại rác", "labelEn": "Kinds", "kind": "MULTI_CHOICE",
         "choices": ["nhua", "giay", "kim-loai"]},
        {"key": "seen", "labelVi": "Ngày thấy", "labelEn": "Seen on", "kind": "DATE"},
    ]  # fmt: skip
    data = await gql.ok(
        CREATE_FIELD,
        {"i": {"code": code, "nameVi": "Rác thải kiểm thử", "nameEn": "Test litter",
               "questions": q}},
        token=admin,
    )  # fmt: skip
    assert data["createField"]["errors"] == [], data
    field = data["createField"]["field"]
    yield field
    # Sa Pa's demo fields are shared by every test (tests/api/test_smoke.py counts them).
    off = await gql.ok(DEACTIVATE_FIELD, {"i": {"id": field["id"], "active": False}}, token=admin)
    assert off["updateField"]["errors"] == []


def ok(response: httpx.Response, schema: dict[str, Any], status: int = 200) -> Any:
    assert response.status_code == status, response.text
    body = response.json()
    jsonschema.validate(body, schema)
    return body


async def count_reports(env: Env) -> int:
    async with scoped_transaction(env.scopes[OPERATOR]):
        return await Report.filter(tenant_id=env.tenant.id).count()


# --- the schemas themselves -------------------------------------------------------------------
def test_the_schemas_accept_the_specs_examples_and_refuse_its_bare_number() -> None:
    jsonschema.validate(schemas.SPEC_SERVICES_EXAMPLE, schemas.SERVICES)
    jsonschema.validate(schemas.SPEC_ERRORS_EXAMPLE, schemas.ERRORS)
    created = [{k: v for k, v in r.items() if v is not None} for r in schemas.SPEC_CREATED_EXAMPLE]
    jsonschema.validate(created, schemas.CREATED)
    example = [
        {k: v for k, v in r.items() if v is not None and k != "zipcode"}
        for r in schemas.SPEC_REQUESTS_EXAMPLE
    ]
    example[0]["media_url"] = example[0]["media_url"].strip()
    jsonschema.validate(example, schemas.REQUESTS)
    with pytest.raises(jsonschema.ValidationError):  # a timezone-less date
        jsonschema.validate([{**example[0], "requested_datetime": "2010-04-14T06:37:38"}],
                            schemas.REQUESTS)  # fmt: skip
    with pytest.raises(jsonschema.ValidationError):  # the spec's bare service_code 001
        jsonschema.validate([{**schemas.SPEC_SERVICES_EXAMPLE[0], "service_code": 1}],
                            schemas.SERVICES)  # fmt: skip


def test_every_state_maps_as_the_shared_table_says() -> None:
    """Written out independently from the mapping table of the Open311 notes."""
    closed = {"RESOLVED", "RATING_REVIEW", "CLOSED", "REJECTED", "DUPLICATE", "WITHDRAWN"}
    closed |= {"TRANSFERRED"}
    agency = {"ASSIGNED", "IN_PROGRESS", "RESULT_SUBMITTED", "RESOLVED", "RATING_REVIEW"}
    agency |= {"LEADER_REVIEW"}
    agency |= {"REOPENED", "CLOSED"}
    for state in ReportState:
        view = STATES[state]
        assert view.status is (Status.CLOSED if state.value in closed else Status.OPEN), state
        assert view.agency is (state.value in agency), state
    assert STATES[ReportState.SUBMITTED].expected.value == "screen_due_at"
    assert STATES[ReportState.NEED_INFO].expected is None
    assert STATES[ReportState.WITHDRAWN].expected is None


# --- client applications ----------------------------------------------------------------------
async def test_admins_register_list_and_revoke_clients_and_others_may_not(
    gql: GraphQLClient, admin: str, env: Env, client: httpx.AsyncClient, asked: dict[str, Any]
) -> None:
    data = await gql.ok(REGISTER, {"i": {"name": "Đối tác"}}, token=admin)
    created = data["registerOpen311Client"]
    key = created["apiKey"]
    listed = (await gql.ok(CLIENTS, token=admin))["open311Clients"]
    mine = [c for c in listed if c["id"] == created["client"]["id"]]
    assert mine and mine[0]["revokedAt"] is None and "apiKey" not in mine[0]
    async with scoped_transaction(env.scopes[OPERATOR]):
        from open311.models import Open311Client

        row = await Open311Client.get(id=uuid.UUID(relay.GlobalID.from_id(mine[0]["id"]).node_id))
    assert key not in (row.key_hash, row.key_prefix) and len(row.key_hash) == 64

    # An operator holds no tenant:manage: refused, nothing registered.
    refused = await gql(REGISTER, {"i": {"name": "x"}}, token=env.token(OPERATOR))
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    form = {"jurisdiction_id": "sa-pa", "api_key": key, "service_code": "nope"}
    assert (await client.post(f"{BASE}/requests.json", data=form)).status_code == 404  # key ok
    revoked = await gql.ok(REVOKE, {"id": created["client"]["id"]}, token=admin)
    assert revoked["revokeOpen311Client"]["client"]["revokedAt"] is not None
    answer = await client.post(f"{BASE}/requests.json", data=form)
    assert answer.status_code == 403
    assert ok(answer, schemas.ERRORS, 403)[0]["code"] == 403


# --- reads ------------------------------------------------------------------------------------
async def test_discovery_services_and_definitions(
    client: httpx.AsyncClient, asked: dict[str, Any]
) -> None:
    found = ok(await client.get(f"{BASE}/discovery.json"), schemas.DISCOVERY)
    assert found["endpoints"][0]["url"].endswith("/open311/v2")
    assert set(found["endpoints"][0]["formats"]) == {"text/xml", "application/json"}

    services = ok(await client.get(f"{BASE}/services.json?jurisdiction_id=sa-pa"),
                  schemas.SERVICES)  # fmt: skip
    by_code = {s["service_code"]: s for s in services}
    assert by_code[asked["code"]]["metadata"] is True
    assert by_code["ve-sinh-attp"]["metadata"] is False
    assert by_code["trat-tu-xa-hoi"]["keywords"] == "private"  # the sensitive field

    definition = ok(
        await client.get(f"{BASE}/services/{asked['code']}.json?jurisdiction_id=sa-pa"),
        schemas.SERVICE_DEFINITION,
    )
    kinds = {a["code"]: a["datatype"] for a in definition["attributes"]}
    assert kinds == {
        "note": "text",
        "count": "number",
        "blocked": "singlevaluelist",
        "size": "singlevaluelist",
        "kinds": "multivaluelist",
        "seen": "datetime",
    }
    orders = [a["order"] for a in definition["attributes"]]
    assert orders == sorted(set(orders))
    sensitive = ok(
        await client.get(f"{BASE}/services/trat-tu-xa-hoi.json?jurisdiction_id=sa-pa"),
        schemas.SERVICE_DEFINITION,
    )
    assert [(a["variable"], a["datatype"]) for a in sensitive["attributes"]] == [(False, "string")]

    xml = await client.get(f"{BASE}/services.xml?jurisdiction_id=sa-pa")
    assert xml.headers["content-type"] == "text/xml; charset=utf-8"
    root = ET.fromstring(xml.content)
    assert root.tag == "services"
    assert {s.findtext("service_code") for s in root.findall("service")} == set(by_code)
    definition_xml = ET.fromstring(
        (await client.get(f"{BASE}/services/{asked['code']}.xml?jurisdiction_id=sa-pa")).content
    )
    size = next(a for a in definition_xml.iter("attribute") if a.findtext("code") == "size")
    assert [v.findtext("key") for v in size.iter("value")] == ["nho", "lon"]
    assert size.findtext("required") == "false"


async def test_unknowns_answer_the_specs_errors(client: httpx.AsyncClient) -> None:
    cases = [
        (f"{BASE}/services.json", 400),  # no jurisdiction_id
        (f"{BASE}/services.json?jurisdiction_id=", 400),  # empty is absent
        (f"{BASE}/services.json?jurisdiction_id=atlantis", 404),
        (f"{BASE}/services/khong-co.json?jurisdiction_id=sa-pa", 404),
        (f"{BASE}/requests/SP-1999-000001.json?jurisdiction_id=sa-pa", 404),
        (f"{BASE}/tokens/abc.json?jurisdiction_id=sa-pa", 404),
        (f"{BASE}/requests.json?jurisdiction_id=sa-pa&start_date=2026-01-01T00:00:00", 400),
        (f"{BASE}/requests.json?jurisdiction_id=sa-pa&start_date=2026-01-01T00:00:00Z"
         "&end_date=2026-06-01T00:00:00Z", 400),  # more than 90 days
        (f"{BASE}/requests.json?jurisdiction_id=sa-pa&status=pending", 400),
        (f"{BASE}/requests.json?jurisdiction_id=sa-pa&page_size=5000", 400),
    ]  # fmt: skip
    for url, status in cases:
        ok(await client.get(url), schemas.ERRORS, status)
    xml = await client.get(f"{BASE}/services/khong-co.xml?jurisdiction_id=sa-pa")
    assert xml.status_code == 404 and xml_errors(xml.content)[0]["code"] == "404"


# --- writes -----------------------------------------------------------------------------------
async def test_refused_posts_create_nothing(
    client: httpx.AsyncClient, env: Env, api_key: str, asked: dict[str, Any]
) -> None:
    base = {"jurisdiction_id": "sa-pa", "api_key": api_key, "service_code": asked["code"],
            "lat": str(SAPA_POINT[0]), "long": str(SAPA_POINT[1]),
            "description": "Rác thải đổ trộm ven đường.", "attribute[count]": "3"}  # fmt: skip
    before = await count_reports(env)
    cases = [
        ({"api_key": ""}, 403),
        ({"api_key": "o311_wrong"}, 403),
        ({"service_code": ""}, 400),
        ({"service_code": "khong-co"}, 404),
        ({"jurisdiction_id": ""}, 400),
        ({"jurisdiction_id": "atlantis"}, 404),
        ({"long": ""}, 400),  # lat without long
        ({"lat": "", "long": ""}, 400),
        ({"description": "x" * 4001}, 400),
        ({"attribute[count]": ""}, 400),  # a required answer
        ({"attribute[count]": "ba"}, 400),  # not a number
        ({"attribute[size]": "vua"}, 400),  # not a choice
        ({"attribute[kinds][]": ["nhua", "go"]}, 400),
        ({"attribute[bogus]": "1"}, 400),
        ({"lat": "10.0", "long": "106.0"}, 400),  # outside Sa Pa
        ({"email": "khong-phai-email"}, 400),
        # Loopback is never fetched unless the deployment allows private hosts.
        ({"media_url": "http://127.0.0.1:9/photo.jpg"}, 400),
        ({"media_url": "file:///etc/passwd"}, 400),
    ]
    for change, status in cases:
        answer = await client.post(f"{BASE}/requests.json", data={**base, **change})
        errors = ok(answer, schemas.ERRORS, status)
        assert all(e["description"] for e in errors), change
    huge = await client.post(f"{BASE}/requests.json", data={**base, "note": "x" * 300_000})
    assert huge.status_code == 413  # refused by the route before the form is read
    assert await count_reports(env) == before
    bad = await client.post(f"{BASE}/requests.xml", data={**base, "attribute[count]": ""})
    assert "attribute[count]" in xml_errors(bad.content)[0]["description"]


async def test_an_open311_request_is_worked_in_graphql_and_read_back_closed(
    settings: Settings, database: DatabaseUrls, gql: GraphQLClient, env: Env, api_key: str,
    asked: dict[str, Any],
) -> None:  # fmt: skip
    """An independent client (written from the spec) against a real server."""
    photos = Starlette(
        routes=[Route("/p.jpg", lambda _: Response(jpeg(), media_type="image/jpeg"))]
    )
    private = settings.model_copy(update={"open311_media_private_hosts": True})
    app = create_app(private, database.app, manage_db=False)
    async with serving(photos) as photo_host, serving(app) as url:
        o311 = GeoReportClient(url + BASE, "sa-pa", api_key)
        assert asked["code"] in {s["service_code"] for s in await o311.services()}
        created = await o311.create(
            asked["code"], lat=SAPA_POINT[0], long=SAPA_POINT[1],
            description="Đống rác lớn cạnh chợ.\nCần thu gom gấp.", email="dan@example.vn",
            first_name="Thị", last_name="Mai", phone="0912345678", media_url=f"{photo_host}/p.jpg",
            attributes={"count": "2", "blocked": "true", "kinds": ["nhua", "giay"],
                        "seen": "2026-03-10T08:00:00+07:00"},
        )  # fmt: skip
        body = ok(created, schemas.CREATED)
        code = body[0]["service_request_id"]
        assert "+07:00" in body[0]["service_notice"]
        # Not public yet: 404 as if absent.
        assert (await o311.request(code)).status_code == 404

        # Visible and workable in GraphQL, with the answers as validated.
        async with scoped_transaction(env.scopes[OPERATOR]):
            report = await Report.get(tenant_id=env.tenant.id, code=code)
        assert report.answers == {"count": 2, "blocked": True, "kinds": ["nhua", "giay"],
                                  "seen": "2026-03-10"}  # fmt: skip
        assert report.title == "Đống rác lớn cạnh chợ."
        gid = str(relay.GlobalID("Report", str(report.id)))
        seen = await gql.ok(REPORT, {"id": gid}, token=env.token(OPERATOR))
        assert seen["node"]["state"] == "SUBMITTED"
        assert seen["node"]["channel"] == "OPEN311"  # counted by channel like any other
        assigned = await gql.ok(ASSIGN, {"i": {
            "id": gid, "version": seen["node"]["version"],
            "leadAgencyId": str(relay.GlobalID("Agency", str(env.health.id)))}},
            token=env.token(OPERATOR))  # fmt: skip
        assert assigned["assignReport"]["errors"] == []
        async with scoped_transaction(env.scopes[OPERATOR]):
            report = await Report.get(id=report.id)
        report = await service_step(env, CONTACT, report, A.ACCEPT)
        report = await service_step(env, HANDLER, report, A.SUBMIT_RESULT,
                                    comment="Đã thu gom xong.")  # fmt: skip
        await service_step(env, SUPERVISOR, report, A.APPROVE_RESULT, reason_code="FIXED")
        published = await gql.ok(PUBLISH, {"id": gid, "p": True}, token=env.token(SUPERVISOR))
        assert published["publishReport"]["errors"] == []

        (shown,) = ok(await o311.request(code), schemas.REQUESTS)
        assert shown["status"] == "closed" and shown["status_notes"] == "Đã thu gom xong."
        assert shown["agency_responsible"] == env.health.name_vi
        assert shown["requested_datetime"].endswith("+07:00")
        # The fetched photo, re-hosted without its EXIF (the phone's GPS position).
        async with httpx.AsyncClient() as http:
            fetched = await http.get(shown["media_url"])
        assert fetched.status_code == 200 and fetched.headers["content-type"] == "image/jpeg"
        assert not Image.open(io.BytesIO(fetched.content)).getexif()
        text = str(shown)
        for personal in ("dan@example.vn", "0912345678", "Mai"):
            assert personal not in text  # no personal data
        (as_xml,) = xml_requests((await o311.request(code, "xml")).content)
        assert as_xml["status"] == "closed" and as_xml["service_request_id"] == code

        listed = ok(await o311.requests(status="closed", service_code=asked["code"]),
                    schemas.REQUESTS)  # fmt: skip
        assert code in {r["service_request_id"] for r in listed}
        assert not ok(await o311.requests(status="open", service_code=asked["code"]),
                      schemas.REQUESTS)  # fmt: skip
        by_id = ok(await o311.requests(service_request_id=f"{code},SP-1999-000001",
                                       status="open"), schemas.REQUESTS)  # fmt: skip
        assert [r["service_request_id"] for r in by_id] == [code]  # ids override the rest
        # The paging extension, and a window that ends before the report was made.
        first = ok(await o311.requests(page_size=1), schemas.REQUESTS)
        assert len(first) == 1
        assert ok(await o311.requests(page_size=1000, page=1000), schemas.REQUESTS) == []
        now = datetime.now(UTC)
        earlier = ok(await o311.requests(
            start_date=(now - timedelta(days=200)).isoformat(),
            end_date=(now - timedelta(days=120)).isoformat()), schemas.REQUESTS)  # fmt: skip
        assert code not in {r["service_request_id"] for r in earlier}
        # The other tenant's jurisdiction does not know it.
        other = GeoReportClient(url + BASE, "lao-cai")
        assert (await other.request(code)).status_code == 404
        assert code not in {r["service_request_id"] for r in (await other.requests()).json()}


async def test_a_graphql_report_reads_over_open311_with_its_public_photo(
    client: httpx.AsyncClient, gql: GraphQLClient, env: Env
) -> None:
    submitted = await submitted_with_photo(client, env)
    await resolved_report(env, submitted["id"])
    published = await gql.ok(PUBLISH, {"id": submitted["id"], "p": True},
                             token=env.token(SUPERVISOR))  # fmt: skip
    assert published["publishReport"]["errors"] == []
    answer = await client.get(f"{BASE}/requests/{submitted['code']}.json?jurisdiction_id=sa-pa")
    (shown,) = ok(answer, schemas.REQUESTS)
    assert shown["service_code"] == "ve-sinh-attp" and shown["status"] == "closed"
    assert "?" not in shown["media_url"]  # the plain, public link
    photo = await client.get(shown["media_url"].removeprefix("http://paht.test"))
    assert photo.status_code == 200 and photo.headers["content-type"] == "image/jpeg"


async def test_submissions_are_limited_per_client_and_a_refusal_creates_nothing(
    client: httpx.AsyncClient, gql: GraphQLClient, admin: str, env: Env, asked: dict[str, Any]
) -> None:
    keys = []
    for name in ("Ứng dụng bận", "Ứng dụng khác"):
        data = await gql.ok(REGISTER, {"i": {"name": name}}, token=admin)
        created = data["registerOpen311Client"]
        keys.append((created["apiKey"], relay.GlobalID.from_id(created["client"]["id"]).node_id))
    (busy_key, busy_id), (other_key, _) = keys
    for _ in range(SUBMISSIONS.limit):  # the busy client's window is used up
        await throttle.take(SUBMISSIONS, busy_id, datetime.now(UTC))
    form = {"jurisdiction_id": "sa-pa", "service_code": asked["code"],
            "lat": str(SAPA_POINT[0]), "long": str(SAPA_POINT[1]),
            "description": "Rác ven suối.", "attribute[count]": "1"}  # fmt: skip
    before = await count_reports(env)
    refused = await client.post(f"{BASE}/requests.json", data={**form, "api_key": busy_key})
    errors = ok(refused, schemas.ERRORS, 400)
    assert errors[0]["description"].startswith("TOO_MANY_ATTEMPTS")
    assert int(refused.headers["retry-after"]) > 0
    assert await count_reports(env) == before
    accepted = await client.post(f"{BASE}/requests.json", data={**form, "api_key": other_key})
    ok(accepted, schemas.CREATED)
    assert await count_reports(env) == before + 1
