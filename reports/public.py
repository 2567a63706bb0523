"""The public feed: published reports as anyone may see them — no personal data, sensitive
locations blurred, the approved result and its photos, the report's own photos (none at all in
sensitive fields). One query per relation for a whole page."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from tortoise.expressions import Q

from permissions.session import tenant_transaction
from reports import views
from reports.models import Attachment, Report, ReportEvent
from tenants.merge import holder_of
from tenants.models import Field


@dataclass(frozen=True)
class PublicView:
    report: Report
    field: Field | None
    latitude: float
    longitude: float
    precise: bool
    result: str | None
    photos: list[tuple[Attachment, views.AttachmentOrigin]] = dataclass_field(default_factory=list)
    # The steps of the history the public is shown (reports.views.history), oldest first.
    steps: list[views.EventView] = dataclass_field(default_factory=list)


async def public_views(rows: list[Report]) -> list[PublicView]:
    ids = [r.id for r in rows]
    fields = {f.id: f for f in await Field.filter(id__in={r.field_id for r in rows})}
    events: dict[object, list[ReportEvent]] = defaultdict(list)
    for e in await ReportEvent.filter(report_id__in=ids).order_by("created_at", "id"):
        events[e.report_id].append(e)
    files: dict[object, list[Attachment]] = defaultdict(list)
    for a in await Attachment.filter(report_id__in=ids).order_by("created_at"):
        files[a.report_id].append(a)
    out = []
    for r in rows:
        fld = fields.get(r.field_id)
        sensitive = bool(fld and fld.sensitive)
        lat, lng, precise = views.location(r.latitude, r.longitude, sensitive, False)
        found = views.result(r, events[r.id], views.Viewer.PUBLIC)
        photos = [] if sensitive else views.attachments(r, files[r.id], events[r.id],
                                                        views.Viewer.PUBLIC)  # fmt: skip
        out.append(
            PublicView(
                r,
                fld,
                lat,
                lng,
                precise,
                found.event.comment if found else None,
                photos,
                views.history(events[r.id], views.Viewer.PUBLIC),
            )
        )
    return out


async def is_public_media(key: str) -> bool:
    """Whether the stored file ``key`` (or the thumbnail of one) is one of the public feed's
    photos at this moment. Read in the key's own tenant, its first segment (reports.storage)."""
    try:
        tenant_id = uuid.UUID(key.split("/", 1)[0])
    except ValueError:
        return False
    # Keys keep the tenant they were stored under; after a merge the rows live in its successor.
    tenant_id = await holder_of(tenant_id)
    async with tenant_transaction(tenant_id):
        row = await Attachment.filter(Q(storage_key=key) | Q(thumbnail_key=key)).first()
        if row is None:
            return False
        report = await Report.filter(id=row.report_id, published=True).first()
        if report is None:
            return False
        (view,) = await public_views([report])
    return any(photo.id == row.id for photo, _ in view.photos)
