"""An async casbin adapter on Tortoise, with a tenant column and tenant-filtered loading.

Rules are stored one per row in ``casbin_rule``; the domain value of each rule (``v1`` of ``p``,
``v2`` of ``g``) decides its ``tenant_id`` ("*" → NULL, the provincial domain). Writes run in the
caller's transaction (Tortoise routes through the ContextVar), so a policy change commits or rolls
back together with the business change that caused it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from casbin.persist.adapters.asyncio import (
    AsyncAdapter,
    AsyncBatchAdapter,
    AsyncFilteredAdapter,
)
from tortoise.expressions import Q

from permissions.models import CasbinRule

PROVINCE_DOMAIN = "*"
_COLUMNS = ("v0", "v1", "v2", "v3", "v4", "v5")
_DOMAIN_INDEX = {"p": 1, "g": 2}


@dataclass(frozen=True)
class TenantFilter:
    """Load the rules of one tenant plus the provincial ("*") rules."""

    tenant_id: uuid.UUID


def rule_tenant(ptype: str, rule: Sequence[str]) -> uuid.UUID | None:
    index = _DOMAIN_INDEX.get(ptype[0])
    if index is None or index >= len(rule) or rule[index] in ("", PROVINCE_DOMAIN):
        return None
    return uuid.UUID(rule[index])


def _row_values(rule: Sequence[str]) -> dict[str, Any]:  # Any: spread into Model.create
    if len(rule) > len(_COLUMNS):
        raise ValueError(f"a casbin rule has at most {len(_COLUMNS)} values")
    values = dict.fromkeys(_COLUMNS, "")
    values.update(zip(_COLUMNS, rule, strict=False))
    return values


def load_rules(model, rules: Sequence[Sequence[str]]) -> None:
    """Append ``(ptype, v0, ..., v5)`` rows to a casbin model.

    Values go straight into the model instead of through casbin's line parser, so values that
    contain ", " survive the round trip."""
    for ptype, *values in rules:
        assertion = model.model.get(ptype[0], {}).get(ptype)
        if assertion is None:
            continue
        while values and values[-1] == "":
            values.pop()
        assertion.policy.append(list(values))


class TortoiseAdapter(AsyncAdapter, AsyncBatchAdapter, AsyncFilteredAdapter):
    def __init__(self) -> None:
        self._filtered = False

    # casbin's CoreEnforcer calls is_filtered() without await, so it must be synchronous.
    def is_filtered(self) -> bool:
        return self._filtered

    async def load_policy(self, model) -> None:
        self._filtered = False
        self._load_rows(model, await CasbinRule.all().order_by("ptype", "id"))

    async def load_filtered_policy(self, model, filter: TenantFilter) -> None:
        self._filtered = True
        rows = await CasbinRule.filter(
            Q(tenant_id=filter.tenant_id) | Q(tenant_id__isnull=True)
        ).order_by("ptype", "id")
        self._load_rows(model, rows)

    @staticmethod
    def _load_rows(model, rows: list[CasbinRule]) -> None:
        load_rules(model, [(row.ptype, *(getattr(row, c) for c in _COLUMNS)) for row in rows])

    async def save_policy(self, model) -> bool:
        if self._filtered:
            raise RuntimeError("cannot save a filtered policy")
        await CasbinRule.all().delete()
        rows = [
            CasbinRule(tenant_id=rule_tenant(ptype, rule), ptype=ptype, **_row_values(rule))
            for section in ("p", "g")
            for ptype, assertion in model.model.get(section, {}).items()
            for rule in assertion.policy
        ]
        await CasbinRule.bulk_create(rows)
        return True

    async def add_policy(self, sec: str, ptype: str, rule: Sequence[str]) -> bool:
        await CasbinRule.create(
            tenant_id=rule_tenant(ptype, rule), ptype=ptype, **_row_values(rule)
        )
        return True

    async def add_policies(self, sec: str, ptype: str, rules: Sequence[Sequence[str]]) -> bool:
        await CasbinRule.bulk_create(
            [
                CasbinRule(tenant_id=rule_tenant(ptype, rule), ptype=ptype, **_row_values(rule))
                for rule in rules
            ]
        )
        return True

    async def remove_policy(self, sec: str, ptype: str, rule: Sequence[str]) -> bool:
        deleted = await CasbinRule.filter(ptype=ptype, **_row_values(rule)).delete()
        return deleted > 0

    async def remove_policies(self, sec: str, ptype: str, rules: Sequence[Sequence[str]]) -> bool:
        removed = False
        for rule in rules:
            removed = await self.remove_policy(sec, ptype, rule) or removed
        return removed

    async def remove_filtered_policy(
        self, sec: str, ptype: str, field_index: int, *field_values: str
    ) -> bool:
        if not 0 <= field_index < len(_COLUMNS):
            return False
        conditions = {
            _COLUMNS[field_index + offset]: value
            for offset, value in enumerate(field_values)
            if value != "" and field_index + offset < len(_COLUMNS)
        }
        # Always filter by ptype: removing a user's p rules must never touch their g rows.
        deleted = await CasbinRule.filter(ptype=ptype, **conditions).delete()
        return deleted > 0
