"""The province's escalation queue (issue 12, item 4: "the locality leader, then the province,
see it in an escalation queue"): the open reports escalated in any locality the provincial
caller reads, in one statement across those tenants — the audited cross-tenant read path (the
request's transaction lists them in ``app.tenant_ids``; RLS holds, and the query names them
too). Each line names its tenant: the province opens the report there (``X-Paht-Tenant``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from core.errors import NotFound, PermissionDenied, Validator
from core.glossary import Term
from permissions.actions import Action
from permissions.scope import Scope
from reports.models import Report
from reports.workflow import OPEN_STATES, EscalationLevel

MOST = 200  # lines in one answer: a queue to work through, not an export


async def province_escalations(
    scope: Scope,
    levels: Sequence[EscalationLevel] = (EscalationLevel.PROVINCE,),
    tenant_ids: Sequence[uuid.UUID] = (),
    first: int = 50,
) -> list[Report]:
    """Open escalated reports of the wanted tenants (default: every readable one): the highest
    level first, then the longest waiting."""
    if not scope.provincial:
        raise PermissionDenied(Action.REPORT_VIEW)
    scope.require(Action.REPORT_VIEW)
    v = Validator()
    if not 1 <= first <= MOST:
        v.add(
            "INVALID",
            "first",
            f"Số dòng phải từ 1 đến {MOST}.",
            f"Between 1 and {MOST} lines may be asked for.",
        )
    if not levels:
        v.add("REQUIRED", "levels", "Cần ít nhất một cấp.", "At least one level is needed.")
    v.check()
    for i, tenant_id in enumerate(tenant_ids):
        if tenant_id not in scope.readable_tenant_ids:
            raise NotFound(Term.TENANT, f"tenantIds[{i}]")
    wanted = list(dict.fromkeys(tenant_ids)) or sorted(scope.readable_tenant_ids)
    rows: list[Report] = []
    for level in reversed(EscalationLevel):  # the province's own first
        if level in levels and len(rows) < first:
            rows += (
                await Report.filter(
                    tenant_id__in=wanted,
                    escalation=level.value,
                    state__in=[s.value for s in OPEN_STATES],
                )
                .order_by("escalated_at", "id")
                .limit(first - len(rows))
            )
    return rows
