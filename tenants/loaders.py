"""DataLoaders for tenant configuration: one query per relation per request, whatever the
number of rows asking (reports' fields and agencies, fields' default agencies).

One loader per request and name (``Context.loader``): caches never cross requests."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from core.graphql import Context
from tenants.models import AdministrativeUnit, Agency, Field


async def _fields(ids: Sequence[uuid.UUID]) -> list[Field | None]:
    rows = {r.id: r for r in await Field.filter(id__in=list(ids))}
    return [rows.get(i) for i in ids]


async def _agencies(ids: Sequence[uuid.UUID]) -> list[Agency | None]:
    rows = {r.id: r for r in await Agency.filter(id__in=list(ids))}
    return [rows.get(i) for i in ids]


async def _units(codes: Sequence[str]) -> list[AdministrativeUnit | None]:
    rows: dict[str, AdministrativeUnit] = {}
    # Several validity periods may share a code: keep the newest.
    for unit in await AdministrativeUnit.filter(code__in=list(codes)).order_by("valid_from"):
        rows[unit.code] = unit
    return [rows.get(c) for c in codes]


def field_loader(ctx: Context) -> DataLoader[uuid.UUID, Field | None]:
    return ctx.loader("tenant.field", lambda _: DataLoader(_fields))


def agency_loader(ctx: Context) -> DataLoader[uuid.UUID, Agency | None]:
    return ctx.loader("tenant.agency", lambda _: DataLoader(_agencies))


def unit_loader(ctx: Context) -> DataLoader[str, AdministrativeUnit | None]:
    return ctx.loader("tenant.unit", lambda _: DataLoader(_units))
