"""``provinceEscalations``: the province's escalation queue across its localities
(reports/province_queue.py). A line is a summary with its tenant; the report itself is read in
that tenant, as every report is."""

from __future__ import annotations

import datetime

import strawberry
from strawberry import relay

from core.graphql import Info
from core.relay import decode
from permissions.actions import Action
from permissions.graphql import requires
from reports import province_queue
from reports.schema.parts import EscalationLevel, ReportState
from tenants.models import Tenant as TenantRow
from tenants.types import Tenant


@strawberry.type(description="An open report escalated in one of the province's localities.")
class EscalatedReport:
    tenant: Tenant
    report_id: relay.GlobalID = strawberry.field(
        description="The report, to be read in its tenant (`X-Paht-Tenant`)."
    )
    code: str
    title: str
    state: ReportState
    escalation: EscalationLevel
    escalated_at: datetime.datetime
    due_at: datetime.datetime | None = strawberry.field(
        description="The running deadline (null: none running)."
    )


@strawberry.type
class EscalationQuery:
    @strawberry.field(
        extensions=requires(Action.REPORT_VIEW),
        description="Provincial administrators: open reports escalated in the localities they "
        "read (`tenantIds`: only these), the highest level first, then the longest waiting; "
        "`levels` defaults to the province's own.",
    )
    async def province_escalations(
        self,
        info: Info,
        levels: list[EscalationLevel] | None = None,
        tenant_ids: list[relay.GlobalID] | None = None,
        first: int = 50,
    ) -> list[EscalatedReport]:
        wanted = [decode(t, "Tenant", f"tenantIds[{i}]") for i, t in enumerate(tenant_ids or ())]
        chosen = [EscalationLevel.PROVINCE] if levels is None else levels
        rows = await province_queue.province_escalations(info.context.scope, chosen, wanted, first)
        tenants = {t.id: t for t in await TenantRow.filter(id__in={r.tenant_id for r in rows})}
        return [
            EscalatedReport(
                tenant=Tenant.from_row(tenants[r.tenant_id]),
                report_id=relay.GlobalID("Report", str(r.id)),
                code=r.code,
                title=r.title,
                state=ReportState(r.state),
                escalation=EscalationLevel(str(r.escalation)),
                escalated_at=r.escalated_at or r.updated_at,
                due_at=r.due_at,
            )
            for r in rows
        ]
