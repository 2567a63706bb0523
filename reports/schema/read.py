"""Report reads: the list, one report, the caller's own, the public feed, dashboards."""

from __future__ import annotations

import strawberry
from strawberry import relay

from core.errors import DomainError
from core.graphql import Info
from core.pagination import PageRequest
from core.relay import decode, decode_optional
from permissions.actions import Action
from permissions.graphql import login_required, requires
from permissions.scope import Scope
from reports import loaders, models, public, queries, reminders, stats
from reports import workflow as wf
from reports.schema.inputs import ReportFilter, ReportOrder
from reports.schema.moved import following_moves
from reports.schema.pages import (
    FieldCount,
    Notification,
    PageInfo,
    PublicReport,
    PublicReportConnection,
    PublicReportEdge,
    ReportConnection,
    ReportEdge,
    ReportStats,
    StateCount,
    TenantStats,
)
from reports.schema.types import Attachment, Location, Report
from tenants import catalog as tenant_catalog
from tenants.models import Tenant as TenantRow
from tenants.types import Field, Tenant


def _filter(f: ReportFilter | None, scope: Scope) -> queries.ReportFilter:
    if f is None:
        return queries.ReportFilter()
    bbox = None
    if f.bbox is not None:
        if len(f.bbox) != 4:
            raise DomainError(
                "INVALID_BBOX", "Khung bản đồ cần 4 số.", "bbox needs 4 numbers.", "filter.bbox"
            )
        bbox = (f.bbox[0], f.bbox[1], f.bbox[2], f.bbox[3])
    return queries.ReportFilter(
        states=tuple(wf.ReportState(s) for s in f.states or ()),
        open_only=f.open_only,
        field_ids=tuple(decode(g, "Field", "filter.fieldIds") for g in f.field_ids or ()),
        agency_id=decode_optional(f.agency_id, "Agency", "filter.agencyId"),
        unit_codes=tuple(f.unit_codes or ()),
        urgencies=tuple(str(u.value) for u in f.urgencies or ()),
        channels=tuple(str(c.value) for c in f.channels or ()),
        reporter_kinds=tuple(str(k.value) for k in f.reporter_kinds or ()),
        created_from=f.created_from,
        created_to=f.created_to,
        text=f.text,
        bbox=bbox,
        overdue=f.overdue,
        escalations=tuple(str(e.value) for e in f.escalations or ()),
        assignee_user_id=scope.require_user() if f.assigned_to_me else None,
    )


async def warm_catalog(scope: Scope) -> None:
    """Fields, agencies and units of the tenant, cached per process (see tenants.catalog)."""
    if scope.tenant_id is not None:
        await tenant_catalog.load(scope.tenant_id)
        await tenant_catalog.load_units()


def _page(
    info: Info, first: int | None, after: str | None, last: int | None, before: str | None
) -> PageRequest:
    return PageRequest.from_args(
        first, after, last, before, info.context.services.settings.max_page_size
    )


def _connection(page: queries.Page) -> ReportConnection:
    edges = [ReportEdge(cursor=page.cursor(r), node=Report.from_row(r)) for r in page.rows]
    return ReportConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=page.has_previous,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )


async def _public(rows: list[models.Report], info: Info) -> list[PublicReport]:
    """Public views resolved eagerly: they carry no relation a client could walk further."""
    lang = info.context.lang
    result = []
    for v in await public.public_views(rows):
        r, state = v.report, wf.ReportState(v.report.state)
        result.append(
            PublicReport(
                id=relay.GlobalID("Report", str(r.id)),
                code=r.code,
                title=r.title,
                description=r.description,
                state=state,
                state_label=state.label(lang),
                field_name=(v.field.name_en if lang == "en" else v.field.name_vi)
                if v.field
                else None,
                location=Location(latitude=v.latitude, longitude=v.longitude, precise=v.precise),
                address=r.address if v.precise else "",
                created_at=r.created_at,
                resolved_at=r.resolved_at,
                resolve_due_at=r.resolve_due_at,
                rating=r.rating,
                result=v.result,
                photos=[
                    Attachment.from_row(a, origin, info, public=True) for a, origin in v.photos
                ],
            )
        )
    return result


async def _stats(info: Info) -> ReportStats:
    result = await stats.report_stats(info.context.scope)
    field_rows = await loaders.field_loader(info.context).load_many(
        [f.field_id for f in result.by_field]
    )
    lang = info.context.lang
    return ReportStats(
        total=result.total,
        open=result.open,
        overdue=result.overdue,
        by_state=[
            StateCount(state=c.state, label=c.state.label(lang), count=c.count)
            for c in result.by_state
        ],
        by_field=[
            FieldCount(field=Field.from_row(row) if row else None, count=c.count, open=c.open)
            for c, row in zip(result.by_field, field_rows, strict=True)
        ],
    )


# --- queries --------------------------------------------------------------------------------


@strawberry.type
class ReportQuery:
    @strawberry.field(
        extensions=requires(Action.REPORT_VIEW),
        description="Reports the caller may see (keyset cursors): newest first, or by the "
        "running deadline.",
    )
    async def reports(
        self,
        info: Info,
        filter: ReportFilter | None = None,
        order_by: ReportOrder = queries.ReportOrder.CREATED_DESC,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> ReportConnection:
        query = _filter(filter, info.context.scope).apply(
            queries.visible_reports(info.context.scope)
        )
        page = _page(info, first, after, last, before)
        result = await queries.paginate(query, page, queries.ReportOrder(order_by))
        await warm_catalog(info.context.scope)
        return _connection(result)

    @strawberry.field(
        extensions=login_required(),
        description="A report by ID, as staff with report:view see it or as its reporter; null "
        "when not found or not visible.",
    )
    async def report(self, info: Info, id: relay.GlobalID) -> Report | None:
        try:
            return Report.from_row(
                await queries.report_by_id(info.context.scope, decode(id, "Report", "id"))
            )
        except DomainError as error:
            if error.code == "NOT_FOUND":
                return None
            raise

    @strawberry.field(
        extensions=login_required(),
        description="A report by its human code, e.g. SP-2026-000123 (staff, or its reporter).",
    )
    async def report_by_code(self, info: Info, code: str) -> Report | None:
        try:
            return Report.from_row(await queries.report_by_code(info.context.scope, code))
        except DomainError as error:
            if error.code == "NOT_FOUND":
                return None
            raise

    @strawberry.field(
        extensions=requires(Action.STATS_VIEW),
        description="Counts by state and field, and how many are overdue.",
    )
    async def report_stats(self, info: Info) -> ReportStats:
        return await _stats(info)

    @strawberry.field(
        extensions=requires(Action.STATS_VIEW),
        description="Provincial administrators: every tenant side by side (counts, overdue).",
    )
    async def province_stats(self, info: Info) -> list[TenantStats]:
        rows = await stats.province_stats(info.context.scope)
        tenants = {t.id: t for t in await TenantRow.filter(id__in=[r.tenant_id for r in rows])}
        lang = info.context.lang
        return [
            TenantStats(
                tenant=Tenant.from_row(tenants[r.tenant_id]),
                total=r.total,
                open=r.open,
                overdue=r.overdue,
                by_state=[
                    StateCount(state=c.state, label=c.state.label(lang), count=c.count)
                    for c in r.by_state
                ],
            )
            for r in rows
            if r.tenant_id in tenants
        ]

    @strawberry.field(
        extensions=login_required(),
        description="Deadline reminders for the caller's roles and agencies, newest first; "
        "`reportId`: only those about that report (its detail screen).",
    )
    async def my_notifications(
        self,
        info: Info,
        unread_only: bool = True,
        first: int = 50,
        report_id: relay.GlobalID | None = None,
    ) -> list[Notification]:
        scope = info.context.scope
        about = decode_optional(report_id, "Report", "reportId")
        rows = await reminders.my_notifications(scope, unread_only, min(max(first, 1), 200), about)
        read = await reminders.read_ids(scope, [n.id for n in rows])
        lang = info.context.lang
        return [
            Notification(
                id=relay.GlobalID("Notification", str(n.id)),
                report_id=relay.GlobalID("Report", str(n.report_id)),
                kind=reminders.ReminderKind(n.kind),
                message=n.message_en if lang == "en" else n.message_vi,
                due_at=n.due_at,
                created_at=n.created_at,
                read=n.id in read,
            )
            for n in rows
        ]

    @strawberry.field(extensions=login_required(), description="The caller's own reports.")
    async def my_reports(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> ReportConnection:
        query = queries.own_reports(info.context.scope)
        result = await queries.paginate(query, _page(info, first, after, None, None))
        await warm_catalog(info.context.scope)
        return _connection(result)

    @strawberry.field(
        description="Published reports of the tenant (token's tenant or the "
        "X-Paht-Tenant header). No personal data; sensitive locations blurred."
    )
    async def public_reports(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> PublicReportConnection:
        page = await queries.paginate(
            queries.published_reports(info.context.scope), _page(info, first, after, None, None)
        )
        views = await _public(page.rows, info)
        edges = [
            PublicReportEdge(cursor=page.cursor(r), node=v)
            for r, v in zip(page.rows, views, strict=True)
        ]
        return PublicReportConnection(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=page.has_previous,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

    @strawberry.field(
        description="Follow an anonymous report by its tracking code: the reporter's own view "
        "(the history owed to them, questions, the approved result). A report that moved to "
        "another locality when this one was split is followed there."
    )
    async def track_report(self, info: Info, tracking_code: str) -> Report | None:
        try:
            row = await following_moves(
                info,
                lambda scope: queries.tracked_report(
                    scope, tracking_code, info.context.client_address
                ),
            )
        except DomainError as error:
            if error.code == "NOT_FOUND":
                return None
            raise
        info.context.tracked_reports.add(row.id)  # the code proves who is asking
        return Report.from_row(row)
