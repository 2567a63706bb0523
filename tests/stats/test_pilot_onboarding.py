"""The pilot set in the onboarding document: written with the tenant, read by the evaluation;
a bad period refused before anything is written, named by its YAML key."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from core.errors import DomainError
from permissions.session import tenant_transaction
from tenants import document
from tenants.models import Pilot, Tenant
from tests.support.onboarding import demo_document, onboard_document, write_document


async def test_the_document_sets_the_pilot(tmp_path: Path) -> None:
    doc = demo_document("thi-diem-a")
    doc["pilot"] = {"starts_on": "2026-01-01", "ends_on": "2026-06-30", "on_time_target": 0.85}
    result = await onboard_document(write_document(tmp_path, doc))
    async with tenant_transaction(result.tenant.id):
        row = await Pilot.get(tenant_id=result.tenant.id)
    assert (row.starts_on, row.ends_on) == (date(2026, 1, 1), date(2026, 6, 30))
    assert (row.on_time_target, row.satisfied_target) == (0.85, 0.8)  # the default kept


async def test_a_bad_pilot_period_is_refused_and_writes_nothing(tmp_path: Path) -> None:
    doc = demo_document("thi-diem-b")
    doc["pilot"] = {"starts_on": "2026-06-30", "ends_on": "2026-01-01"}
    path = write_document(tmp_path, doc)
    with pytest.raises(DomainError) as refused:
        await onboard_document(path)
    assert [(d.code, document.yaml_path(d.field)) for d in refused.value.details] == [
        ("INVALID_PERIOD", "pilot.ends_on")
    ]
    assert not await Tenant.exists(code="thi-diem-b")
    doc["pilot"] = {"starts_on": "2026-01-01", "ends_on": "2026-06-30", "satisfied_target": 2}
    with pytest.raises(document.DocumentInvalid) as schema:  # the schema refuses it first
        document.read(write_document(tmp_path, doc))
    assert [d.field for d in schema.value.details] == ["pilot.satisfied_target"]
