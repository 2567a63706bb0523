"""The trail of who saw a reporter's identity (docs/domain.md §7: "each reveal logged").

Every resolution of ``Report.reporter`` that returns a contact records (report, viewer, when)
in ``reporter_identity_view``: batched per request by a DataLoader, written on a side
connection in the report's tenant, so the record is kept even when the request fails later
and a read-only tenant (suspended, archived) still logs its reads."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import asyncpg
from strawberry.dataloader import DataLoader
from tortoise import connections

from core import clock
from core.db import side_connection
from core.graphql import Context
from core.ids import new_id
from permissions.scope import Scope
from permissions.session import set_rls_settings
from reports.models import ReporterIdentityView

_INSERT_SQL = (
    "INSERT INTO reporter_identity_view (id, tenant_id, report_id, viewer_user_id, viewed_at) "
    "SELECT unnest($1::uuid[]), $2, unnest($3::uuid[]), $4, $5"
)


async def record_views(
    tenant_id: uuid.UUID, viewer_id: uuid.UUID, report_ids: Sequence[uuid.UUID]
) -> None:
    ids = list(dict.fromkeys(report_ids))
    values = [[new_id() for _ in ids], tenant_id, ids, viewer_id, clock.now()]
    try:
        async with side_connection() as con, con.transaction():
            await set_rls_settings(con, str(tenant_id))
            await con.execute(_INSERT_SQL, *values)
    except asyncpg.ForeignKeyViolationError:
        # A report created by this very request (a payload showing the reporter) is not
        # committed yet: log in the request's transaction, which sees it.
        await connections.get("default").execute_query(_INSERT_SQL, values)


def identity_view_loader(ctx: Context) -> DataLoader[tuple[uuid.UUID, uuid.UUID], None]:
    """Keys are (tenant_id, report_id); one INSERT per tenant and request."""

    async def load(keys: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> list[None]:
        viewer = ctx.scope.user_id
        if viewer is not None:
            by_tenant: dict[uuid.UUID, list[uuid.UUID]] = {}
            for tenant_id, report_id in keys:
                by_tenant.setdefault(tenant_id, []).append(report_id)
            for tenant_id, report_ids in by_tenant.items():
                await record_views(tenant_id, viewer, report_ids)
        return [None for _ in keys]

    return ctx.loader("report.identity_views", lambda _: DataLoader(load))


async def identity_views(scope: Scope, report_id: uuid.UUID) -> list[ReporterIdentityView]:
    """The trail for one report, newest first, in the caller's tenant (RLS applies)."""
    return await ReporterIdentityView.filter(
        tenant_id=scope.require_tenant(), report_id=report_id
    ).order_by("-viewed_at")
