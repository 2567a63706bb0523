"""The comparison workbook: several localities' indicators for one period side by side, as a
province files them — one column per locality with the summary's rows (``stats.export.ROWS``)
and each pilot's targets under them, then a sheet of the rates per locality with a native bar
chart. The evaluation export adds it to its zip when it covers more than one tenant;
``paht stats compare`` writes it alone. Numbers are those ``provinceStatistics`` answers."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font

from stats.export import PERCENT, ROWS, met_label, print_on_one_page
from stats.indicators import Figures
from stats.slicing import Period


@dataclass(frozen=True)
class Locality:
    """One column: the locality's name in the workbook's language, its period totals and its
    pilot's targets (None: no pilot set)."""

    name: str
    figures: Figures
    on_time_target: float | None = None
    satisfied_target: float | None = None


def comparison_workbook(localities: Sequence[Locality], period: Period, lang: str = "vi") -> bytes:
    en = lang == "en"
    book = Workbook()
    sheet = book.active
    sheet.title = "Comparison" if en else "So sánh"
    sheet.append(["Indicator" if en else "Chỉ tiêu", *(p.name for p in localities)])
    sheet.append([f"{period.first:%d/%m/%Y} – {period.last:%d/%m/%Y}"])
    for vi, english, get, fmt in ROWS:
        sheet.append([english if en else vi, *(get(p.figures) for p in localities)])
        if fmt:
            for column in range(2, len(localities) + 2):
                sheet.cell(sheet.max_row, column).number_format = fmt
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.column_dimensions["A"].width = 44

    rates = book.create_sheet("Rates" if en else "Tỉ lệ")
    rates.append(
        [
            "Locality" if en else "Địa phương",
            "On-time rate" if en else "Tỉ lệ đúng hạn",
            "Satisfied (4–5)" if en else "Tỉ lệ hài lòng (4–5)",
            "On-time target" if en else "Chỉ tiêu đúng hạn",
            "On-time target met" if en else "Đạt chỉ tiêu đúng hạn",
            "Satisfaction target" if en else "Chỉ tiêu hài lòng",
            "Satisfaction target met" if en else "Đạt chỉ tiêu hài lòng",
        ]
    )
    for p in localities:
        on_time, satisfied = p.figures.on_time_rate, p.figures.satisfied_share
        rates.append(
            [
                p.name,
                on_time,
                satisfied,
                p.on_time_target,
                _judged(on_time, p.on_time_target, en),
                p.satisfied_target,
                _judged(satisfied, p.satisfied_target, en),
            ]
        )
        for column in (2, 3, 4, 6):
            rates.cell(rates.max_row, column).number_format = PERCENT
    for cell in rates[1]:
        cell.font = Font(bold=True)
    rates.column_dimensions["A"].width = 36
    if localities:
        chart = BarChart()
        chart.title = "Rates by locality" if en else "Tỉ lệ theo địa phương"
        chart.add_data(
            Reference(rates, min_col=2, max_col=3, min_row=1, max_row=rates.max_row),
            titles_from_data=True,
        )
        chart.set_categories(Reference(rates, min_col=1, min_row=2, max_row=rates.max_row))
        chart.y_axis.number_format = PERCENT
        rates.add_chart(chart, "A" + str(rates.max_row + 3))
    for ws in book.worksheets:
        print_on_one_page(ws)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _judged(value: float | None, target: float | None, en: bool) -> str | None:
    """Met or not; nothing to judge without a target or without a value (no ratings yet)."""
    if value is None or target is None:
        return None
    return met_label(value >= target, en)
