"""Duplicate suggestions: open reports of the same field near a point (docs/domain.md §16).

SQL narrows the search to a bounding box on ``(tenant_id, field_id, latitude, longitude)`` (index
``report_field_position_idx``, migration 0003) and orders it by an equirectangular approximation;
Python then measures the exact great-circle (haversine) distance. The antimeridian is ignored:
every tenant lies in Vietnam.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass

from tortoise.expressions import RawSQL

from core.errors import DomainError, Validator
from permissions.scope import Scope
from reports.models import Report
from reports.queries import is_staff
from reports.workflow import OPEN_STATES, ReportState
from tenants.models import Field
from tenants.options import TenantOptions
from tenants.regulation import tenant_options

EARTH_RADIUS_M = 6_371_008.8
MAX_RADIUS_M = float(TenantOptions.RADIUS_RANGE[1])
MAX_LIMIT = 50
_OPEN = sorted(s.value for s in OPEN_STATES)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS84 points (spherical Earth)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


async def duplicate_radius(tenant_id: uuid.UUID) -> float:
    """The tenant's option (tenants.options), 200 m unless the tenant set another."""
    return float((await tenant_options(tenant_id)).duplicate_radius_m)


def _validate(latitude: float, longitude: float, radius_m: float | None, limit: int) -> None:
    v = Validator()
    if not (math.isfinite(latitude) and -90 <= latitude <= 90):
        v.add("OUT_OF_RANGE", "latitude", "Vĩ độ không hợp lệ.", "Latitude must be in [-90, 90].")
    if not (math.isfinite(longitude) and -180 <= longitude <= 180):
        v.add(
            "OUT_OF_RANGE",
            "longitude",
            "Kinh độ không hợp lệ.",
            "Longitude must be in [-180, 180].",
        )
    if radius_m is not None and not (math.isfinite(radius_m) and 0 < radius_m <= MAX_RADIUS_M):
        v.add(
            "OUT_OF_RANGE",
            "radiusM",
            f"Bán kính phải lớn hơn 0 và không quá {MAX_RADIUS_M:g} m.",
            f"The radius must be above 0 and at most {MAX_RADIUS_M:g} m.",
        )
    if not 1 <= limit <= MAX_LIMIT:
        v.add(
            "OUT_OF_RANGE",
            "limit",
            f"Số kết quả từ 1 đến {MAX_LIMIT}.",
            f"The limit must be 1 to {MAX_LIMIT}.",
        )
    v.check()


async def nearby_open_reports(
    scope: Scope,
    field_id: uuid.UUID,
    latitude: float,
    longitude: float,
    radius_m: float | None = None,
    limit: int = 5,
    *,
    exclude_id: uuid.UUID | None = None,
) -> list[tuple[Report, float]]:
    """Open reports of ``field_id`` within ``radius_m`` of the point, nearest first, with their
    distance in metres.

    Anyone who may submit in the tenant may ask (the submission form shows the suggestions), so
    no permission is checked here: callers must show non-staff only the public face of these
    reports, never their reporter."""
    tenant_id = scope.require_tenant()
    try:
        latitude, longitude = float(latitude), float(longitude)
        radius = None if radius_m is None else float(radius_m)
    except (TypeError, ValueError):
        raise DomainError(
            "INVALID", "Tọa độ không hợp lệ.", "Invalid coordinates.", "latitude"
        ) from None
    _validate(latitude, longitude, radius, limit)
    if radius is None:
        radius = await duplicate_radius(tenant_id)
    dlat = math.degrees(radius / EARTH_RADIUS_M)
    cos_lat = math.cos(math.radians(latitude))
    dlon = min(180.0, dlat / cos_lat) if cos_lat > 1e-9 else 180.0
    # Squared equirectangular distance, only to order and cap the candidates in SQL. The
    # values are finite floats checked above, so formatting them into SQL is safe.
    approx = RawSQL(
        f"power(latitude - ({latitude!r}), 2) "
        f"+ power((longitude - ({longitude!r})) * {cos_lat!r}, 2)"
    )
    query = Report.filter(
        tenant_id=tenant_id,
        field_id=field_id,
        state__in=_OPEN,
        latitude__gte=latitude - dlat,
        latitude__lte=latitude + dlat,
        longitude__gte=longitude - dlon,
        longitude__lte=longitude + dlon,
    )
    if exclude_id is not None:
        query = query.exclude(id=exclude_id)
    candidates = (
        await query.annotate(approx_distance=approx)
        .order_by("approx_distance", "created_at", "id")
        .limit(limit * 2 + 10)
    )
    found = [
        (report, haversine_m(latitude, longitude, report.latitude, report.longitude))
        for report in candidates
    ]
    found = [(r, d) for r, d in found if d <= radius]
    found.sort(key=lambda item: (item[1], item[0].created_at, item[0].id))
    return found[:limit]


@dataclass(frozen=True)
class DuplicateView:
    """A possible duplicate as the submitter is shown it."""

    code: str | None
    title: str | None
    state: ReportState
    distance_m: float


async def as_shown(
    scope: Scope,
    field_id: uuid.UUID,
    found: list[tuple[Report, float]],
    *,
    sensitive: bool | None = None,
) -> list[DuplicateView]:
    """Staff see everything. Citizens and anonymous callers see distances rounded to 100 m and
    no code or text of someone else's report unless it is published (their own, they may), and
    nothing at all in sensitive fields: repeated submissions must not locate, or read, another
    person's report. ``sensitive``: the field's flag when the caller has the field row."""
    staff = is_staff(scope)
    if not staff and found:
        if sensitive is None:
            sensitive = await Field.filter(id=field_id, sensitive=True).exists()
        if sensitive:
            return []

    def readable(report: Report) -> bool:
        own = scope.user_id is not None and report.reporter_user_id == scope.user_id
        return staff or own or report.published

    return [
        DuplicateView(
            code=r.code if readable(r) else None,
            title=r.title if readable(r) else None,
            state=ReportState(r.state),
            distance_m=d if staff else round(d, -2),
        )
        for r, d in found
    ]
