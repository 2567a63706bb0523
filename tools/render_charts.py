"""Render an evaluation workbook's chart sheets to one PNG with LibreOffice headless (the README
screenshot): XLSX → PDF (`soffice --convert-to pdf`, one landscape page per sheet) → one PNG
per page (`pdftoppm`, poppler-utils) → the pages after the summary, cropped to their content
and stacked two per row (Pillow).

    paht stats export --tenant sa-pa --from 2026-06-05 --to 2026-12-01 --out sa-pa.xlsx
    python tools/render_charts.py sa-pa.xlsx docs/evaluation-charts.png

Needs `soffice` (Debian: libreoffice-calc) and `pdftoppm` (poppler-utils) on PATH.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageChops


def _cropped(page: Image.Image, margin: int = 12) -> Image.Image:
    background = Image.new(page.mode, page.size, "white")
    box = ImageChops.difference(page, background).getbbox() or (0, 0, *page.size)
    left, top, right, bottom = box
    return page.crop((max(0, left - margin), max(0, top - margin), right + margin, bottom + margin))


def render(workbook: Path, out: Path, dpi: int = 80) -> Path:
    with tempfile.TemporaryDirectory() as tmp:
        profile = Path(tmp) / "profile"
        subprocess.run(
            ["soffice", f"-env:UserInstallation=file://{profile}", "--headless",
             "--convert-to", "pdf", "--outdir", tmp, str(workbook)],
            check=True, capture_output=True, timeout=300,
        )  # fmt: skip
        pdf = Path(tmp) / f"{workbook.stem}.pdf"
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), f"{tmp}/page"], check=True)
        pages = [
            _cropped(Image.open(p).convert("RGB")) for p in sorted(Path(tmp).glob("page-*.png"))
        ]
    charts = pages[1:] or pages  # the summary (page 1) has no chart
    rows = [charts[i : i + 2] for i in range(0, len(charts), 2)]
    width = max(sum(p.width for p in row) for row in rows)
    sheet = Image.new("RGB", (width, sum(max(p.height for p in row) for row in rows)), "white")
    y = 0
    for row in rows:
        x = 0
        for page in row:
            sheet.paste(page, (x, y))
            x += page.width
        y += max(p.height for p in row)
    out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(out, optimize=True)
    return out


if __name__ == "__main__":
    print(render(Path(sys.argv[1]), Path(sys.argv[2])))
