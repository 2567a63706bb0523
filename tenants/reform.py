"""Loading a reform of administrative units (tenants/reforms/*.yaml): the new units, valid from
the effective date, and for each of them the units it replaced, which end the day before and
name it as their successor (docs/domain.md §12).

Idempotent: loading the same document again changes nothing. All or nothing: a document with
one unknown predecessor writes no row (the caller runs it in one transaction)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

from core.errors import Validator
from tenants.document import Yaml12Loader
from tenants.models import AdministrativeUnit, UnitKind

REFORMS = Path(__file__).resolve().parent / "reforms"
PILOT_REFORM = REFORMS / "lao-cai-2025.yaml"


@dataclass(frozen=True)
class NewUnit:
    code: str
    name: str
    kind: UnitKind
    predecessors: tuple[str, ...]
    boundary: dict[str, Any] | None
    confirmed: bool


@dataclass(frozen=True)
class Reform:
    code: str
    effective: date
    province_code: str
    units: tuple[NewUnit, ...]

    @property
    def last_day_before(self) -> date:
        return self.effective - timedelta(days=1)


@dataclass
class ReformResult:
    created: list[str] = field(default_factory=list)
    ended: list[str] = field(default_factory=list)  # predecessors given a successor now


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def parse_reform(text: str) -> Reform:
    """The reform document, validated (INVALID with the YAML path of each problem)."""
    doc = yaml.load(text, Loader=Yaml12Loader) or {}
    v = Validator()
    head = doc.get("reform") or {}
    try:
        effective = _day(head.get("effective"))
    except ValueError:
        v.add("INVALID", "reform.effective", "Ngày hiệu lực không hợp lệ.", "Invalid date.")
        effective = date.min
    units: list[NewUnit] = []
    for i, raw in enumerate(doc.get("units") or []):
        code = str(raw.get("code", ""))
        if not (len(code) == 5 and code.isdigit()):
            v.add("INVALID", f"units[{i}].code", "Mã đơn vị phải có 5 chữ số.", "Five digits.")
        kind = raw.get("kind")
        if kind not in {k.value for k in UnitKind}:
            v.add("INVALID_CHOICE", f"units[{i}].kind", "Loại đơn vị không hợp lệ.", "Bad kind.")
            continue
        units.append(
            NewUnit(
                code,
                str(raw.get("name", "")),
                UnitKind(kind),
                tuple(str(p) for p in raw.get("predecessors") or ()),
                raw.get("boundary"),
                bool(raw.get("confirmed", False)),
            )
        )
    v.check()
    return Reform(
        str(head.get("code", "")), effective, str(head.get("province_code", "")), tuple(units)
    )


def load_reform_file(path: Path = PILOT_REFORM) -> Reform:
    return parse_reform(path.read_text(encoding="utf-8"))


async def apply_reform(reform: Reform) -> ReformResult:
    """Write the reform's units and successor links (run it inside one transaction).

    A predecessor is the version of its code in force the day before the effective date; it
    must exist (UNKNOWN_UNIT) and ends that day."""
    before = reform.last_day_before
    v = Validator()
    predecessors: dict[str, AdministrativeUnit] = {}
    for i, unit in enumerate(reform.units):
        for code in unit.predecessors:
            found = [
                u
                for u in await AdministrativeUnit.filter(code=code)
                if (u.valid_from is None or u.valid_from <= before)
                and (u.valid_to is None or u.valid_to >= before)
            ]
            if not found:
                v.add(
                    "UNKNOWN_UNIT",
                    f"units[{i}].predecessors",
                    f"Không có đơn vị hành chính {code} còn hiệu lực ngày {before:%d/%m/%Y}.",
                    f"No administrative unit {code} is in force on {before:%Y-%m-%d}.",
                )
            else:
                predecessors[code] = found[0]
    v.check()
    result = ReformResult()
    for unit in reform.units:
        _, created = await AdministrativeUnit.update_or_create(
            code=unit.code,
            valid_from=reform.effective,
            defaults={
                "name": unit.name,
                "kind": unit.kind,
                "province_code": reform.province_code,
                "boundary": unit.boundary,
                "valid_to": None,
            },
        )
        if created:
            result.created.append(unit.code)
        for code in unit.predecessors:
            old = predecessors[code]
            successors = sorted({*(old.successor_codes or ()), unit.code})
            if old.valid_to != before or successors != sorted(old.successor_codes or ()):
                old.valid_to = before
                old.successor_codes = successors
                await old.save(update_fields=["valid_to", "successor_codes"])
                result.ended.append(code)
    return result
