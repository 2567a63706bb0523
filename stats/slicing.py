"""What a statistics question names: the period (local dates of the tenant), the breakdown
(``GroupBy``) and the slice of reports (``Slice``); ``stats.queries`` answers it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from core.errors import DomainError
from core.labels import Labelled

MAX_DAYS = 366


class GroupBy(Labelled):
    FIELD = "field", "Lĩnh vực", "Field"
    AGENCY = "agency", "Cơ quan chủ trì", "Lead agency"
    UNIT = "unit", "Đơn vị hành chính", "Administrative unit"
    UNIT_TODAY = "unit_today", "Đơn vị hành chính hiện nay", "Today's administrative unit"
    URGENCY = "urgency", "Mức độ", "Urgency"
    CHANNEL = "channel", "Kênh tiếp nhận", "Channel"
    DAY = "day", "Ngày", "Day"
    WEEK = "week", "Tuần (từ thứ Hai)", "Week (from Monday)"
    MONTH = "month", "Tháng", "Month"
    QUARTER = "quarter", "Quý", "Quarter"


# The column of the statistics tables a breakdown groups by (UNIT_TODAY: the report's unit,
# mapped onto today's units; a time breakdown groups by none).
GROUP_COLUMN = {
    GroupBy.FIELD: "field_id",
    GroupBy.AGENCY: "agency_id",
    GroupBy.UNIT: "unit_code",
    GroupBy.UNIT_TODAY: "unit_code",
    GroupBy.URGENCY: "urgency",
    GroupBy.CHANNEL: "channel",
}


@dataclass(frozen=True)
class Period:
    """Local dates of the tenant, both included."""

    first: date
    last: date

    def check(self) -> None:
        if self.last < self.first or (self.last - self.first).days >= MAX_DAYS:
            raise DomainError(
                "INVALID_PERIOD",
                f"Kỳ báo cáo phải có ngày đầu trước ngày cuối và dài tối đa {MAX_DAYS} ngày.",
                f"The period must start before it ends and last at most {MAX_DAYS} days.",
                "period",
            )

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one (the comparison)."""
        return Period(self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def starts(self, grain: GroupBy) -> list[date]:
        """The first day of each sub-period of a time breakdown."""
        out, day = [self.first], self.first
        while True:
            day = _next_start(day, grain)
            if day > self.last:
                return out
            out.append(day)


def _next_start(day: date, grain: GroupBy) -> date:
    if grain is GroupBy.DAY:
        return day + timedelta(days=1)
    if grain is GroupBy.WEEK:
        return day + timedelta(days=7 - day.weekday())
    months = 1 if grain is GroupBy.MONTH else 3
    index = day.year * 12 + day.month - 1
    index = index - index % months + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Slice:
    """Only some reports: of these fields, lead agencies, administrative units (the report's own
    unit), urgencies and channels, as the statistics tables record them (the report's current
    ones); an empty kind: any; kinds combine with AND. Narrows within the caller's reach, never
    beyond it."""

    field_ids: tuple[uuid.UUID, ...] = ()
    agency_ids: tuple[uuid.UUID, ...] = ()
    unit_codes: tuple[str, ...] = ()
    urgencies: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()

    def _kinds(self) -> tuple[tuple[str, tuple[Any, ...], str], ...]:
        """Each kind as (column of the statistics tables, values, SQL type)."""
        return (
            ("field_id", self.field_ids, "uuid"),
            ("agency_id", self.agency_ids, "uuid"),
            ("unit_code", self.unit_codes, "text"),
            ("urgency", self.urgencies, "text"),
            ("channel", self.channels, "text"),
        )

    def columns(self) -> set[str]:
        """The columns this slice narrows."""
        return {column for column, values, _ in self._kinds() if values}

    def sql(self, params: list[Any]) -> str:
        out = ""
        for column, values, kind in self._kinds():
            if values:
                params.append(list(values))
                out += f" AND {column} = ANY(${len(params)}::{kind}[])"
        return out


EVERYTHING = Slice()
