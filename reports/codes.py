"""A report's codes: the human code, per tenant and year and gapless ("SP-2026-000123", from
the ``report_counter`` row), and the secret tracking code an anonymous reporter follows it by.

The counter row is the one lock every submission of a tenant queues on, held until commit:
take it last. ``code_in`` allocates inside the statement that writes the report (submission),
``allocate_code`` on its own (a transfer's copy)."""

from __future__ import annotations

import secrets

from tortoise import connections

from core.batch import Batch
from core.ids import new_id
from reports.models import ReportCounter
from tenants.models import Tenant

_TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
# The prefix ($4), the year, the number on at least six digits. A savepoint rolled back after
# it (a lost idempotency race) takes its increment back: codes stay gapless.
_COUNTER_SQL = (
    f"INSERT INTO {ReportCounter._meta.db_table} (id, tenant_id, year, last) "
    "VALUES ($1, $2, $3, 1) ON CONFLICT (tenant_id, year) "
    f"DO UPDATE SET last = {ReportCounter._meta.db_table}.last + 1 "
    "RETURNING $4::text || '-' || year || '-' "
    "|| lpad(last::text, greatest(6, length(last::text)), '0') AS code"
)


def new_tracking_code() -> str:
    return "".join(secrets.choice(_TRACKING_ALPHABET) for _ in range(12))


async def allocate_code(tenant: Tenant, year: int) -> str:
    """The tenant's next human report code for ``year``."""
    conn = connections.get("default")
    # execute_query_dict: execute_query drops RETURNING rows of an INSERT.
    rows = await conn.execute_query_dict(
        _COUNTER_SQL, [new_id(), tenant.id, year, tenant.report_prefix]
    )
    return str(rows[0]["code"])


def code_in(batch: Batch, tenant: Tenant, year: int) -> str:
    """Allocate the code in ``batch``'s statement (its CTE ``counter``); the SQL expression of
    the code, for the rows of that statement."""
    batch.cte("counter", _COUNTER_SQL, [new_id(), tenant.id, year, tenant.report_prefix])
    return "(SELECT code FROM counter)"
