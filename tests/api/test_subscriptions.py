"""Subscriptions over a real WebSocket (graphql-transport-ws) against a real uvicorn server:
authentication in connection_init, tenant isolation and scope narrowing of live events."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
import websockets
from strawberry import relay

from permissions.session import tenant_transaction
from tenants.models import Field, Tenant
from tests.conftest import GraphQLClient
from tests.factories import next_message, subscribers_registered, subscription

SUBMIT = """mutation($i: SubmitReportInput!) {
  submitReport(input: $i) { report { id code } errors { code message } } }"""


@pytest.fixture(scope="module")
async def server(ws_server: str) -> str:
    return ws_server


async def food_field(tenant_code: str) -> Field:
    tenant = await Tenant.get(code=tenant_code)
    async with tenant_transaction(tenant.id):
        return await Field.get(code="ve-sinh-attp", tenant_id=tenant.id)


async def submit(
    gql: GraphQLClient, token: str, tenant_code: str, point: tuple[float, float], title: str
) -> dict[str, Any]:
    field = await food_field(tenant_code)
    data = await gql.ok(
        SUBMIT,
        {
            "i": {
                "title": title,
                "description": "Thông báo trực tiếp.",
                "fieldId": str(relay.GlobalID("Field", str(field.id))),
                "latitude": point[0],
                "longitude": point[1],
                "idempotencyKey": uuid.uuid4().hex,
            }
        },
        token=token,
    )
    assert data["submitReport"]["errors"] == [], data
    return data["submitReport"]["report"]


SAPA = (22.332, 103.842)


async def lao_cai_point() -> tuple[float, float]:
    from shapely.geometry import shape

    from tenants.models import AdministrativeUnit

    tenant = await Tenant.get(code="lao-cai")
    unit = await AdministrativeUnit.filter(
        code__in=tenant.unit_codes, boundary__not_isnull=True
    ).first()
    assert unit is not None
    point = shape(unit.boundary).representative_point()
    return point.y, point.x


async def test_operator_receives_activity_of_its_tenant_only(
    server: str, gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    password = pilot["password"]
    sapa_operator = await gql.login("sapa.intake-operator", password)
    laocai_operator = await gql.login("laocai.intake-operator", password)
    citizen = await gql.login("sapa.citizen", password)
    async with (
        subscription(server, {"Authorization": f"Bearer {sapa_operator}"}) as sapa_ws,
        subscription(server, {"Authorization": f"Bearer {laocai_operator}"}) as laocai_ws,
    ):
        await subscribers_registered(pilot["tenants"]["sa-pa"].id, 1)
        await subscribers_registered(pilot["tenants"]["lao-cai"].id, 1)
        report = await submit(gql, citizen, "sa-pa", SAPA, "Phản ánh trực tiếp Sa Pa")
        message = await next_message(sapa_ws)
        assert message["type"] == "next", message
        assert message["payload"]["data"]["reportActivity"] == {
            "reportId": report["id"],
            "code": report["code"],
            "state": "SUBMITTED",
            "action": "SUBMIT",
        }
        # Lào Cai's operator hears nothing of Sa Pa ...
        with pytest.raises(asyncio.TimeoutError):
            await next_message(laocai_ws, seconds=1)
        # ... but does hear its own tenant.
        laocai_citizen = await gql.login("laocai.citizen", password)
        own = await submit(
            gql, laocai_citizen, "lao-cai", await lao_cai_point(), "Phản ánh trực tiếp Lào Cai"
        )
        message = await next_message(laocai_ws)
        assert message["payload"]["data"]["reportActivity"]["reportId"] == own["id"]


async def test_citizen_hears_only_own_reports(
    server: str, gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    password = pilot["password"]
    citizen = await gql.login("sapa.citizen", password)
    operator = await gql.login("sapa.intake-operator", password)
    async with subscription(server, {"Authorization": f"Bearer {citizen}"}) as ws:
        await subscribers_registered(pilot["tenants"]["sa-pa"].id, 1)
        # Submitted on behalf of a caller by the operator: not the citizen's report.
        field = await food_field("sa-pa")
        other = await gql.ok(
            SUBMIT,
            {
                "i": {
                    "title": "Nhập thay người gọi điện",
                    "description": "Đường dây nóng.",
                    "fieldId": str(relay.GlobalID("Field", str(field.id))),
                    "latitude": SAPA[0],
                    "longitude": SAPA[1],
                    "onBehalf": True,
                    "contact": {"name": "Người gọi", "phone": "0900000000"},
                }
            },
            token=operator,
        )
        assert other["submitReport"]["errors"] == []
        mine = await submit(gql, citizen, "sa-pa", SAPA, "Phản ánh của tôi")
        message = await next_message(ws)
        assert message["payload"]["data"]["reportActivity"]["reportId"] == mine["id"]


async def test_bad_token_is_rejected_and_anonymous_may_not_subscribe(server: str) -> None:
    async with websockets.connect(server, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(
            json.dumps(
                {"type": "connection_init", "payload": {"Authorization": "Bearer not-a-token"}}
            )
        )
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 5)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403
    async with subscription(server, {"tenant": "sa-pa"}) as ws:
        message = await next_message(ws)
        assert message["type"] == "error", message
        assert message["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
