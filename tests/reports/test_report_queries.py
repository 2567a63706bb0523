"""Reading reports over GraphQL: scope compiled into SQL, keyset pages, fixed statement counts,
privacy of sensitive fields, and the public feed."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from api.schema import schema
from permissions.scope import Scope
from permissions.session import scoped_transaction
from permissions.store import store
from reports.models import Report
from reports.service import AssignInput, ContactInput, SubmitInput, submit_report, transition
from reports.workflow import WorkflowAction as A
from tenants.models import Agency, Field
from tests.conftest import GraphQLClient
from tests.factories import (
    all_reports,
    assign_report_as,
    involves,
    onboard_locality,
    submit_report_as,
    user_named,
    user_with_grants,
)
from tests.statements import count_statements
from tests.support.workflow import gid

SAPA_POINT = (22.332, 103.842)
LIST = """
query($first: Int, $after: String, $filter: ReportFilter) {
  reports(first: $first, after: $after, filter: $filter) {
    edges { cursor node {
      id code title state urgency createdAt dueAt overdue
      field { code name } leadAgency { code } administrativeUnit { name }
      lastEvent { action toState } attachments { thumbnailUrl }
    } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}"""


async def scope_of(username: str, tenant_id: uuid.UUID) -> Scope:
    user = await user_named(username)
    return await store.scope_for(user.id, tenant_id)


@pytest.fixture(scope="module")
async def world(pilot: dict[str, Any], gql: GraphQLClient) -> dict[str, Any]:
    """60 Sa Pa reports: 40 food-safety ones (half routed to the health office, half to urban
    management), 20 social-order ones (a sensitive field) with reporter contacts."""
    tenant = pilot["tenants"]["sa-pa"]
    citizen = await scope_of("sapa.citizen", tenant.id)
    operator = await scope_of("sapa.intake-operator", tenant.id)
    async with scoped_transaction(operator):
        food = await Field.get(tenant_id=tenant.id, code="ve-sinh-attp")
        social = await Field.get(tenant_id=tenant.id, code="trat-tu-xa-hoi")
        health = await Agency.get(tenant_id=tenant.id, id=food.default_agency_id)
        urban = await Agency.get(tenant_id=tenant.id, code="phong-qldt")
    reports: list[Report] = []
    for i in range(60):
        field = food if i < 40 else social
        async with scoped_transaction(citizen):
            result = await submit_report(
                citizen,
                SubmitInput(
                    title=f"Phản ánh kiểm thử số {i:03d}",
                    description="Mô tả chi tiết.",
                    field_id=field.id,
                    latitude=SAPA_POINT[0] + i * 1e-5,
                    longitude=SAPA_POINT[1] + i * 1e-5,
                    address=f"Số {i} đường Cầu Mây",
                    idempotency_key=uuid.uuid4().hex,
                    contact=ContactInput("Nguyễn Văn A", "0912345678") if i >= 40 else None,
                ),
            )
        report = result.report
        if i < 40:
            agency = health if i % 2 == 0 else urban
            async with scoped_transaction(operator):
                report = await transition(
                    operator,
                    report.id,
                    A.ASSIGN,
                    report.version,
                    assign=AssignInput(lead_agency_id=agency.id),
                )
        reports.append(report)
    tokens = {
        name: await gql.login(f"sapa.{name}", pilot["password"])
        for name in (
            "intake-operator",
            "handler",
            "coordinating-unit",
            "citizen",
            "centre-supervisor",
        )
    }
    return {
        "tenant": tenant,
        "reports": reports,
        "food": food,
        "social": social,
        "health": health,
        "urban": urban,
        "tokens": tokens,
        "pilot": pilot,
    }


async def list_reports(gql: GraphQLClient, token: str, **variables: Any) -> dict[str, Any]:
    return (await gql.ok(LIST, variables, token=token))["reports"]


async def submit_food_reports(world: dict[str, Any], n: int) -> list[Report]:
    citizen = await scope_of("sapa.citizen", world["tenant"].id)
    reports = []
    for i in range(n):
        async with scoped_transaction(citizen):
            result = await submit_report(
                citizen,
                SubmitInput(
                    title=f"Phản ánh phối hợp {i}",
                    description="Mô tả.",
                    field_id=world["food"].id,
                    latitude=SAPA_POINT[0],
                    longitude=SAPA_POINT[1],
                    idempotency_key=uuid.uuid4().hex,
                ),
            )
        reports.append(result.report)
    return reports


async def test_statement_count_is_fixed_whatever_the_page_size(
    gql: GraphQLClient, world: dict[str, Any]
) -> None:
    token = world["tokens"]["intake-operator"]
    counts = {}
    assigned = {"states": ["ASSIGNED"]}  # every row has a field, lead agency, unit and events
    await list_reports(gql, token, first=1, filter=assigned)  # warms the tenant catalog
    for size in (1, 5, 20, 40):
        with count_statements() as statements:
            page = await list_reports(gql, token, first=size, filter=assigned)
        assert len(page["edges"]) == size
        assert all(e["node"]["leadAgency"] for e in page["edges"])
        assert all(e["node"]["administrativeUnit"] for e in page["edges"])
        counts[size] = len(statements)
    # set_config, the page, then one query each for last events and attachments; fields,
    # agencies and units come from the per-process tenant catalog.
    assert set(counts.values()) == {4}, counts

    # Cold catalog (after a configuration change): three more queries, still per page.
    from tenants import catalog

    catalog.invalidate()
    with count_statements() as statements:
        await list_reports(gql, token, first=40, filter=assigned)
    assert len(statements) == 7, statements


async def test_keyset_pages_are_disjoint_ordered_and_stable_under_inserts(
    gql: GraphQLClient, world: dict[str, Any]
) -> None:
    token = world["tokens"]["intake-operator"]
    seen: list[str] = []
    created: list[str] = []
    after = None
    while True:
        page = await list_reports(gql, token, first=25, after=after)
        seen += [e["node"]["id"] for e in page["edges"]]
        created += [e["node"]["createdAt"] for e in page["edges"]]
        if len(seen) == 25:
            # A report arriving mid-pagination appears on no later page and moves nothing.
            arrived = await gql.ok(
                """mutation($i: SubmitReportInput!) { submitReport(input: $i) {
                     report { id } errors { code } } }""",
                {
                    "i": {
                        "title": "Phản ánh mới giữa chừng",
                        "description": "x",
                        "fieldId": gid("Field", world["food"].id),
                        "latitude": SAPA_POINT[0],
                        "longitude": SAPA_POINT[1],
                    }
                },
                token=world["tokens"]["citizen"],
            )
            assert arrived["submitReport"]["errors"] == [], arrived
            late = arrived["submitReport"]["report"]["id"]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen))
    assert late not in seen
    assert created == sorted(created, reverse=True)
    ours = {gid("Report", r.id) for r in world["reports"]}
    assert ours <= set(seen)


async def test_backwards_pages(gql: GraphQLClient, world: dict[str, Any]) -> None:
    token = world["tokens"]["intake-operator"]
    first = await list_reports(gql, token, first=10)
    second = await list_reports(gql, token, first=10, after=first["pageInfo"]["endCursor"])
    query = """query($before: String) { reports(last: 10, before: $before) {
        edges { node { id } } pageInfo { hasPreviousPage hasNextPage } } }"""
    cursor = second["edges"][0]["cursor"]
    back = (await gql.ok(query, {"before": cursor}, token=token))["reports"]
    assert [e["node"]["id"] for e in back["edges"]] == [e["node"]["id"] for e in first["edges"]]
    assert back["pageInfo"]["hasNextPage"] is True


async def test_handler_sees_what_its_agency_leads_or_coordinates(
    gql: GraphQLClient, world: dict[str, Any]
) -> None:
    # One report led by urban management with the health office coordinating, one without.
    joint, alone = await submit_food_reports(world, 2)
    operator = await scope_of("sapa.intake-operator", world["tenant"].id)
    async with scoped_transaction(operator):
        for report, coordinating in ((joint, (world["health"].id,)), (alone, ())):
            await transition(
                operator,
                report.id,
                A.ASSIGN,
                report.version,
                assign=AssignInput(world["urban"].id, coordinating),
            )
    # The truth from the unnarrowed operator: whatever other tests added to Sa Pa, the handler
    # lists exactly what the health office leads or coordinates.
    everything = await all_reports(gql, world["tokens"]["intake-operator"])
    health = gid("Agency", world["health"].id)
    expected = {rid for rid, report in everything.items() if involves(report, health)}
    listed = await all_reports(gql, world["tokens"]["handler"])
    assert set(listed) == expected
    assert {
        gid("Report", r.id) for r in world["reports"] if r.lead_agency_id == world["health"].id
    } <= expected
    # A report of another agency is "not found" for the handler, by ID and by code.
    other = next(r for r in world["reports"] if r.lead_agency_id == world["urban"].id)
    data = await gql.ok(
        "query($id: ID!, $c: String!) { report(id: $id) { id } reportByCode(code: $c) { id } }",
        {"id": gid("Report", other.id), "c": other.code},
        token=world["tokens"]["handler"],
    )
    assert data == {"report": None, "reportByCode": None}


async def test_filters(gql: GraphQLClient, world: dict[str, Any]) -> None:
    token = world["tokens"]["intake-operator"]
    social = await list_reports(
        gql, token, first=100, filter={"fieldIds": [gid("Field", world["social"].id)]}
    )
    assert {e["node"]["field"]["code"] for e in social["edges"]} == {"trat-tu-xa-hoi"}
    assigned = await list_reports(gql, token, first=100, filter={"states": ["ASSIGNED"]})
    assert assigned["edges"] and {e["node"]["state"] for e in assigned["edges"]} == {"ASSIGNED"}
    text = await list_reports(gql, token, first=100, filter={"text": "kiểm thử số 007"})
    assert [e["node"]["title"] for e in text["edges"]] == ["Phản ánh kiểm thử số 007"]
    box = [
        SAPA_POINT[1] + 9.5e-5,
        SAPA_POINT[0] + 9.5e-5,
        SAPA_POINT[1] + 12.5e-5,
        SAPA_POINT[0] + 12.5e-5,
    ]
    boxed = await list_reports(gql, token, first=100, filter={"bbox": box})
    titles = sorted(e["node"]["title"] for e in boxed["edges"])
    assert titles == [f"Phản ánh kiểm thử số {i:03d}" for i in (10, 11, 12)]


async def test_reporter_and_sensitive_location(gql: GraphQLClient, world: dict[str, Any]) -> None:
    report = world["reports"][45]  # social order: sensitive field, with a contact
    query = """query($id: ID!) { node(id: $id) { ... on Report {
        reporter { name phone } location { latitude longitude precise } } } }"""
    variables = {"id": gid("Report", report.id)}
    operator = (await gql.ok(query, variables, token=world["tokens"]["intake-operator"]))["node"]
    assert operator["reporter"] == {"name": "Nguyễn Văn A", "phone": "0912345678"}
    assert operator["location"] == {
        "latitude": report.latitude,
        "longitude": report.longitude,
        "precise": True,
    }
    # The coordinating unit may see the report only if it coordinates it; give it a food one.
    food = world["reports"][0]
    coord = (
        await gql.ok(
            query, {"id": gid("Report", food.id)}, token=world["tokens"]["coordinating-unit"]
        )
    )["node"]
    assert coord is not None and coord["reporter"] is None  # no report:view_reporter


async def test_public_feed_has_no_personal_data(gql: GraphQLClient, world: dict[str, Any]) -> None:
    tenant = world["tenant"]
    social = world["reports"][50]
    supervisor = await scope_of("sapa.centre-supervisor", tenant.id)
    async with scoped_transaction(supervisor):
        await Report.filter(id=social.id).update(published=True)
    response = await gql.http.post(
        "/graphql",
        json={
            "query": "{ publicReports(first: 100) { edges { node { "
            "code address location { latitude longitude precise } } } } }"
        },
        headers={"X-Paht-Tenant": "sa-pa"},
    )
    body = response.json()
    assert "errors" not in body, body
    nodes = {e["node"]["code"]: e["node"] for e in body["data"]["publicReports"]["edges"]}
    assert social.code in nodes
    assert nodes[social.code]["location"]["precise"] is False
    assert nodes[social.code]["location"]["latitude"] == round(social.latitude, 2)
    assert nodes[social.code]["address"] == ""
    assert world["reports"][0].code not in nodes  # unpublished reports stay out
    names = set(schema._schema.get_type("PublicReport").fields)
    assert not names & {"reporter", "phone", "email", "reporterUserId"}


async def test_overdue_filter_and_due_order(gql: GraphQLClient, world: dict[str, Any]) -> None:
    from datetime import UTC, datetime, timedelta

    operator = await scope_of("sapa.intake-operator", world["tenant"].id)
    # Three reports of its own (the module's world is left as it is), assigned, whose accept
    # deadline is long behind us: more overdue than anything another test could leave in Sa Pa.
    late = await submit_food_reports(world, 3)
    async with scoped_transaction(operator):
        for hours, report in zip((30, 10, 20), late, strict=True):
            await transition(
                operator,
                report.id,
                A.ASSIGN,
                report.version,
                assign=AssignInput(lead_agency_id=world["health"].id),
            )
            await Report.filter(id=report.id).update(
                accept_due_at=datetime.now(UTC) - timedelta(days=365 + hours)
            )
    token = world["tokens"]["intake-operator"]
    query = """query($f: ReportFilter, $after: String) {
      reports(filter: $f, orderBy: DUE_ASC, first: 2, after: $after) {
        edges { node { id overdue dueIn } } pageInfo { hasNextPage endCursor } } }"""
    f = {"overdue": True, "fieldIds": [gid("Field", world["food"].id)]}
    seen, after = [], None
    while True:
        page = (await gql.ok(query, {"f": f, "after": after}, token=token))["reports"]
        seen += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # Most overdue first: 30 h, 20 h, 10 h late. Other tests leave overdue reports of this
    # field too (those run on a clock stopped in the past), so only the order of these counts.
    mine = {gid("Report", r.id) for r in late}
    ids = [n["id"] for n in seen if n["id"] in mine]
    assert ids == [gid("Report", late[i].id) for i in (0, 2, 1)]
    assert all(n["overdue"] and n["dueIn"] < 0 for n in seen)
    on_time = await list_reports(gql, token, first=100, filter={"overdue": False})
    assert not {gid("Report", r.id) for r in late} & {e["node"]["id"] for e in on_time["edges"]}


async def test_renamed_agency_shows_at_once(gql: GraphQLClient, pilot: dict[str, Any]) -> None:
    """The tenant catalog behind list rows is dropped when the tenant admin edits agencies. In
    a locality of its own: renaming a shared (demo) agency would change what others read."""
    town = await onboard_locality(gql, pilot, prefix="ren")
    citizen = await user_with_grants(gql, town, "dan", {"role": "citizen"})
    operator = await user_with_grants(gql, town, "op", {"role": "intake_operator"})
    agency = gid("Agency", town["agencies"]["phong-qldt"])
    report = await submit_report_as(
        gql, citizen, gid("Field", town["fields"]["ha-tang"]), "Ổ gà trên đường"
    )
    await assign_report_as(gql, operator, report, agency)
    query = "{ reports(first: 1) { nodes { leadAgency { nameVi } } } }"
    before = await gql.ok(query, token=operator)
    assert before["reports"]["nodes"] == [{"leadAgency": {"nameVi": "Phòng QLĐT"}}]
    renamed = await gql.ok(
        """mutation($i: UpdateAgencyInput!) { updateAgency(input: $i) {
             agency { nameVi } errors { code } } }""",
        {"i": {"id": agency, "nameVi": "Phòng QLĐT mới"}},
        token=town["admin"],
    )
    assert renamed["updateAgency"]["errors"] == [], renamed
    after = await gql.ok(query, token=operator)
    assert after["reports"]["nodes"] == [{"leadAgency": {"nameVi": "Phòng QLĐT mới"}}]


async def test_the_database_runs_the_same_deadline_as_the_workflow(
    database: Any,
) -> None:
    """report.due_at is kept by a trigger (migration 0004); dueAt reads RUNNING_STAGE. The
    two must name the same deadline for every state."""
    import re

    from tortoise import connections

    from reports.workflow import RUNNING_STAGE

    rows = await connections.get("default").execute_query_dict(
        "SELECT prosrc FROM pg_proc WHERE proname = 'report_running_due'"
    )
    pairs = dict(re.findall(r"WHEN '(\w+)' THEN NEW\.(\w+)_due_at", rows[0]["prosrc"]))
    assert pairs == {state.value: stage.value for state, stage in RUNNING_STAGE.items()}
