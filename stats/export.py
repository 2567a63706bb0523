"""The evaluation workbook (XLSX, openpyxl): a summary sheet (results against the pilot's targets
when one is set), one sheet per breakdown with a native bar chart, and the monthly trend with a
native line chart; Vietnamese by default. Numbers are the ones ``statistics`` answers (the same
``stats.queries`` call), written as numbers with Vietnamese-style formats, never as text."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Callable

from openpyxl import Workbook, load_workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from permissions.scope import Scope
from reports.models import Channel
from stats.indicators import Figures, Standing
from stats.queries import Statistics, tenant_statistics
from stats.slicing import GroupBy, Period
from tenants.models import Agency, Field, Pilot
from tenants.sla import Stage
from tenants.units import UnitHistory

Getter = Callable[[Figures], int | float | None]
PERCENT = "0.0%"
# Each row of the summary: Vietnamese label, English label, the indicator (stats.indicators).
ROWS: list[tuple[str, str, Getter, str | None]] = [
    ("Tồn kỳ trước", "Carried over", lambda f: f.carried_over, None),
    ("Tiếp nhận trong kỳ", "Received", lambda f: f.received, None),
    ("Phản ánh lại", "Reopened", lambda f: f.reopened, None),
    ("Cần xử lý", "To handle", lambda f: f.to_handle, None),
    ("Đã xử lý đúng hạn", "Finished on time", lambda f: f.finished_on_time, None),
    ("Đã xử lý trễ hạn", "Finished late", lambda f: f.finished_late, None),
    ("Đang xử lý trong hạn", "Open within deadline", lambda f: f.open(Standing.WITHIN), None),
    ("Đang xử lý sắp đến hạn", "Open, due soon", lambda f: f.open(Standing.DUE_SOON), None),
    ("Đang xử lý quá hạn", "Open, overdue", lambda f: f.open(Standing.OVERDUE), None),
    ("Không tiếp nhận", "Rejected", lambda f: f.rejected, None),
    ("Trùng lặp", "Duplicates", lambda f: f.duplicates, None),
    ("Đã rút", "Withdrawn", lambda f: f.withdrawn, None),
    ("Tỉ lệ đúng hạn", "On-time rate", lambda f: f.on_time_rate, PERCENT),
    ("Tỉ lệ trễ hạn", "Late rate", lambda f: f.late_rate, PERCENT),
    ("Lượt đánh giá", "Ratings", lambda f: f.rated, None),
    ("Điểm đánh giá trung bình", "Mean rating", lambda f: f.rating_mean, "0.00"),
    ("Tỉ lệ hài lòng (4–5)", "Satisfied (4–5)", lambda f: f.satisfied_share, PERCENT),
    ("Tỉ lệ phản hồi đánh giá", "Response rate", lambda f: f.response_rate, PERCENT),
    *[
        (
            f"Thời gian {s.label_vi} – trung vị (giờ làm việc)",
            f"{s.label_en} time – median (working hours)",
            (lambda f, s=s: f.stage_time(s).median_hours),
            "0.0",
        )
        for s in Stage
    ],
    *[
        (
            f"Thời gian {s.label_vi} – 90% (giờ làm việc)",
            f"{s.label_en} time – 90th percentile (working hours)",
            (lambda f, s=s: f.stage_time(s).p90_hours),
            "0.0",
        )
        for s in Stage
    ],
]
# Rows of the summary that carry a pilot target: (indicator getter label, target attribute).
TARGETS = {"Tỉ lệ đúng hạn": "on_time_target", "Tỉ lệ hài lòng (4–5)": "satisfied_target"}
BREAKDOWNS = [
    (GroupBy.AGENCY, "Theo cơ quan", "By agency"),
    (GroupBy.FIELD, "Theo lĩnh vực", "By field"),
    (GroupBy.CHANNEL, "Theo kênh", "By channel"),
    (GroupBy.UNIT, "Theo đơn vị hành chính", "By administrative unit"),
]
COLUMNS: list[tuple[str, str, Getter, str | None]] = [
    ("Tiếp nhận", "Received", lambda f: f.received, None),
    ("Đã xử lý", "Finished", lambda f: f.finished, None),
    ("Quá hạn", "Overdue", lambda f: f.open(Standing.OVERDUE), None),
    ("Tỉ lệ đúng hạn", "On-time rate", lambda f: f.on_time_rate, PERCENT),
]


async def _names(tenant_id: uuid.UUID, lang: str) -> dict[uuid.UUID | str, str]:
    """Row labels: agencies and fields by id, channels by value."""
    rows: list[Agency | Field] = [
        *await Agency.filter(tenant_id=tenant_id),
        *await Field.filter(tenant_id=tenant_id),
    ]
    names: dict[uuid.UUID | str, str] = {
        r.id: (r.name_en if lang == "en" else r.name_vi) for r in rows
    }
    for c in Channel:
        names[c.value] = c.label_en if lang == "en" else c.label_vi
    return names


Progress = Callable[[int, int], None]  # (steps done, steps in all)
STEPS = 2 + len(BREAKDOWNS)  # the summary, each breakdown, the monthly trend


async def evaluation_workbook(
    scope: Scope,
    tenant_id: uuid.UUID,
    period: Period,
    lang: str = "vi",
    progress: Progress | None = None,
) -> bytes:
    """The workbook; ``progress`` is told after each of its ``STEPS`` queries."""
    en = lang == "en"
    tick = progress or (lambda done, steps: None)
    total = (await tenant_statistics(scope, tenant_id, period)).total
    names = await _names(tenant_id, lang)
    units = await UnitHistory.load()
    pilot = await Pilot.get_or_none(tenant_id=tenant_id)
    book = Workbook()
    sheet = book.active
    sheet.title = "Summary" if en else "Tổng hợp"
    head = ["Indicator" if en else "Chỉ tiêu", "Value" if en else "Giá trị"]
    sheet.append([*head, "Target" if en else "Chỉ tiêu thí điểm", "Met" if en else "Đạt"])
    sheet.append([f"{period.first:%d/%m/%Y} – {period.last:%d/%m/%Y}"])
    for vi, english, get, fmt in ROWS:
        value = get(total)
        row: list[object] = [english if en else vi, value]
        if pilot is not None and vi in TARGETS:
            target = float(getattr(pilot, TARGETS[vi]))
            row += [target, None if value is None else met_label(value >= target, en)]
        sheet.append(row)
        if fmt:
            sheet.cell(sheet.max_row, 2).number_format = fmt
            sheet.cell(sheet.max_row, 3).number_format = fmt
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 36
    tick(1, STEPS)
    for step, (group, vi, english) in enumerate(BREAKDOWNS, start=2):
        result = await tenant_statistics(scope, tenant_id, period, group)
        ws = book.create_sheet(english if en else vi)
        ws.append(["Name" if en else "Tên", *(e if en else v for v, e, _, _ in COLUMNS)])
        for key, figures in result.groups:
            label = _label(names, units, group, key, period, en)
            ws.append([label, *(get(figures) for _, _, get, _ in COLUMNS)])
            for i, (_, _, _, fmt) in enumerate(COLUMNS, start=2):
                if fmt:
                    ws.cell(ws.max_row, i).number_format = fmt
        ws.column_dimensions["A"].width = 36
        if result.groups:
            chart = BarChart()
            chart.title = english if en else vi
            chart.add_data(
                Reference(ws, min_col=2, max_col=3, min_row=1, max_row=ws.max_row),
                titles_from_data=True,
            )
            chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=ws.max_row))
            ws.add_chart(chart, "G2")
        tick(step, STEPS)
    _trend(book, await tenant_statistics(scope, tenant_id, period, GroupBy.MONTH), en)
    tick(STEPS, STEPS)
    for ws in book.worksheets:
        print_on_one_page(ws)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _label(
    names: dict[uuid.UUID | str, str],
    units: UnitHistory,
    group: GroupBy,
    key: uuid.UUID | str | None,
    period: Period,
    en: bool,
) -> str:
    """A breakdown row's name; a unit's is the one in force at the period's end, with its code
    (a reform may have reused the code since)."""
    if key is None and group is GroupBy.UNIT:
        return "(no unit)" if en else "(không xác định)"
    if key is None:
        return "(none)" if en else "(chưa giao)"
    if group is GroupBy.UNIT:
        name = units.name(str(key), period.last)
        return f"{name} ({key})" if name else str(key)
    return names.get(key, "—")


def print_on_one_page(ws: Worksheet) -> None:
    """Printed (and rendered to PDF) on one landscape A4 page."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = ws.page_setup.fitToHeight = 1


def met_label(met: bool, en: bool) -> str:
    if en:
        return "Yes" if met else "No"
    return "Đạt" if met else "Không đạt"


def _trend(book: Workbook, months: Statistics, en: bool) -> None:
    """The monthly trend: received, finished and the on-time rate per month, with a line chart."""
    ws = book.create_sheet("Monthly trend" if en else "Theo tháng")
    ws.append(["Month" if en else "Tháng", *(e if en else v for v, e, _, _ in COLUMNS)])
    for first, figures in months.groups:
        ws.append([f"{first:%m/%Y}", *(get(figures) for _, _, get, _ in COLUMNS)])
        ws.cell(ws.max_row, len(COLUMNS) + 1).number_format = PERCENT
    chart = LineChart()
    chart.title = "Monthly trend" if en else "Xu hướng theo tháng"
    chart.add_data(
        Reference(ws, min_col=2, max_col=3, min_row=1, max_row=ws.max_row), titles_from_data=True
    )
    chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=ws.max_row))
    ws.add_chart(chart, "G2")


def workbook_csvs(content: bytes) -> dict[str, bytes]:
    """Each sheet of the workbook as CSV (UTF-8 with BOM, which Excel opens as Unicode), by a
    file name made of the sheet's title: the same numbers, one table per file."""
    book = load_workbook(io.BytesIO(content))
    out: dict[str, bytes] = {}
    for ws in book.worksheets:
        text = io.StringIO()
        writer = csv.writer(text)
        for row in ws.iter_rows(values_only=True):
            writer.writerow(["" if v is None else v for v in row])
        name = re.sub(r"[^\w]+", "-", ws.title.lower()).strip("-")
        out[f"{name}.csv"] = text.getvalue().encode("utf-8-sig")
    return out
