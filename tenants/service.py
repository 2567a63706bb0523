"""Tenant administration: agencies, fields, tenant status. The only writer of these tables."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from tortoise.transactions import in_transaction

from core.errors import DomainError, NotFound, Validator
from core.glossary import Term
from permissions.actions import Action
from permissions.scope import Scope
from permissions.store import policy_changed, store
from tenants.models import Agency, AgencyKind, Field, Tenant, TenantStatus
from tenants.onboarding import validate_code
from tenants.questions import parse_questions

log = logging.getLogger("paht.audit")

UNSET = object()


@dataclass(frozen=True)
class AgencyInput:
    code: str
    name_vi: str
    name_en: str
    kind: AgencyKind = AgencyKind.DEPARTMENT
    is_coordination_centre: bool = False


@dataclass(frozen=True)
class AgencyPatch:
    name_vi: str | None = None
    name_en: str | None = None
    kind: AgencyKind | None = None
    active: bool | None = None


@dataclass(frozen=True)
class FieldInput:
    code: str
    name_vi: str
    name_en: str
    default_agency_id: uuid.UUID | None = None
    sensitive: bool = False
    quick_fix: bool = False
    questions: list[dict[str, Any]] | None = None


@dataclass(frozen=True)
class FieldPatch:
    name_vi: str | None = None
    name_en: str | None = None
    default_agency_id: uuid.UUID | None = None
    sensitive: bool | None = None
    quick_fix: bool | None = None
    active: bool | None = None
    questions: list[dict[str, Any]] | None = None  # replaces the list when given


async def _config_changed(tenant_id: uuid.UUID) -> None:
    """Every API process drops its cached copy of this tenant's agencies and fields."""
    async with in_transaction() as conn:
        await policy_changed(conn, tenant_id)
    store.invalidate(tenant_id)


def _duplicate(what: Term) -> DomainError:
    return DomainError(
        "DUPLICATE_CODE",
        f"Mã {what.label_vi} này đã có trong đơn vị triển khai.",
        f"This {what.label_en} code already exists in the locality.",
        "code",
    )


async def create_agency(scope: Scope, data: AgencyInput) -> Agency:
    scope.require(Action.TENANT_MANAGE)
    tenant_id = scope.require_tenant()
    v = Validator()
    code = validate_code(v, "code", data.code)
    name_vi = v.text("nameVi", data.name_vi, max_len=200)
    name_en = v.text("nameEn", data.name_en, max_len=200)
    v.check()
    if await Agency.exists(tenant_id=tenant_id, code=code):
        raise _duplicate(Term.AGENCY)
    if data.is_coordination_centre and await Agency.exists(
        tenant_id=tenant_id, is_coordination_centre=True
    ):
        raise DomainError(
            "MANY_CENTRES",
            "Chỉ có một đầu mối tiếp nhận.",
            "Only one agency can be the coordination centre.",
            "isCoordinationCentre",
        )
    agency = await Agency.create(
        tenant_id=tenant_id,
        code=code,
        name_vi=name_vi,
        name_en=name_en,
        kind=data.kind,
        is_coordination_centre=data.is_coordination_centre,
    )
    await _config_changed(tenant_id)
    return agency


async def update_agency(scope: Scope, agency_id: uuid.UUID, patch: AgencyPatch) -> Agency:
    scope.require(Action.TENANT_MANAGE)
    agency = await Agency.get_or_none(id=agency_id, tenant_id=scope.require_tenant())
    if agency is None:
        raise NotFound(Term.AGENCY, "id")
    v = Validator()
    if patch.name_vi is not None:
        agency.name_vi = v.text("nameVi", patch.name_vi, max_len=200) or agency.name_vi
    if patch.name_en is not None:
        agency.name_en = v.text("nameEn", patch.name_en, max_len=200) or agency.name_en
    v.check()
    if patch.kind is not None:
        agency.kind = patch.kind
    if patch.active is not None:
        agency.active = patch.active
    await agency.save()
    await _config_changed(agency.tenant_id)
    return agency


async def create_field(scope: Scope, data: FieldInput) -> Field:
    scope.require(Action.TENANT_MANAGE)
    tenant_id = scope.require_tenant()
    v = Validator()
    code = validate_code(v, "code", data.code)
    name_vi = v.text("nameVi", data.name_vi, max_len=200)
    name_en = v.text("nameEn", data.name_en, max_len=200)
    v.check()
    questions = [q.to_config() for q in parse_questions(data.questions)]
    if data.default_agency_id and not await Agency.exists(
        id=data.default_agency_id, tenant_id=tenant_id
    ):
        raise NotFound(Term.AGENCY, "defaultAgencyId")
    if await Field.exists(tenant_id=tenant_id, code=code):
        raise _duplicate(Term.FIELD)
    order = await Field.filter(tenant_id=tenant_id).count()
    field = await Field.create(
        tenant_id=tenant_id,
        code=code,
        name_vi=name_vi,
        name_en=name_en,
        default_agency_id=data.default_agency_id,
        sensitive=data.sensitive,
        quick_fix=data.quick_fix,
        sort_order=order,
        questions=questions,
    )
    await _config_changed(tenant_id)
    return field


async def update_field(scope: Scope, field_id: uuid.UUID, patch: FieldPatch) -> Field:
    scope.require(Action.TENANT_MANAGE)
    tenant_id = scope.require_tenant()
    field = await Field.get_or_none(id=field_id, tenant_id=tenant_id)
    if field is None:
        raise NotFound(Term.FIELD, "id")
    v = Validator()
    if patch.name_vi is not None:
        field.name_vi = v.text("nameVi", patch.name_vi, max_len=200) or field.name_vi
    if patch.name_en is not None:
        field.name_en = v.text("nameEn", patch.name_en, max_len=200) or field.name_en
    v.check()
    if patch.default_agency_id is not None:
        if not await Agency.exists(id=patch.default_agency_id, tenant_id=tenant_id):
            raise NotFound(Term.AGENCY, "defaultAgencyId")
        field.default_agency_id = patch.default_agency_id
    for name in ("sensitive", "quick_fix", "active"):
        if (value := getattr(patch, name)) is not None:
            setattr(field, name, value)
    if patch.questions is not None:
        field.questions = [q.to_config() for q in parse_questions(patch.questions)]
    await field.save()
    await _config_changed(tenant_id)
    return field


async def set_tenant_status(scope: Scope, tenant_id: uuid.UUID, status: TenantStatus) -> Tenant:
    scope.require(Action.TENANT_ONBOARD)
    tenant = await Tenant.get_or_none(id=tenant_id)
    if tenant is None or tenant_id not in scope.readable_tenant_ids:
        raise NotFound(Term.TENANT, "id")
    if TenantStatus.MERGED in (status, tenant.status) and status != tenant.status:
        # A merge moves data and points at its successor: only tenants/merge.py does it.
        raise DomainError(
            "INVALID_STATUS",
            "Chỉ thao tác sáp nhập mới chuyển được đơn vị triển khai vào hoặc ra khỏi trạng thái "
            "đã sáp nhập.",
            "Only a merge moves a tenant into or out of the merged status.",
            "status",
        )
    # Suspended and archived tenants are read-only from the next statement on, on every write
    # path: the guard of migration 0023 reads this column. Archived ones also leave the public
    # side (anonymous requests naming them are refused, core/tenancy.py).
    log.info(
        "tenant status",
        extra={"tenant": tenant.code, "from": tenant.status, "to": status, "by": scope.user_id},
    )
    tenant.status = status
    await tenant.save(update_fields=["status", "updated_at"])
    async with in_transaction() as conn:
        await policy_changed(conn, tenant.id)  # cached scopes follow at once
    store.invalidate(tenant.id)
    return tenant


async def end_tenant(scope: Scope, tenant_id: uuid.UUID, last_day: date | None) -> Tenant:
    """A locality ended by a reform: from the day after ``last_day`` it no longer holds its
    units, so the locator sends new reports to whoever holds the place then, and a tenant of
    the new units can be onboarded (tenants/coverage.py). It keeps working its reports (still
    active) until it is merged; None undoes the end."""
    scope.require(Action.TENANT_ONBOARD)
    tenant = await Tenant.get_or_none(id=tenant_id)
    if tenant is None or not (scope.provincial or tenant_id in scope.readable_tenant_ids):
        raise NotFound(Term.TENANT, "id")
    if tenant.status == TenantStatus.MERGED:
        raise DomainError(
            "INVALID_STATUS",
            "Đơn vị triển khai đã sáp nhập.",
            "The tenant has been merged.",
            "id",
        )
    if last_day is not None and tenant.valid_from is not None and last_day < tenant.valid_from:
        raise DomainError(
            "INVALID_DATE",
            "Ngày kết thúc phải sau ngày bắt đầu của đơn vị triển khai.",
            "The last day must not be before the tenant's first day.",
            "lastDay",
        )
    log.info(
        "tenant ended",
        extra={"tenant": tenant.code, "last_day": str(last_day), "by": scope.user_id},
    )
    tenant.valid_to = last_day
    await tenant.save(update_fields=["valid_to", "updated_at"])  # the locator's cache follows
    return tenant
