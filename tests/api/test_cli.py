"""The `paht` command line against the test database."""

from __future__ import annotations

import uuid
from pathlib import Path

import yaml

from api.database import DatabaseUrls
from tenants.models import Tenant
from tests.support.cli import ROOT, run_paht


async def test_onboard_from_yaml(database: DatabaseUrls, tmp_path: Path) -> None:
    document = yaml.safe_load((ROOT / "tenants" / "demo" / "sa-pa.yaml").read_text())
    code = f"cli-{uuid.uuid4().hex[:6]}"
    document["tenant"]["code"] = code
    document["admin"]["username"] = f"{code}.admin"
    # Units of its own (the registry is shared: other tests count Sa Pa's units).
    base = 80000 + uuid.uuid4().int % 9000  # 9xxxx belongs to the onboarding tests
    for i, unit in enumerate(document["administrative_units"][:3]):
        unit["code"] = str(base + i)
        unit.pop("boundary", None)
    document["administrative_units"] = document["administrative_units"][:3]
    path = tmp_path / "tenant.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")

    result = run_paht(["tenants", "onboard", str(path)], database, tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"Onboarded {code}" in result.stdout
    assert "Generated password (shown once):" in result.stdout
    assert await Tenant.exists(code=code)

    again = run_paht(["tenants", "onboard", str(path)], database, tmp_path)
    assert again.returncode == 1
    assert "DUPLICATE_CODE" in again.stderr


async def test_schema_check_detects_a_stale_file(database: DatabaseUrls, tmp_path: Path) -> None:
    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query { stale: Int }\n")
    result = run_paht(["schema", "--check", "--output", str(stale)], database, tmp_path)
    assert result.returncode == 1 and "stale" in result.stderr
    fresh = run_paht(["schema", "--output", str(stale)], database, tmp_path)
    assert fresh.returncode == 0
    assert (
        run_paht(["schema", "--check", "--output", str(stale)], database, tmp_path).returncode == 0
    )


async def test_serve_refuses_to_start_without_a_shared_secret(
    database: DatabaseUrls, tmp_path: Path
) -> None:
    # With a real database several replicas share it: a per-machine random secret would make
    # each refuse the others' tokens.
    result = run_paht(["serve"], database, tmp_path)
    assert result.returncode == 2
    assert "PAHT_JWT_SECRET" in result.stderr
