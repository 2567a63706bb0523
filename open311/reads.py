"""The Open311 reads: service list and definitions from the tenant's active fields and their
questions; requests from the public feed only (``reports.queries.published_reports`` and
``reports.public.public_views``: no personal data, sensitive locations blurred, the approved
result and public photos). A report the public may not see answers 404 as if absent. Every read
runs in the caller's tenant-scoped transaction (open311.routes)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core import clock
from open311.formats import bad_request
from open311.mapping import STATES, STATES_OF, NoteSource, Status
from open311.services import service_fields
from permissions.scope import Scope, anonymous_in
from permissions.session import scoped_transaction
from reports import public, queries
from reports.media_formats import MediaKind
from reports.media_links import MediaLinker
from reports.models import Report
from reports.records import tenant_rules
from reports.workflow import RejectReason, ReportState, WorkflowAction
from tenants.models import Agency
from tenants.split import forwarded_to

WINDOW = timedelta(days=90)  # "Default query limit is a span of 90 days …"
MAX_ROWS = 1000  # "… or first 1000 requests returned, whichever is smallest."


@dataclass(frozen=True)
class RequestQuery:
    ids: tuple[str, ...] = ()
    service_codes: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    statuses: tuple[Status, ...] = ()
    page: int = 1  # the paging extension: pages of page_size within the window
    page_size: int = MAX_ROWS


def when(value: datetime | None, tz: ZoneInfo) -> str | None:
    """W3C date-time with the tenant's offset (+07:00 in Vietnam), to the second."""
    return value.astimezone(tz).isoformat(timespec="seconds") if value else None


def window(q: RequestQuery, now: datetime, lang: str) -> tuple[datetime, datetime]:
    end = q.end or (q.start + WINDOW if q.start else now)
    start = q.start or end - WINDOW
    if start > end:
        raise bad_request(
            "start_date is after end_date."
            if lang == "en"
            else "Ngày bắt đầu `start_date` sau ngày kết thúc `end_date`."
        )
    if end - start > WINDOW:
        raise bad_request(
            "The date range may not span more than 90 days."
            if lang == "en"
            else "Khoảng thời gian không được dài quá 90 ngày."
        )
    return start, end


async def find_requests(
    scope: Scope, q: RequestQuery, media: MediaLinker, lang: str
) -> list[dict[str, Any]]:
    query = queries.published_reports(scope)
    if q.ids:  # "overrides every other argument"
        rows = await query.filter(code__in=q.ids).order_by("-created_at", "-id").limit(MAX_ROWS)
        return await render_requests(scope, rows, media, lang)
    if q.service_codes:
        fields = await service_fields(scope, q.service_codes)
        query = query.filter(field_id__in=[f.id for f in fields])
    start, end = window(q, clock.now(), lang)
    query = query.filter(created_at__gte=start, created_at__lte=end)
    if q.statuses:
        states = set().union(*(STATES_OF[s] for s in q.statuses))
        query = query.filter(state__in=[s.value for s in states])
    size = min(q.page_size, MAX_ROWS)
    rows = await query.order_by("-created_at", "-id").offset((q.page - 1) * size).limit(size)
    return await render_requests(scope, rows, media, lang)


async def find_request(
    scope: Scope, code: str, media: MediaLinker, lang: str
) -> list[dict[str, Any]]:
    """A list with one element (the spec's single GET is still a list), or empty."""
    row = await queries.published_reports(scope).get_or_none(code=code)
    return await render_requests(scope, [row], media, lang) if row else []


async def find_moved_request(
    scope: Scope, code: str, media: MediaLinker, lang: str
) -> list[dict[str, Any]]:
    """The request ``code`` where it lives now, if it left the jurisdiction in a split
    (tenants/split.py keeps the code): read as the anonymous public of the tenant holding it, in
    that tenant's own transaction, published only, as ``trackReport`` follows a tracking code.
    Empty if it never left."""
    moved_to = await forwarded_to(scope.require_tenant(), code=code)
    if moved_to is None:
        return []
    there = anonymous_in(moved_to)
    async with scoped_transaction(there):
        return await find_request(there, code, media, lang)


async def render_requests(
    scope: Scope, rows: Sequence[Report], media: MediaLinker, lang: str
) -> list[dict[str, Any]]:
    if not rows:
        return []
    tz = (await tenant_rules(scope.require_tenant())).calendar.timezone
    views = await public.public_views(list(rows))
    agency_ids = {r.lead_agency_id for r in rows if r.lead_agency_id}
    tenant_id = scope.require_tenant()
    agencies = (
        {a.id: a for a in await Agency.filter(tenant_id=tenant_id, id__in=agency_ids)}
        if agency_ids
        else {}
    )
    master_ids = {r.duplicate_of_id for r in rows if r.duplicate_of_id}
    masters: dict[uuid.UUID, str] = {}
    if master_ids:
        # Only a published master is named: another report's code is not public otherwise.
        masters = dict(
            await Report.filter(tenant_id=tenant_id, id__in=master_ids, published=True).values_list(
                "id", "code"
            )
        )
    return [_request(v, agencies, masters, media, tz, lang) for v in views]


def _status_notes(v: public.PublicView, masters: dict[uuid.UUID, str], lang: str) -> str | None:
    r = v.report
    shown = STATES[ReportState(r.state)]
    if shown.source is NoteSource.RESULT and v.result:
        return v.result
    if shown.source is NoteSource.REASON:
        rejects = [s.event for s in v.steps if s.event.action == WorkflowAction.REJECT]
        code = rejects[-1].reason_code if rejects else None
        if code is not None and code in RejectReason._value2member_map_:
            return RejectReason(code).label(lang)
        return ReportState.REJECTED.label(lang)
    if shown.note is None:
        return None
    text = shown.note.label(lang)
    if shown.source is NoteSource.MASTER:
        return text.format(code=masters.get(r.duplicate_of_id, "") if r.duplicate_of_id else "")
    return text


def _request(
    v: public.PublicView,
    agencies: dict[uuid.UUID, Agency],
    masters: dict[uuid.UUID, str],
    media: MediaLinker,
    tz: ZoneInfo,
    lang: str,
) -> dict[str, Any]:
    r = v.report
    shown = STATES[ReportState(r.state)]
    agency = agencies.get(r.lead_agency_id) if shown.agency and r.lead_agency_id else None
    expected = getattr(r, shown.expected.value) if shown.expected else None
    updated = max((s.event.created_at for s in v.steps), default=r.created_at)
    if shown.status is Status.CLOSED:
        updated = r.closed_at or r.resolved_at or updated
    photo = next((a for a, _ in v.photos if a.kind == MediaKind.IMAGE.value), None)
    name = v.field.name_en if v.field and lang == "en" else v.field.name_vi if v.field else None
    return {
        "service_request_id": r.code,
        "status": shown.status.value,
        "status_notes": _status_notes(v, masters, lang),
        "service_name": name,
        "service_code": v.field.code if v.field else None,
        "description": r.description,
        "agency_responsible": (agency.name_en if lang == "en" else agency.name_vi)
        if agency
        else None,
        "service_notice": None,
        "requested_datetime": when(r.created_at, tz),
        "updated_datetime": when(updated, tz),
        "expected_datetime": when(expected, tz),
        "address": r.address if v.precise else "",
        "address_id": None,
        "zipcode": None,
        "lat": v.latitude,
        "long": v.longitude,
        "media_url": media.public(photo.storage_key) if photo else None,
    }
