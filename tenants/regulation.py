"""The tenant's regulation (quy chế) as configuration: working calendar, SLA table, options.

Changing the SLA table bumps its version; each report keeps the version applied to it, so a
change never rewrites the deadlines of reports already running."""

from __future__ import annotations

from typing import Any

from core.errors import DomainError, Validator
from permissions.actions import Action
from permissions.scope import Scope
from tenants.calendar import WorkingCalendar, province_days
from tenants.models import Field, ProvinceCalendar, Tenant, TenantSettings
from tenants.options import TenantOptions
from tenants.provinces import PROVINCES
from tenants.sla import SlaTable, Stage, Urgency


async def settings_of(scope: Scope) -> TenantSettings:
    tenant_id = scope.require_tenant()
    settings = await TenantSettings.get_or_none(tenant_id=tenant_id)
    if settings is None:  # onboarding creates it; be robust for tenants made by hand
        settings = await TenantSettings.create(
            tenant_id=tenant_id, calendar={}, sla_rules=[], options={}
        )
    return settings


def options_of(settings: TenantSettings | None) -> TenantOptions:
    return TenantOptions.from_config(settings.options if settings else None)


async def tenant_options(tenant_id: object) -> TenantOptions:
    """The options in force for a tenant (defaults where none were set)."""
    return options_of(await TenantSettings.get_or_none(tenant_id=tenant_id))


async def update_options(scope: Scope, config: dict[str, Any]) -> TenantSettings:
    scope.require(Action.TENANT_MANAGE)
    v = Validator()
    options = TenantOptions.from_config(config, v)
    v.check()
    settings = await settings_of(scope)
    settings.options = options.to_config()
    await settings.save(update_fields=["options", "updated_at"])
    return settings


async def province_layer(tenant_id: object) -> dict[str, Any] | None:
    """The province's day swaps the tenant inherits (None when its province entered none)."""
    tenant = await Tenant.get_or_none(id=tenant_id)
    if tenant is None or not tenant.province_code:
        return None
    row = await ProvinceCalendar.get_or_none(province_code=tenant.province_code)
    return row.days if row else None


def _province(province_code: str) -> str:
    code = (province_code or "").strip()
    if code not in PROVINCES:
        raise DomainError(
            "UNKNOWN_PROVINCE",
            "Mã tỉnh không có trong danh mục đơn vị hành chính.",
            "Unknown province code.",
            "provinceCode",
        )
    return code


async def province_calendar(scope: Scope, province_code: str) -> ProvinceCalendar:
    """The province's day swaps as they stand (tenant:onboard): what its screen shows before
    it replaces them; an unsaved row with no days when the province entered none."""
    scope.require(Action.TENANT_ONBOARD)
    code = _province(province_code)
    row = await ProvinceCalendar.get_or_none(province_code=code)
    empty: dict[str, Any] = {"extra_days_off": [], "extra_working_days": []}
    return row or ProvinceCalendar(province_code=code, days=empty)


async def update_province_calendar(
    scope: Scope, province_code: str, config: dict[str, Any]
) -> ProvinceCalendar:
    """Replace the province's day swaps, entered once for all its tenants (tenant:onboard)."""
    scope.require(Action.TENANT_ONBOARD)
    code = _province(province_code)
    off, worked = province_days(config)  # INVALID_CALENDAR + field
    days = {
        "extra_days_off": sorted(d.isoformat() for d in off),
        "extra_working_days": sorted(d.isoformat() for d in worked),
    }
    row = await ProvinceCalendar.get_or_none(province_code=code)
    if row is None:
        return await ProvinceCalendar.create(province_code=code, days=days)
    row.days = days
    await row.save(update_fields=["days", "updated_at"])
    return row


async def update_calendar(scope: Scope, config: dict[str, Any]) -> TenantSettings:
    scope.require(Action.TENANT_MANAGE)
    calendar = WorkingCalendar.from_config(config)  # validates (INVALID_CALENDAR + field)
    settings = await settings_of(scope)
    settings.calendar = calendar.to_config()
    await settings.save(update_fields=["calendar", "updated_at"])
    return settings


async def update_sla_rules(scope: Scope, rules: list[dict[str, Any]]) -> TenantSettings:
    scope.require(Action.TENANT_MANAGE)
    settings = await settings_of(scope)
    table = SlaTable.from_config(rules, settings.sla_version + 1)  # INVALID_SLA + field
    missing = [
        f"{stage.value}/{urgency.value}"
        for stage in Stage
        for urgency in Urgency
        if not any(
            r.stage is stage and r.urgency is urgency and r.field_code is None for r in table.rules
        )
    ]
    if missing:
        raise DomainError(
            "SLA_INCOMPLETE",
            f"Thiếu thời hạn chung cho: {', '.join(missing)}.",
            f"A rule for every field is missing for: {', '.join(missing)}.",
            "rules",
        )
    codes = {r.field_code for r in table.rules if r.field_code}
    known = set(
        await Field.filter(tenant_id=settings.tenant_id, code__in=list(codes)).values_list(
            "code", flat=True
        )
    )
    if unknown := sorted(codes - known):
        raise DomainError(
            "UNKNOWN_FIELD",
            f"Lĩnh vực không tồn tại: {', '.join(unknown)}.",
            f"Unknown field codes: {', '.join(unknown)}.",
            "rules",
        )
    settings.sla_rules = table.to_config()
    settings.sla_version = table.version
    await settings.save(update_fields=["sla_rules", "sla_version", "updated_at"])
    return settings
