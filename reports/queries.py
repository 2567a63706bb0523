"""Reading reports: the caller's Scope compiled into SQL, filters, keyset pages.

No per-row permission check: the ``report:view`` reach of the Scope becomes one WHERE clause
(agency and field conditions), and RLS confines everything to the tenant underneath."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import reduce
from operator import or_

from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from core import clock, throttle
from core.errors import NotFound, PermissionDenied
from core.glossary import Term
from core.pagination import Cursor, PageRequest
from permissions.actions import Action
from permissions.scope import Reach, Scope
from reports.models import Report
from reports.workflow import OPEN_STATES, ReportState
from tenants.split import forwarded_to


def is_staff(scope: Scope) -> bool:
    """Staff see reports beyond their own (internal notes, exact distances, full history);
    everyone else is a reporter looking at their own reports or the public."""
    return scope.allows(Action.REPORT_VIEW)


def reach_condition(reach: Reach) -> Q:
    condition = Q()
    if reach.agency_id is not None:
        # An agency sees what it leads and what it coordinates.
        condition &= Q(lead_agency_id=reach.agency_id) | Q(
            coordinating_agency_ids__contains=[reach.agency_id]
        )
    if reach.field_id is not None:
        condition &= Q(field_id=reach.field_id)
    return condition


def visible_reports(scope: Scope, action: str = Action.REPORT_VIEW) -> QuerySet[Report]:
    """Reports the caller may see in its tenant, as one query."""
    tenant_id = scope.require_tenant()
    reaches = scope.reach.get(str(action), frozenset())
    if not reaches:
        scope.require(action)  # raises UNAUTHENTICATED or FORBIDDEN
        raise PermissionDenied(Action(action))
    query = Report.filter(tenant_id=tenant_id)
    if any(r.unlimited for r in reaches):
        return query
    return query.filter(reduce(or_, (reach_condition(r) for r in reaches)))


@dataclass(frozen=True)
class ReportFilter:
    states: tuple[ReportState, ...] = ()
    open_only: bool = False
    field_ids: tuple[uuid.UUID, ...] = ()
    agency_id: uuid.UUID | None = None
    unit_codes: tuple[str, ...] = ()
    urgencies: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    reporter_kinds: tuple[str, ...] = ()
    created_from: datetime | None = None
    created_to: datetime | None = None
    text: str | None = None
    bbox: tuple[float, float, float, float] | None = None  # min lng, min lat, max lng, max lat
    overdue: bool | None = None  # True: running deadline passed; False: running, not yet passed
    escalations: tuple[str, ...] = ()  # the escalation queue: open reports at these levels
    assignee_user_id: uuid.UUID | None = None  # handed to this officer (reports/handoff.py)

    def apply(self, query: QuerySet[Report]) -> QuerySet[Report]:
        if self.states:
            query = query.filter(state__in=[s.value for s in self.states])
        if self.open_only:
            query = query.filter(state__in=[s.value for s in OPEN_STATES])
        if self.field_ids:
            query = query.filter(field_id__in=list(self.field_ids))
        if self.agency_id is not None:
            query = query.filter(reach_condition(Reach(agency_id=self.agency_id)))
        if self.unit_codes:
            query = query.filter(unit_code__in=list(self.unit_codes))
        if self.urgencies:
            query = query.filter(urgency__in=list(self.urgencies))
        if self.channels:
            query = query.filter(channel__in=list(self.channels))
        if self.reporter_kinds:
            query = query.filter(reporter_kind__in=list(self.reporter_kinds))
        if self.created_from is not None:
            query = query.filter(created_at__gte=self.created_from)
        if self.created_to is not None:
            query = query.filter(created_at__lt=self.created_to)
        if self.text:
            term = self.text.strip()
            query = query.filter(
                Q(title__icontains=term) | Q(code__iexact=term) | Q(address__icontains=term)
            )
        if self.assignee_user_id is not None:
            query = query.filter(assignee_user_id=self.assignee_user_id)
        if self.escalations:
            query = query.filter(
                escalation__in=list(self.escalations),
                state__in=[s.value for s in OPEN_STATES],
            )
        if self.overdue is not None:
            now = clock.now()
            query = query.filter(due_at__lt=now) if self.overdue else query.filter(due_at__gte=now)
        if self.bbox is not None:
            min_lng, min_lat, max_lng, max_lat = self.bbox
            query = query.filter(
                latitude__gte=min_lat,
                latitude__lte=max_lat,
                longitude__gte=min_lng,
                longitude__lte=max_lng,
            )
        return query


class ReportOrder(StrEnum):
    CREATED_DESC = "created_desc"  # newest first
    DUE_ASC = "due_asc"  # most urgent running deadline first; reports without one are left out


@dataclass(frozen=True)
class Page:
    rows: list[Report]
    has_next: bool
    has_previous: bool
    order: ReportOrder = ReportOrder.CREATED_DESC

    def cursor(self, row: Report) -> str:
        key = row.due_at if self.order is ReportOrder.DUE_ASC else row.created_at
        return Cursor(key, row.id).encode()


async def paginate(
    query: QuerySet[Report], page: PageRequest, order: ReportOrder = ReportOrder.CREATED_DESC
) -> Page:
    """Keyset pagination; both orders match a tenant-leading index:
    (tenant_id, created_at DESC, id DESC) and the partial (tenant_id, due_at, id)."""
    column = "due_at" if order is ReportOrder.DUE_ASC else "created_at"
    ascending = order is ReportOrder.DUE_ASC
    if order is ReportOrder.DUE_ASC:
        query = query.filter(due_at__not_isnull=True)
    forward = ascending != page.backwards  # walking towards larger keys?
    if page.after is not None:
        c = page.after
        op = "gt" if forward else "lt"
        query = query.filter(
            Q(**{f"{column}__{op}": c.value}) | Q(**{column: c.value, f"id__{op}": c.id})
        )
    order_by = (column, "id") if forward else (f"-{column}", "-id")
    rows = await query.order_by(*order_by).limit(page.limit + 1)
    more = len(rows) > page.limit
    rows = rows[: page.limit]
    if page.backwards:
        rows.reverse()
        return Page(rows, has_next=page.after is not None, has_previous=more, order=order)
    return Page(rows, has_next=more, has_previous=page.after is not None, order=order)


def readable_reports(scope: Scope) -> QuerySet[Report]:
    """What one report may be read as: those the caller sees as staff, and their own."""
    tenant_id = scope.require_tenant()
    own = Q(reporter_user_id=scope.require_user())
    reaches = scope.reach.get(str(Action.REPORT_VIEW), frozenset())
    query = Report.filter(tenant_id=tenant_id)
    if any(r.unlimited for r in reaches):
        return query
    return query.filter(reduce(or_, [*(reach_condition(r) for r in reaches), own]))


async def report_by_id(scope: Scope, report_id: uuid.UUID) -> Report:
    report = await readable_reports(scope).get_or_none(id=report_id)
    if report is None:
        raise NotFound(Term.REPORT)
    return report


async def report_by_code(scope: Scope, code: str) -> Report:
    code = code.strip().upper()
    if len(code) > 32:  # longer than any code: nothing to look up
        raise NotFound(Term.REPORT)
    report = await readable_reports(scope).get_or_none(code=code)
    if report is None:
        raise NotFound(Term.REPORT)
    return report


def own_reports(scope: Scope) -> QuerySet[Report]:
    return Report.filter(tenant_id=scope.require_tenant(), reporter_user_id=scope.require_user())


def published_reports(scope: Scope) -> QuerySet[Report]:
    """The public feed of a tenant: published reports only."""
    return Report.filter(tenant_id=scope.require_tenant(), published=True)


# Tracking codes are 12 random characters: guessing one is hopeless, and this keeps it so.
TRACKING_LOOKUPS = throttle.SlidingWindow("track", limit=120, window=timedelta(minutes=10))


async def tracked_report(scope: Scope, tracking_code: str, client_address: str) -> Report:
    await throttle.take(TRACKING_LOOKUPS, client_address, clock.now(), "trackingCode")
    tracking_code = tracking_code.strip().upper()
    if len(tracking_code) > 32:
        raise NotFound(Term.REPORT, "trackingCode")
    report = await Report.get_or_none(tenant_id=scope.require_tenant(), tracking_code=tracking_code)
    if report is None:
        moved_to = await forwarded_to(scope.require_tenant(), tracking_code=tracking_code)
        if moved_to is not None:
            raise ReportMoved(moved_to)
        raise NotFound(Term.REPORT, "trackingCode")
    return report


class ReportMoved(NotFound):
    """The tracking code names a report that left this tenant in a split (tenants/split.py):
    ``trackReport`` follows it to ``tenant_id``; anything else sees NOT_FOUND, as before."""

    def __init__(self, tenant_id: uuid.UUID) -> None:
        super().__init__(Term.REPORT, "trackingCode")
        self.tenant_id = tenant_id
