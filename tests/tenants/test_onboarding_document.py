"""The onboarding document: its JSON Schema (for editors, and checked on reading), errors that
name the file, the line and the YAML key in both languages, and `paht tenants validate`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from api.database import DatabaseUrls
from tenants import document
from tenants.models import Tenant
from tests.support.cli import run_paht

ROOT = Path(__file__).resolve().parents[2]
DEMO = sorted((ROOT / "tenants" / "demo").glob("*.yaml"))
EXAMPLES = sorted((ROOT / "tenants" / "examples").glob("*.yaml"))
SCHEMA = json.loads(document.SCHEMA_PATH.read_text(encoding="utf-8"))


def as_json(path: Path) -> Any:
    return document._as_json(yaml.safe_load(path.read_text(encoding="utf-8")))


def test_the_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize("path", DEMO + EXAMPLES, ids=lambda p: p.name)
def test_demo_documents_validate_against_the_schema(path: Path) -> None:
    jsonschema.validate(
        as_json(path), SCHEMA, format_checker=jsonschema.FormatChecker()
    )  # raises with the first difference
    assert document.load_plan(path).units  # and the reader accepts them


def test_the_schema_refuses_what_the_reader_refuses() -> None:
    data = as_json(DEMO[0])
    data["tenant"]["distric_code"] = "088"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, SCHEMA)


SAMPLE = """\
tenant:
  code: bac-ha
  report_prefix: BH
  name_vi: UBND huyện Bắc Hà
  name_en: Bac Ha District People's Committee
  province_code: "99"
  district_code: "083"
administrative_units:
  - code: "02800"
    name: Thị trấn Bắc Hà
    kind: thi_tran
    valid_from: 2008-01-01
fields:
  - code: ha-tang
    name_vi: Hạ tầng
    name_en: Infrastructure
    default_agency: phong-qldt
admin:
  username: bacha.admin
  full_name: Quản trị Bắc Hà
"""


def write(tmp_path: Path, text: str, name: str = "doc.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_lines_and_yaml_keys() -> None:
    doc, duplicates = document.parse(SAMPLE)
    assert duplicates == []
    assert doc.line_of("tenant.report_prefix") == 3
    assert doc.line_of("administrative_units[0].kind") == 11
    assert doc.line_of("fields[0].questions[2].label_vi") == 14  # nearest present ancestor
    assert document.yaml_path("reportPrefix") == "tenant.report_prefix"
    assert document.yaml_path("fields[0].defaultAgencyCode") == "fields[0].default_agency"
    assert document.yaml_path("administrativeUnits[0].boundary") == (
        "administrative_units[0].boundary"
    )
    assert document.yaml_path("fields[1].questions[0].labelVi") == "fields[1].questions[0].label_vi"
    assert document.yaml_path("admin.fullName") == "admin.full_name"


STRUCTURE_CASES = {
    "unknown key": (
        ("  district_code:", "  distric_code:"),
        [("UNKNOWN_KEY", "tenant.distric_code", 7)],
    ),
    "unquoted province code": (
        ('province_code: "99"', "province_code: 10"),
        [("INVALID_TYPE", "tenant.province_code", 6)],
    ),
    "missing name": (
        ("    name: Thị trấn Bắc Hà\n", ""),
        [("MISSING_KEY", "administrative_units[0].name", 9)],
    ),
    "bad date": (
        ("valid_from: 2008-01-01", "valid_from: 2008-13-01"),
        [("INVALID_DATE", "administrative_units[0].valid_from", 12)],
    ),
    "duplicate key": (
        ("  name_en: Bac Ha", "  name_vi: Bắc Hà\n  name_en: Bac Ha"),
        [("DUPLICATE_KEY", "tenant.name_vi", 4)],
    ),
    "boundary that is not GeoJSON": (
        ("    valid_from: 2008-01-01\n",
         "    valid_from: 2008-01-01\n    boundary: {type: Point}\n"),
        [("INVALID_GEOJSON", "administrative_units[0].boundary", 13)],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(STRUCTURE_CASES))
def test_structure_errors_name_the_key_and_its_line(tmp_path: Path, case: str) -> None:
    (old, new), expected = STRUCTURE_CASES[case]
    assert old in SAMPLE
    path = write(tmp_path, SAMPLE.replace(old, new, 1))
    with pytest.raises(document.DocumentInvalid) as error:
        document.read(path)
    found = [
        (d.code, d.field, error.value.document.line_of(d.field or "")) for d in error.value.details
    ]
    assert found == expected
    assert all(d.message_vi and d.message_en for d in error.value.details)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line and not line.startswith("{")]


async def test_cli_reports_a_yaml_syntax_error_in_two_lines(
    database: DatabaseUrls, tmp_path: Path
) -> None:
    path = write(tmp_path, SAMPLE.replace("  name_en: Bac Ha", " name_en: [Bac Ha"))
    for command in (["tenants", "validate", "--offline"], ["tenants", "onboard"]):
        result = run_paht([*command, str(path)], database, tmp_path)
        assert result.returncode == 1
        lines = error_lines(result.stderr)
        assert len(lines) == 2 and "Traceback" not in result.stderr
        assert lines[0].startswith(f"lỗi: {path}:5: ")
        assert lines[1].startswith(f"error: {path}:5: not valid YAML")


async def test_cli_names_yaml_keys_with_lines_in_both_languages(
    database: DatabaseUrls, tmp_path: Path
) -> None:
    path = write(tmp_path, SAMPLE)
    before = await Tenant.all().count()
    result = run_paht(["tenants", "onboard", str(path)], database, tmp_path)
    assert result.returncode == 1, result.stdout
    lines = error_lines(result.stderr)
    assert lines == [
        f"lỗi: {path}:6: tenant.province_code: Mã tỉnh 99 không có trong danh mục (hai chữ số, "
        "ví dụ 10). [UNKNOWN_PROVINCE]",
        f"error: {path}:6: tenant.province_code: Province code 99 is not in the national list "
        "(e.g. 10). [UNKNOWN_PROVINCE]",
        f"lỗi: {path}:17: fields[0].default_agency: Cơ quan chủ trì không có trong danh sách. "
        "[UNKNOWN_AGENCY]",
        f"error: {path}:17: fields[0].default_agency: Unknown default agency. [UNKNOWN_AGENCY]",
    ]
    assert "provinceCode" not in result.stderr and "defaultAgencyCode" not in result.stderr
    assert await Tenant.all().count() == before


async def test_cli_validate_checks_against_the_database_without_writing(
    database: DatabaseUrls, tmp_path: Path, pilot: dict[str, Any]
) -> None:
    sapa = ROOT / "tenants" / "demo" / "sa-pa.yaml"
    offline = run_paht(["tenants", "validate", "--offline", str(sapa)], database, tmp_path)
    assert offline.returncode == 0, offline.stderr
    assert "valid" in offline.stdout and "16 units" in offline.stdout

    before = await Tenant.all().count()
    online = run_paht(["tenants", "validate", str(sapa)], database, tmp_path)
    assert online.returncode == 1
    lines = error_lines(online.stderr)
    assert (
        lines[1]
        == f"error: {sapa}:6: tenant.code: A tenant with this code exists. [DUPLICATE_CODE]"
    )

    copy = yaml.safe_load(sapa.read_text(encoding="utf-8"))
    copy["tenant"]["code"] = "sa-pa-copy"
    path = write(tmp_path, yaml.safe_dump(copy, allow_unicode=True, sort_keys=False), "copy.yaml")
    taken = run_paht(["tenants", "validate", str(path)], database, tmp_path)
    assert taken.returncode == 1
    english = [line for line in error_lines(taken.stderr) if line.startswith("error: ")]
    assert len(english) == 16
    assert all("[UNIT_TAKEN]" in line and "(sa-pa)" in line for line in english)
    assert english[0].startswith(f"error: {path}:10: administrative_units[0].code: ")
    assert await Tenant.all().count() == before


async def test_cli_database_errors_are_two_lines(database: DatabaseUrls, tmp_path: Path) -> None:
    missing = DatabaseUrls(
        app=database.app.replace("@/", "@/no_such_database_", 1), owner=database.owner
    )
    result = run_paht(["tenants", "validate", str(DEMO[0])], missing, tmp_path)
    assert result.returncode == 3
    lines = error_lines(result.stderr)
    assert len(lines) == 2 and "Traceback" not in result.stderr
    assert lines[1].startswith("error: the database refused (SQLSTATE 3D000)")
