"""Reads of tenant configuration, always through the caller's Scope."""

from __future__ import annotations

import uuid

from core.errors import NotFound
from core.glossary import Term
from permissions.scope import Scope
from tenants.models import AdministrativeUnit, Agency, Field, Tenant


async def visible_tenants(scope: Scope) -> list[Tenant]:
    return await Tenant.filter(id__in=list(scope.readable_tenant_ids)).order_by("code")


async def tenant(scope: Scope, tenant_id: uuid.UUID) -> Tenant:
    if tenant_id not in scope.readable_tenant_ids:
        raise NotFound(Term.TENANT, "id")
    found = await Tenant.get_or_none(id=tenant_id)
    if found is None:
        raise NotFound(Term.TENANT, "id")
    return found


async def agencies(scope: Scope, include_inactive: bool = False) -> list[Agency]:
    query = Agency.filter(tenant_id=scope.require_tenant())
    if not include_inactive:
        query = query.filter(active=True)
    return await query.order_by("code")


async def fields(scope: Scope, include_inactive: bool = False) -> list[Field]:
    query = Field.filter(tenant_id=scope.require_tenant())
    if not include_inactive:
        query = query.filter(active=True)
    return await query.order_by("sort_order", "code")


async def administrative_units(tenant_row: Tenant) -> list[AdministrativeUnit]:
    return await AdministrativeUnit.filter(code__in=tenant_row.unit_codes).order_by("code")
