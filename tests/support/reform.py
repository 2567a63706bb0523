"""The pilot area before and after the 2025 reform: the demo's unit cells and two instants."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from shapely.geometry import shape

from tests.clock import vn

DEMO = Path(__file__).resolve().parents[2] / "tenants" / "demo"
BEFORE = vn(2022, 9, 15, 9)  # the pilot
AFTER = vn(2026, 3, 11, 9)  # today's units


def demo_cells() -> dict[str, Any]:
    """The pilot units' demo boundaries (shapely), by code."""
    cells = {}
    for path in DEMO.glob("*.yaml"):
        for unit in yaml.safe_load(path.read_text(encoding="utf-8"))["administrative_units"]:
            cells[unit["code"]] = shape(unit["boundary"])
    return cells
