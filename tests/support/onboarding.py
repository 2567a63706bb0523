"""Onboarding helpers: plans and documents for a new locality, its generated ids, and the check
that a refused onboarding left nothing behind."""

from __future__ import annotations

import itertools
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from accounts.models import Membership
from api.demo import SYSTEM_PROVINCE
from permissions.models import CasbinRule, Role
from permissions.session import scoped_transaction, tenant_transaction
from tenants import document, onboarding
from tenants.models import (
    AdministrativeUnit,
    Agency,
    Field,
    Tenant,
    TenantSettings,
)
from tests.factories import find_user

DEMO = Path(__file__).resolve().parents[2] / "tenants" / "demo"


_UNIT_CODES = itertools.count(90_000)


def unit_code() -> str:
    """Distinct codes for the whole run (the unit registry is shared by every test), in a range
    no other test module uses."""
    return str(next(_UNIT_CODES))


def square(code: str, size: float = 0.01) -> dict[str, Any]:
    """A boundary of its own for unit ``code``: onboarding refuses units that overlap another
    tenant's. On a 0.02° grid at sea, away from every point other tests submit at."""
    n = int(code) - 90_000
    x, y = 110.0 + (n % 100) * 0.02, 8.0 + (n // 100) * 0.02
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Polygon", "coordinates": [[[round(a, 5), round(b, 5)] for a, b in ring]]}


async def tenant_rows(tenant_id: Any) -> dict[str, int]:
    """How many rows of each tenant-owned table ``tenant_id`` has."""
    async with tenant_transaction(tenant_id):
        return {
            "agency": await Agency.filter(tenant_id=tenant_id).count(),
            "field": await Field.filter(tenant_id=tenant_id).count(),
            "settings": await TenantSettings.filter(tenant_id=tenant_id).count(),
            "role": await Role.filter(tenant_id=tenant_id).count(),
            "membership": await Membership.filter(tenant_id=tenant_id).count(),
            "casbin_rule": await CasbinRule.filter(tenant_id=tenant_id).count(),
        }


EMPTY = dict.fromkeys(["agency", "field", "settings", "role", "membership", "casbin_rule"], 0)


class TenantIds:
    """Records the tenant ids onboarding draws, to look for leftovers of a rolled-back one."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.ids: list[uuid.UUID] = []
        original = onboarding.new_id

        def record() -> uuid.UUID:
            self.ids.append(original())
            return self.ids[-1]

        monkeypatch.setattr(onboarding, "new_id", record)


async def assert_nothing_left(data: dict[str, Any], drawn: list[uuid.UUID]) -> None:
    code = data["code"].strip().lower()
    if len(code) <= 40:  # the model refuses to even look for a longer one
        assert not await Tenant.exists(code=code)
    assert await find_user(data["admin"]["username"]) is None
    units = [u["code"] for u in data.get("administrativeUnits", [])]
    assert not await AdministrativeUnit.exists(code__in=units) if units else True
    for tenant_id in drawn:
        assert not await Tenant.exists(id=tenant_id)
        assert await tenant_rows(tenant_id) == EMPTY


def demo_document(code: str, *, own_units: bool = True) -> dict[str, Any]:
    """A copy of Sa Pa's document under another code; with ``own_units`` its units get codes
    and boundaries of their own (onboarding refuses units Sa Pa holds)."""
    doc = yaml.safe_load((DEMO / "sa-pa.yaml").read_text(encoding="utf-8"))
    doc["tenant"].update(code=code, report_prefix="SQ", name_vi="UBND thị xã Sa Pa (bản sao)")
    doc["admin"].update(username=f"{code}.admin", email=f"admin@{code}.example.vn")
    if own_units:
        for unit in doc["administrative_units"]:
            unit["code"] = unit_code()
            unit["boundary"] = square(unit["code"])
    return doc


def write_document(tmp_path: Path, doc: dict[str, Any]) -> Path:
    path = tmp_path / f"{doc['tenant']['code']}.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


async def onboard_document(path: Path) -> onboarding.OnboardingResult:
    plan_ = document.load_plan(path)
    async with scoped_transaction(SYSTEM_PROVINCE):
        return await onboarding.onboard(SYSTEM_PROVINCE, plan_)
