"""Personal-data retention (Nghị định 13/2023/NĐ-CP; docs/domain.md §14): a reporter's contact
data is kept only as long as the report needs it. Once a report has been finished for the
tenant's ``contact_retention_days`` (tenants/options.py), the background pass blanks the name,
phone and e-mail given with it and stamps ``anonymised_at``; the report, its history and the
statistics stay (none of them hold the contact).

Suspended and archived tenants are read-only, but their contacts still expire: the pass lifts
the read-only guard for its own transaction, through the audited path
(``permissions.session.lift_read_only_guard``). Merged tenants hold no reports any more."""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime, timedelta

from permissions.session import lift_read_only_guard, tenant_transaction
from reports.workflow import TERMINAL_STATES
from tenants.models import Tenant, TenantStatus
from tenants.regulation import tenant_options

log = logging.getLogger("paht.retention")

_FINISHED = sorted(s.value for s in TERMINAL_STATES)

# One statement per tenant; "finished" is when the report reached its terminal state: its
# closed_at, else its last change (rejections, duplicates and withdrawals set no closed_at).
_ANONYMISE_SQL = (
    "UPDATE reporter_contact c SET name = '', phone = NULL, email = NULL, notify_by = NULL, "
    "anonymised_at = $2 FROM report r WHERE c.tenant_id = $1 AND r.tenant_id = c.tenant_id "
    "AND r.id = c.report_id AND c.anonymised_at IS NULL AND r.state = ANY($3::text[]) "
    "AND coalesce(r.closed_at, r.updated_at) < $4 RETURNING c.id"
)


async def anonymise_expired_contacts(
    now: datetime, tenant_codes: Collection[str] | None = None
) -> int:
    """Anonymise every contact past its tenant's retention period; the number anonymised."""
    tenants = Tenant.exclude(status=TenantStatus.MERGED)
    if tenant_codes is not None:
        tenants = tenants.filter(code__in=list(tenant_codes))
    total = 0
    for tenant in await tenants.order_by("code"):
        async with tenant_transaction(tenant.id) as conn:
            days = (await tenant_options(tenant.id)).contact_retention_days
            if tenant.status != TenantStatus.ACTIVE:
                await lift_read_only_guard(conn, "contact retention", tenant=tenant.code)
            rows = await conn.execute_query_dict(
                _ANONYMISE_SQL, [tenant.id, now, _FINISHED, now - timedelta(days=days)]
            )
        if rows:
            log.info("contacts anonymised", extra={"tenant": tenant.code, "count": len(rows)})
        total += len(rows)
    return total
