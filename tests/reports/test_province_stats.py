"""The provincial overview reads every tenant through the audited cross-tenant path."""

from __future__ import annotations

from typing import Any

from tests.conftest import GraphQLClient

PROVINCE = """{ provinceStats { tenant { code } total open overdue byState { state count } } }"""
TENANT = "{ reportStats { total open overdue } }"


async def test_province_sees_every_tenant_side_by_side(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    province = await gql.login("tinh.admin", pilot["password"])
    rows = {
        r["tenant"]["code"]: r for r in (await gql.ok(PROVINCE, token=province))["provinceStats"]
    }
    assert {"lao-cai", "sa-pa"} <= set(rows)
    for code, username in (
        ("sa-pa", "sapa.centre-supervisor"),
        ("lao-cai", "laocai.centre-supervisor"),
    ):
        own = (await gql.ok(TENANT, token=await gql.login(username, pilot["password"])))[
            "reportStats"
        ]
        assert {k: rows[code][k] for k in ("total", "open", "overdue")} == own
        assert sum(s["count"] for s in rows[code]["byState"]) == own["total"]


async def test_only_the_province_gets_the_overview(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    supervisor = await gql.login("sapa.centre-supervisor", pilot["password"])
    body = await gql(PROVINCE, token=supervisor)  # has stats:view, but only for Sa Pa
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert body["data"] is None


async def test_the_province_acts_inside_one_named_tenant(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    province = await gql.login("tinh.admin", pilot["password"])
    query = "{ currentTenant { code } agencies { code } reports(first: 1) { nodes { code } } }"

    async def as_province(tenant: str | None) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {province}", "Accept-Language": "en"}
        if tenant:
            headers["X-Paht-Tenant"] = tenant
        response = await gql.http.post("/graphql", json={"query": query}, headers=headers)
        return response.json()

    inside = await as_province("sa-pa")
    assert "errors" not in inside, inside
    assert inside["data"]["currentTenant"] == {"code": "sa-pa"}
    sapa_admin = await gql.login("sapa.admin", pilot["password"])
    own = await gql.ok("{ agencies { code } }", token=sapa_admin)
    assert inside["data"]["agencies"] == own["agencies"]
    assert all(n["code"].startswith("SP-") for n in inside["data"]["reports"]["nodes"])

    outside = await as_province(None)  # no tenant named: tenant-level reads need one
    assert outside["errors"][0]["extensions"]["code"] == "TENANT_REQUIRED"
    # A tenant-bound token cannot switch tenants with the header.
    body = await gql.http.post(
        "/graphql",
        json={"query": "{ currentTenant { code } }"},
        headers={"Authorization": f"Bearer {sapa_admin}", "X-Paht-Tenant": "lao-cai"},
    )
    assert body.json()["data"]["currentTenant"] == {"code": "sa-pa"}
