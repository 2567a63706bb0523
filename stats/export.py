"""The evaluation workbook (XLSX, openpyxl): a summary sheet and one sheet per breakdown with a
native bar chart; Vietnamese by default. Numbers are the ones ``statistics`` answers (the same
``stats.queries`` call), written as numbers with Vietnamese-style formats, never as text."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font

from permissions.scope import Scope
from stats.indicators import Figures, Standing
from stats.queries import GroupBy, Period, tenant_statistics
from tenants.models import Agency, Field

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
]
BREAKDOWNS = [
    (GroupBy.AGENCY, "Theo cơ quan", "By agency"),
    (GroupBy.FIELD, "Theo lĩnh vực", "By field"),
]
COLUMNS: list[tuple[str, str, Getter, str | None]] = [
    ("Tiếp nhận", "Received", lambda f: f.received, None),
    ("Đã xử lý", "Finished", lambda f: f.finished, None),
    ("Quá hạn", "Overdue", lambda f: f.open(Standing.OVERDUE), None),
    ("Tỉ lệ đúng hạn", "On-time rate", lambda f: f.on_time_rate, PERCENT),
]


async def _names(tenant_id: uuid.UUID, lang: str) -> dict[uuid.UUID, str]:
    rows: list[Agency | Field] = [
        *await Agency.filter(tenant_id=tenant_id),
        *await Field.filter(tenant_id=tenant_id),
    ]
    return {r.id: (r.name_en if lang == "en" else r.name_vi) for r in rows}


async def evaluation_workbook(
    scope: Scope, tenant_id: uuid.UUID, period: Period, lang: str = "vi"
) -> bytes:
    en = lang == "en"
    total = (await tenant_statistics(scope, tenant_id, period)).total
    names = await _names(tenant_id, lang)
    book = Workbook()
    sheet = book.active
    sheet.title = "Summary" if en else "Tổng hợp"
    sheet.append(["Indicator" if en else "Chỉ tiêu", "Value" if en else "Giá trị"])
    sheet.append([f"{period.first:%d/%m/%Y} – {period.last:%d/%m/%Y}"])
    for vi, english, get, fmt in ROWS:
        sheet.append([english if en else vi, get(total)])
        if fmt:
            sheet.cell(sheet.max_row, 2).number_format = fmt
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 36
    for group, vi, english in BREAKDOWNS:
        result = await tenant_statistics(scope, tenant_id, period, group)
        ws = book.create_sheet(english if en else vi)
        ws.append(["Name" if en else "Tên", *(e if en else v for v, e, _, _ in COLUMNS)])
        for key, figures in result.groups:
            label = names.get(key, "—") if key else ("(none)" if en else "(chưa giao)")
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
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
