"""Dashboard counts come from trigger-maintained counters and stay exact through transitions."""

from __future__ import annotations

import uuid
from typing import Any

from permissions.session import scoped_transaction
from permissions.store import store
from reports.models import Report
from reports.service import AssignInput, SubmitInput, submit_report, transition
from reports.workflow import WorkflowAction as A
from tenants.models import Agency, Field
from tests.conftest import GraphQLClient
from tests.factories import user_named
from tests.statements import count_statements

STATS = """{ reportStats { total open overdue byState { state count }
                          byField { field { code } count open } } }"""


async def test_counts_follow_submissions_and_transitions(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    tenant = pilot["tenants"]["lao-cai"]
    supervisor = await gql.login("laocai.centre-supervisor", pilot["password"])
    before = (await gql.ok(STATS, token=supervisor))["reportStats"]

    citizen = await store.scope_for((await user_named("laocai.citizen")).id, tenant.id)
    operator = await store.scope_for((await user_named("laocai.intake-operator")).id, tenant.id)
    async with scoped_transaction(operator):
        field = await Field.get(tenant_id=tenant.id, code="du-lich")
        agency = await Agency.filter(tenant_id=tenant.id).first()
    assert agency is not None
    reports: list[Report] = []
    for i in range(3):
        async with scoped_transaction(citizen):
            result = await submit_report(
                citizen,
                SubmitInput(
                    title=f"Thống kê kiểm thử {i}",
                    description="x",
                    field_id=field.id,
                    latitude=22.486,
                    longitude=103.97,
                    idempotency_key=uuid.uuid4().hex,
                ),
            )
        reports.append(result.report)
    async with scoped_transaction(operator):
        await transition(
            operator,
            reports[0].id,
            A.ASSIGN,
            reports[0].version,
            assign=AssignInput(lead_agency_id=agency.id),
        )
        await transition(
            operator,
            reports[1].id,
            A.REJECT,
            reports[1].version,
            reason_code="OUT_OF_SCOPE",
            comment="Không thuộc phạm vi.",
        )

    with count_statements() as statements:
        after = (await gql.ok(STATS, token=supervisor))["reportStats"]
    assert len(statements) == 4, statements  # set_config, counters, overdue count, fields

    def by_state(stats: dict[str, Any]) -> dict[str, int]:
        return {row["state"]: row["count"] for row in stats["byState"]}

    delta = {
        s: by_state(after).get(s, 0) - by_state(before).get(s, 0)
        for s in set(by_state(after)) | set(by_state(before))
    }
    assert {s: d for s, d in delta.items() if d} == {"SUBMITTED": 1, "ASSIGNED": 1, "REJECTED": 1}
    assert after["total"] - before["total"] == 3
    assert after["open"] - before["open"] == 2
    field_after = {f["field"]["code"]: f for f in after["byField"]}
    field_before = {f["field"]["code"]: f for f in before["byField"]}
    assert field_after["du-lich"]["count"] - field_before.get("du-lich", {"count": 0})["count"] == 3

    # The counters equal a direct count.
    async with scoped_transaction(operator):
        direct = await Report.filter(tenant_id=tenant.id).count()
    assert after["total"] == direct


async def test_stats_need_permission(gql: GraphQLClient, pilot: dict[str, Any]) -> None:
    token = await gql.login("laocai.handler", pilot["password"])
    body = await gql(STATS, token=token)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
