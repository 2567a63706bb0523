"""An in-process cache of each tenant's small, slowly changing configuration: its fields and
agencies (and the shared administrative units).

Report lists resolve ``field``, ``leadAgency`` and ``administrativeUnit`` from here without a
query or an awaited DataLoader per row. Entries are dropped whenever the tenant's configuration
or policy changes (the ``paht_policy`` NOTIFY reaches every process), and are only ever read
for rows the request could already see: a report row carries its own tenant id."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from permissions.store import store
from tenants.models import AdministrativeUnit, Agency, Field


@dataclass(frozen=True)
class TenantCatalog:
    fields: dict[uuid.UUID, Field]
    agencies: dict[uuid.UUID, Agency]


_tenants: dict[uuid.UUID, TenantCatalog] = {}
_units: dict[str, AdministrativeUnit] | None = None
# Bumped by every invalidation: a load that overlapped one is returned but not cached (it may
# hold the configuration from before the change).
_epoch = 0


def cached(tenant_id: uuid.UUID) -> TenantCatalog | None:
    return _tenants.get(tenant_id)


async def load(tenant_id: uuid.UUID) -> TenantCatalog:
    """Call inside a transaction scoped to ``tenant_id`` (RLS hides every other tenant)."""
    catalog = _tenants.get(tenant_id)
    if catalog is None:
        epoch = _epoch
        fields = {f.id: f for f in await Field.filter(tenant_id=tenant_id)}
        agencies = {a.id: a for a in await Agency.filter(tenant_id=tenant_id)}
        catalog = TenantCatalog(fields, agencies)
        # Never cache an empty view (not visible from this transaction) or a raced one.
        if fields and epoch == _epoch:
            _tenants[tenant_id] = catalog
    return catalog


def cached_units() -> dict[str, AdministrativeUnit] | None:
    return _units


async def load_units() -> dict[str, AdministrativeUnit]:
    global _units
    if _units is None:
        epoch = _epoch
        units: dict[str, AdministrativeUnit] = {}
        # Several validity periods may share a code: keep the newest.
        for unit in await AdministrativeUnit.all().order_by("valid_from"):
            units[unit.code] = unit
        if epoch != _epoch:
            return units
        _units = units
    return _units


def invalidate(tenant_id: uuid.UUID | None = None) -> None:
    """Drop one tenant (its fields and agencies changed) or everything. Units are shared and
    change only with onboarding, whose notification names the new tenant: they are dropped on
    every invalidation (cheap to reload, rare)."""
    global _units, _epoch
    _epoch += 1
    _units = None
    if tenant_id is None:
        _tenants.clear()
    else:
        _tenants.pop(tenant_id, None)


store.on_invalidate(invalidate)  # dropped with the policies, in every process
