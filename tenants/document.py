"""The onboarding document: a YAML file read into an `OnboardingPlan`, with line numbers.

Its shape is `tenants/onboarding.schema.json` (also for editors). Reading checks the YAML
syntax, duplicate and unknown keys and value types against that schema, so a mistyped key is
refused by name instead of being ignored; `onboarding.validate_plan` then checks the values the
way `onboardTenant` does. Errors name YAML paths (``tenant.report_prefix``); ``yaml_path`` turns
the GraphQL names `validate_plan` uses (``reportPrefix``) into them, and ``Document.line_of``
finds their line."""

from __future__ import annotations

import datetime
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from accounts.service import NewUser
from core.errors import DomainError, ErrorDetail
from tenants.onboarding import AgencyPlan, FieldPlan, OnboardingPlan, UnitPlan
from tenants.pilot import ON_TIME_TARGET, SATISFIED_TARGET, PilotPlan

SCHEMA_PATH = Path(__file__).with_name("onboarding.schema.json")
# validate_plan's top-level names (GraphQL) that live under `tenant:` in the document.
_TENANT_KEYS = {
    "code",
    "reportPrefix",
    "nameVi",
    "nameEn",
    "parentOrganisation",
    "provinceCode",
    "districtCode",
}
_RENAMED = {"defaultAgencyCode": "default_agency", "administrativeUnits": "administrative_units"}
_SEGMENT = re.compile(r"^([A-Za-z_]+)((?:\[\d+\])*)$")
_BOUNDARY = re.compile(r"^(.*?\.boundary)(?:[.\[]|$)")


class Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 as editors read it: ``2020-01-01`` stays a string, checked as a date by the
    schema (a YAML 1.1 loader would fail on ``2020-13-01`` with a bare ValueError)."""


Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class DocumentSyntaxError(Exception):
    """Not YAML at all: where the parser gave up."""

    def __init__(self, line: int | None, problem: str) -> None:
        self.line = line
        self.problem = problem
        super().__init__(f"line {line}: {problem}")


@dataclass(frozen=True)
class Document:
    data: Any
    lines: dict[str, int]  # YAML path -> 1-based line of its key (or list item)

    def line_of(self, path: str) -> int | None:
        """The line of ``path``, or of its nearest ancestor present in the file."""
        while path:
            if path in self.lines:
                return self.lines[path]
            cut = max(path.rfind("."), path.rfind("["))
            path = path[:cut] if cut > 0 else ""
        return None


def _walk(node: yaml.Node, path: str, lines: dict[str, int], duplicates: list[str]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = f"{path}.{key}" if path else key
            if key in seen:
                duplicates.append(child)
            seen.add(key)
            lines.setdefault(child, key_node.start_mark.line + 1)
            _walk(value_node, child, lines, duplicates)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = f"{path}[{i}]"
            lines.setdefault(child, item.start_mark.line + 1)
            _walk(item, child, lines, duplicates)


def parse(text: str) -> tuple[Document, list[str]]:
    """The document and the paths of duplicated keys; raises ``DocumentSyntaxError``."""
    try:
        node = yaml.compose(text, Loader=Yaml12Loader)
        data = yaml.load(text, Loader=Yaml12Loader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = " ".join(p for p in (error.context, error.problem) if p)
        raise DocumentSyntaxError(mark.line + 1 if mark else None, problem) from None
    except yaml.YAMLError as error:
        raise DocumentSyntaxError(None, str(error)) from None
    lines: dict[str, int] = {}
    duplicates: list[str] = []
    if node is not None:
        _walk(node, "", lines, duplicates)
    return Document(data, lines), duplicates


def read(path: Path) -> Document:
    """Parse and check the structure of the file at ``path``; raises ``DocumentSyntaxError``
    or ``DocumentInvalid`` (a DomainError whose fields are YAML paths)."""
    document, duplicates = parse(path.read_text(encoding="utf-8"))
    details = [
        ErrorDetail("DUPLICATE_KEY", "Khóa bị lặp lại.", "This key appears twice.", d)
        for d in duplicates
    ]
    details += structure_errors(document.data)
    if details:
        raise DocumentInvalid(document, details)
    return document


class DocumentInvalid(DomainError):
    def __init__(self, document: Document, details: list[ErrorDetail]) -> None:
        first = details[0]
        super().__init__(
            first.code, first.message_vi, first.message_en, first.field, details=details
        )
        self.document = document


@cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _as_json(value: Any) -> Any:
    """YAML reads 2020-01-01 as a date; the schema (like editors, YAML 1.2) sees a string."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    return value


def _path(parts: Any) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


_TYPE_VI = {"string": "chuỗi", "boolean": "true/false", "array": "danh sách", "object": "mục",
            "number": "số", "integer": "số nguyên"}  # fmt: skip


def structure_errors(data: Any) -> list[ErrorDetail]:
    """Every place ``data`` departs from the schema, one detail each, in document order."""
    details: list[ErrorDetail] = []
    errors = _validator().iter_errors(_as_json(data))
    for error in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
        path = _path(error.absolute_path)
        if boundary := _BOUNDARY.match(path):
            # oneOf's explanations of a bad polygon help nobody; one error per boundary does.
            where = boundary.group(1)
            if not any(d.field == where for d in details):
                details.append(
                    ErrorDetail(
                        "INVALID_GEOJSON",
                        "Ranh giới phải là GeoJSON Polygon hoặc MultiPolygon (kinh độ, vĩ độ).",
                        "A boundary is a GeoJSON Polygon or MultiPolygon (longitude, latitude).",
                        where,
                    )
                )
            continue
        details.extend(_explain(error, path))
    return details


def _explain(error: jsonschema.ValidationError, path: str) -> list[ErrorDetail]:
    kind, schema, instance = error.validator, error.schema, error.instance

    def at(key: str) -> str:
        return f"{path}.{key}" if path else key

    if kind == "additionalProperties":
        allowed = ", ".join(schema.get("properties", {}))
        return [
            ErrorDetail(
                "UNKNOWN_KEY",
                f"Khóa '{key}' không được hỗ trợ (các khóa hợp lệ: {allowed}).",
                f"Unknown key '{key}' (allowed here: {allowed}).",
                at(key),
            )
            for key in instance
            if key not in schema.get("properties", {})
        ]
    if kind == "required":
        return [
            ErrorDetail(
                "MISSING_KEY",
                f"Thiếu khóa bắt buộc '{key}'.",
                f"The required key '{key}' is missing.",
                at(key),
            )
            for key in error.validator_value
            if not isinstance(instance, dict) or key not in instance
        ]
    if kind == "type":
        want = error.validator_value
        hint = ' (đặt trong dấu nháy, ví dụ "10")' if want == "string" else ""
        hint_en = ' (quote it, e.g. "10")' if want == "string" else ""
        return [ErrorDetail(
            "INVALID_TYPE",
            f"Giá trị phải là {_TYPE_VI.get(want, want)}{hint}.",
            f"The value must be a {want}{hint_en}.",
            path,
        )]  # fmt: skip
    if kind == "minLength":
        return [ErrorDetail("REQUIRED", "Không được để trống.", "Must not be empty.", path)]
    if kind == "maxLength":
        n = error.validator_value
        return [ErrorDetail("TOO_LONG", f"Tối đa {n} ký tự.", f"At most {n} characters.", path)]
    if kind == "enum":
        options = ", ".join(map(str, error.validator_value))
        return [ErrorDetail(
            "INVALID_VALUE", f"Giá trị phải là một trong: {options}.",
            f"The value must be one of: {options}.", path,
        )]  # fmt: skip
    if kind == "format":
        return [ErrorDetail(
            "INVALID_DATE", "Ngày phải có dạng YYYY-MM-DD.", "A date is written YYYY-MM-DD.", path
        )]  # fmt: skip
    described = schema.get("description", "")
    return [ErrorDetail(
        "INVALID_VALUE",
        f"Giá trị không hợp lệ: {instance!r}." + (f" Cần: {described}" if described else ""),
        f"Invalid value {instance!r}." + (f" Expected: {described}" if described else ""),
        path,
    )]  # fmt: skip


def _date(value: Any) -> datetime.date | None:
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))


def to_plan(document: Document) -> OnboardingPlan:
    """The plan of a document that passed ``structure_errors``."""
    data = document.data
    t, admin = data["tenant"], data["admin"]
    return OnboardingPlan(
        code=t["code"],
        report_prefix=t["report_prefix"],
        name_vi=t["name_vi"],
        name_en=t["name_en"],
        parent_organisation=t.get("parent_organisation", ""),
        province_code=t.get("province_code", ""),
        district_code=t.get("district_code", ""),
        admin=NewUser(
            username=admin["username"],
            password=admin.get("password"),
            full_name=admin["full_name"],
            email=admin.get("email"),
            phone=admin.get("phone"),
        ),
        units=[
            UnitPlan(
                u["code"],
                u["name"],
                u["kind"],
                _date(u.get("valid_from")),
                _date(u.get("valid_to")),
                u.get("boundary"),
            )
            for u in data.get("administrative_units") or []
        ],
        agencies=[
            AgencyPlan(
                a["code"],
                a["name_vi"],
                a["name_en"],
                a.get("kind", "department"),
                a.get("is_coordination_centre", False),
            )
            for a in data.get("agencies") or []
        ],
        fields=[
            FieldPlan(
                f["code"],
                f["name_vi"],
                f["name_en"],
                f.get("default_agency"),
                f.get("sensitive", False),
                f.get("quick_fix", False),
                list(f.get("questions") or []),
            )
            for f in data.get("fields") or []
        ],
        options=dict(data.get("options") or {}),
        calendar=dict(data.get("calendar") or {}),
        pilot=_pilot(data.get("pilot")),
    )


def _pilot(data: dict[str, Any] | None) -> PilotPlan | None:
    """The document's ``pilot`` section (dates and targets checked later by ``onboard``)."""
    if not data:
        return None
    starts, ends = _date(data["starts_on"]), _date(data["ends_on"])
    assert starts is not None and ends is not None  # required by the JSON schema
    return PilotPlan(
        starts,
        ends,
        float(data.get("on_time_target", ON_TIME_TARGET)),
        float(data.get("satisfied_target", SATISFIED_TARGET)),
    )


def load_plan(path: Path) -> OnboardingPlan:
    return to_plan(read(path))


def _snake(name: str) -> str:
    return _RENAMED.get(name) or re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def yaml_path(field: str | None) -> str:
    """``reportPrefix`` -> ``tenant.report_prefix``, ``fields[1].defaultAgencyCode`` ->
    ``fields[1].default_agency``: where a `validate_plan` error points in the document."""
    if not field:
        return ""
    out: list[str] = []
    for i, segment in enumerate(field.split(".")):
        match = _SEGMENT.match(segment)
        if match is None:
            out.append(segment)
            continue
        name, index = match.groups()
        if i == 0 and name in _TENANT_KEYS:
            out.append("tenant")
        out.append(_snake(name) + index)
    return ".".join(out)
