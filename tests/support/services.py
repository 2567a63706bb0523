"""Service-level shortcuts for report tests: the Sa Pa world, submissions, steps and events,
called as the services are, inside the caller's scoped transaction."""

from __future__ import annotations

import uuid
from typing import Any

from permissions.scope import Scope
from permissions.session import scoped_transaction
from permissions.store import store
from reports.models import Report, ReportEvent
from reports.service import (
    AssignInput,
    SubmitInput,
    submit_report,
    transition,
)
from reports.workflow import WorkflowAction as A
from tenants.models import Agency, Field
from tests.factories import user_named

# Inside the demo polygon of Phường Sa Pa (unit 03001), lon/lat.
SAPA_POINT = (22.332, 103.842)


async def scope_of(pilot: dict[str, Any], username: str, tenant: str = "sa-pa") -> Scope:
    user = await user_named(username)
    return await store.scope_for(user.id, pilot["tenants"][tenant].id)


def new_input(sapa: dict[str, Any], **overrides: Any) -> SubmitInput:
    values: dict[str, Any] = {
        "title": "Quán ăn xả rác ra suối",
        "description": "Rác thải sinh hoạt đổ xuống suối cạnh chợ.",
        "field_id": sapa["field"].id,
        "latitude": SAPA_POINT[0],
        "longitude": SAPA_POINT[1],
        "address": "Chợ Sa Pa",
        "idempotency_key": uuid.uuid4().hex,
        **overrides,
    }
    return SubmitInput(**values)


async def submit(sapa: dict[str, Any], **overrides: Any) -> Report:
    async with scoped_transaction(sapa["citizen"]):
        result = await submit_report(sapa["citizen"], new_input(sapa, **overrides))
    assert result.created
    return result.report


async def step(scope: Scope, report: Report, action: A, **kwargs: Any) -> Report:
    async with scoped_transaction(scope):
        return await transition(scope, report.id, action, report.version, **kwargs)


async def events(scope: Scope, report_id: uuid.UUID) -> list[ReportEvent]:
    async with scoped_transaction(scope):
        return await ReportEvent.filter(report_id=report_id).order_by("created_at", "id")


ROLES = {
    "citizen": "sapa.citizen",
    "operator": "sapa.intake-operator",
    "contact": "sapa.agency-contact",
    "handler": "sapa.handler",
    "supervisor": "sapa.centre-supervisor",
    "coordinating": "sapa.coordinating-unit",
}


async def sapa_env(pilot: dict[str, Any]) -> dict[str, Any]:
    """Sa Pa's demo users (agency-bound ones belong to the health office) and reference rows."""
    tenant = pilot["tenants"]["sa-pa"]
    scopes = {key: await scope_of(pilot, name) for key, name in ROLES.items()}
    async with scoped_transaction(scopes["operator"]):
        food = await Field.get(tenant_id=tenant.id, code="ve-sinh-attp")
        health = await Agency.get(tenant_id=tenant.id, id=food.default_agency_id)
        urban = await Agency.get(tenant_id=tenant.id, code="phong-qldt")
    return {"tenant": tenant, "field": food, "health": health, "urban": urban, **scopes}


async def in_progress(sapa: dict[str, Any], **assign: Any) -> Report:
    report = await submit(sapa)
    report = await step(
        sapa["operator"], report, A.ASSIGN, assign=AssignInput(sapa["health"].id, **assign)
    )
    return await step(sapa["contact"], report, A.ACCEPT)


async def fresh(scope: Scope, report_id: uuid.UUID) -> Report:
    """The report as it is now in the database."""
    async with scoped_transaction(scope):
        return await Report.get(id=report_id)
