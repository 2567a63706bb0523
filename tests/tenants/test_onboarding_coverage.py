"""Onboarding refuses places another tenant holds: the same unit codes, or boundaries that
overlap (touching is fine), in the same period; a merged tenant's units may be taken over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.errors import DomainError
from tenants.models import AdministrativeUnit, Tenant, TenantStatus
from tests.conftest import unique
from tests.support.onboarding import (
    TenantIds,
    assert_nothing_left,
    demo_document,
    onboard_document,
    unit_code,
    write_document,
)


async def test_units_of_another_tenant_are_refused(
    tmp_path: Path, pilot: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy of Sa Pa claims Sa Pa's units (same codes, same period): every one is named, and
    nothing is written. Then the same boundaries under new codes: refused as overlapping."""
    drawn = TenantIds(monkeypatch)
    doc = demo_document(unique("yaml"), own_units=False)
    sapa_units = [u["code"] for u in doc["administrative_units"]]
    before = {
        u.code: (u.name, u.boundary) for u in await AdministrativeUnit.filter(code__in=sapa_units)
    }
    with pytest.raises(DomainError) as taken:
        await onboard_document(write_document(tmp_path, doc))
    assert [(d.code, d.field) for d in taken.value.details] == [
        ("UNIT_TAKEN", f"administrativeUnits[{i}].code") for i in range(len(sapa_units))
    ]
    assert "sa-pa" in taken.value.details[0].message_en
    assert "sa-pa" in taken.value.details[0].message_vi

    for unit in doc["administrative_units"]:
        unit["code"] = unit_code()
    with pytest.raises(DomainError) as overlap:
        await onboard_document(write_document(tmp_path, doc))
    assert {d.code for d in overlap.value.details} == {"BOUNDARY_OVERLAP"}
    assert [d.field for d in overlap.value.details] == [
        f"administrativeUnits[{i}].boundary" for i in range(len(sapa_units))
    ]
    assert len(drawn.ids) == 2  # both got as far as the transaction, and wrote nothing
    await assert_nothing_left(
        {"code": doc["tenant"]["code"], "admin": doc["admin"], "administrativeUnits": [
            {"code": u["code"]} for u in doc["administrative_units"]]}, drawn.ids,
    )  # fmt: skip
    after = {
        u.code: (u.name, u.boundary) for u in await AdministrativeUnit.filter(code__in=sapa_units)
    }
    assert after == before


async def test_neighbours_that_only_touch_are_accepted(tmp_path: Path) -> None:
    """Lào Cai and Sa Pa share a border (demo boundaries): a unit that shares an edge with a
    held unit is not an overlap."""
    held = await onboard_document(write_document(tmp_path, demo_document(unique("yaml"))))
    first = (await AdministrativeUnit.get(code=held.tenant.unit_codes[0])).boundary
    (x0, y0), (x1, _y), (_x, y1) = first["coordinates"][0][:3]
    doc = demo_document(unique("yaml"))
    doc["administrative_units"] = doc["administrative_units"][:1]
    neighbour = [[x1, y0], [2 * x1 - x0, y0], [2 * x1 - x0, y1], [x1, y1], [x1, y0]]
    doc["administrative_units"][0]["boundary"] = {"type": "Polygon", "coordinates": [neighbour]}
    result = await onboard_document(write_document(tmp_path, doc))
    assert result.tenant.unit_codes == [doc["administrative_units"][0]["code"]]


async def test_units_of_a_merged_tenant_may_be_taken_over(tmp_path: Path) -> None:
    """After a merger the successor covers its predecessors' units: the shared registry row is
    reused, not duplicated or rewritten."""
    first = await onboard_document(write_document(tmp_path, demo_document(unique("yaml"))))
    units = await AdministrativeUnit.filter(code__in=first.tenant.unit_codes)
    await Tenant.filter(id=first.tenant.id).update(status=TenantStatus.MERGED)
    doc = demo_document(unique("yaml"), own_units=False)
    doc["administrative_units"] = [
        {"code": u.code, "name": f"{u.name} (đổi tên)", "kind": u.kind.value,
         "valid_from": u.valid_from, "boundary": u.boundary} for u in units
    ]  # fmt: skip
    successor = await onboard_document(write_document(tmp_path, doc))
    assert sorted(successor.tenant.unit_codes) == sorted(first.tenant.unit_codes)
    again = await AdministrativeUnit.filter(code__in=first.tenant.unit_codes)
    assert {(u.id, u.name) for u in again} == {(u.id, u.name) for u in units}
