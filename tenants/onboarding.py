"""Onboarding a locality: one atomic operation that creates the tenant with everything it needs.

The same `OnboardingPlan` comes from GraphQL (`onboardTenant`) or from a YAML file
(`paht tenants onboard FILE.yaml`, read by `tenants.document`); validation runs completely before
anything is written, and the writes run in one transaction, so a failure half-way leaves nothing
behind."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from shapely.geometry import shape
from shapely.validation import explain_validity
from tortoise import connections

from accounts.grants import grant_role_unchecked
from accounts.password_policy import generate_password
from accounts.service import NewUser, create_user, validate_new_user
from core.errors import DomainError, Validator
from core.ids import new_id
from permissions.scope import Scope
from permissions.service import install_templates
from permissions.session import apply_scope, tenant_transaction
from permissions.store import policy_changed, store
from permissions.templates import TENANT_ADMIN
from tenants.calendar import WorkingCalendar
from tenants.coverage import check_coverage, check_tenant_code_free
from tenants.models import (
    AdministrativeUnit,
    Agency,
    AgencyKind,
    Field,
    Pilot,
    Tenant,
    TenantSettings,
    UnitKind,
)
from tenants.options import TenantOptions
from tenants.pilot import PilotPlan, validate_pilot
from tenants.provinces import PROVINCES
from tenants.questions import parse_questions
from tenants.sla import default_sla_table

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
PREFIX_RE = re.compile(r"^[A-Z]{2,4}$")
UNIT_CODE_RE = re.compile(r"^\d{5}$")
DISTRICT_CODE_RE = re.compile(r"^\d{3}$")
# Held for the rest of the onboarding transaction: two onboardings at once cannot both find the
# same units free (tenants.coverage) and then both claim them.
ONBOARDING_LOCK = 7_305_003  # beside reports.jobs.JOBS_LOCK and api.database.MIGRATION_LOCK


@dataclass
class UnitPlan:
    code: str
    name: str
    kind: str
    valid_from: date | None = None
    valid_to: date | None = None
    boundary: Any = None  # GeoJSON from a document or GraphQL, checked by _boundary_problem


@dataclass
class AgencyPlan:
    code: str
    name_vi: str
    name_en: str
    kind: str = "department"
    is_coordination_centre: bool = False


@dataclass
class FieldPlan:
    code: str
    name_vi: str
    name_en: str
    default_agency: str | None = None
    sensitive: bool = False
    quick_fix: bool = False
    questions: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class OnboardingPlan:
    code: str
    report_prefix: str
    name_vi: str
    name_en: str
    admin: NewUser
    parent_organisation: str = ""
    province_code: str = ""
    district_code: str = ""  # recorded on the units created (districts ended on 1/7/2025)
    units: list[UnitPlan] = field(default_factory=list)
    agencies: list[AgencyPlan] = field(default_factory=list)
    fields: list[FieldPlan] = field(default_factory=list)
    options: dict[str, Any] = field(default_factory=dict)  # tenants.options.TenantOptions
    #: The locality's own calendar (tenants.calendar.WorkingCalendar config: office hours, ...);
    #: empty means the defaults, as updateCalendar can set later.
    calendar: dict[str, Any] = field(default_factory=dict)
    pilot: PilotPlan | None = None  # the pilot period and targets (tenants.pilot)


@dataclass(frozen=True)
class OnboardingResult:
    tenant: Tenant
    admin_username: str
    admin_password: str | None  # only when generated


def validate_code(v: Validator, name: str, value: str) -> str:
    cleaned = (value or "").strip().lower()
    if not CODE_RE.match(cleaned):
        v.add(
            "INVALID_CODE",
            name,
            "Mã chỉ gồm chữ thường, số và dấu gạch ngang (2–40 ký tự).",
            "A code has 2–40 lowercase letters, digits and hyphens.",
        )
    return cleaned


# What shapely's explain_validity reports, in Vietnamese (its first words name the problem).
_GEOMETRY_PROBLEMS_VI = {
    "Self-intersection": "đường biên tự cắt nhau",
    "Ring Self-intersection": "đường biên tự cắt nhau",
    "Too few points": "có quá ít điểm",
    "Hole lies outside shell": "có lỗ nằm ngoài vùng",
    "Nested shells": "có vùng lồng trong vùng",
    "Interior is disconnected": "phần trong bị chia cắt",
    "Invalid Coordinate": "có toạ độ không hợp lệ",
    "Nested holes": "có lỗ lồng trong lỗ",
}


def _boundary_problem(boundary: Any) -> tuple[str, str] | None:
    """Why a boundary is unusable, in Vietnamese and English; None when it is a valid area."""
    if not isinstance(boundary, dict) or boundary.get("type") not in ("Polygon", "MultiPolygon"):
        return (
            "phải là một vùng («Polygon» hoặc «MultiPolygon»)",
            "type must be Polygon or MultiPolygon",
        )
    try:
        geometry = shape(boundary)
    except Exception as exc:  # shapely raises many types for malformed GeoJSON
        return "cấu trúc GeoJSON sai (toạ độ của vùng)", str(exc) or type(exc).__name__
    if not geometry.is_valid:
        why = explain_validity(geometry)
        vi = next(
            (v for en, v in _GEOMETRY_PROBLEMS_VI.items() if why.startswith(en)),
            "hình học không hợp lệ",
        )
        return vi, why
    minx, miny, maxx, maxy = geometry.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        return (
            "toạ độ ngoài phạm vi (kinh độ từ -180 đến 180, vĩ độ từ -90 đến 90)",
            "coordinates out of range (lon, lat)",
        )
    return None


def validate_boundary(v: Validator, name: str, boundary: dict[str, Any] | None) -> None:
    if boundary is None:
        return
    if (problem := _boundary_problem(boundary)) is not None:
        vi, en = problem
        v.add(
            "INVALID_GEOJSON",
            name,
            f"Ranh giới không hợp lệ: {vi}.",
            f"Invalid GeoJSON boundary: {en}",
        )


def validate_plan(plan: OnboardingPlan) -> OnboardingPlan:
    v = Validator()
    plan.code = validate_code(v, "code", plan.code)
    plan.report_prefix = (plan.report_prefix or "").strip().upper()
    if not PREFIX_RE.match(plan.report_prefix):
        v.add(
            "INVALID_PREFIX",
            "reportPrefix",
            "Tiền tố mã phản ánh gồm 2–4 chữ in hoa.",
            "The report prefix has 2–4 uppercase letters.",
        )
    plan.name_vi = v.text("nameVi", plan.name_vi, max_len=200) or ""
    plan.name_en = v.text("nameEn", plan.name_en, max_len=200) or ""
    plan.parent_organisation = (
        v.text("parentOrganisation", plan.parent_organisation, max_len=200, required=False) or ""
    )
    plan.province_code = (plan.province_code or "").strip()
    if plan.province_code and plan.province_code not in PROVINCES:
        v.add(
            "UNKNOWN_PROVINCE",
            "provinceCode",
            f"Mã tỉnh {plan.province_code} không có trong danh mục (hai chữ số, ví dụ 10).",
            f"Province code {plan.province_code} is not in the national list (e.g. 10).",
        )
    plan.district_code = (plan.district_code or "").strip()
    if plan.district_code and not DISTRICT_CODE_RE.match(plan.district_code):
        v.add(
            "INVALID_CODE",
            "districtCode",
            "Mã huyện gồm 3 chữ số.",
            "A district code has 3 digits.",
        )
    plan.admin = validate_new_user(plan.admin, v, "admin.")
    _unique(v, "administrativeUnits", [u.code for u in plan.units])
    for i, unit in enumerate(plan.units):
        if not UNIT_CODE_RE.match(unit.code or ""):
            v.add(
                "INVALID_CODE",
                f"administrativeUnits[{i}].code",
                "Mã đơn vị hành chính gồm 5 chữ số.",
                "An administrative unit code has 5 digits.",
            )
        unit.name = v.text(f"administrativeUnits[{i}].name", unit.name, max_len=120) or ""
        if unit.kind not in {k.value for k in UnitKind}:
            v.add(
                "INVALID_KIND",
                f"administrativeUnits[{i}].kind",
                "Loại đơn vị hành chính không hợp lệ (phường, xã hoặc thị trấn).",
                "Unknown unit kind.",
            )
        validate_boundary(v, f"administrativeUnits[{i}].boundary", unit.boundary)
    _unique(v, "agencies", [a.code.strip().lower() for a in plan.agencies])
    for i, agency in enumerate(plan.agencies):
        agency.code = validate_code(v, f"agencies[{i}].code", agency.code)
        agency.name_vi = v.text(f"agencies[{i}].nameVi", agency.name_vi, max_len=200) or ""
        agency.name_en = v.text(f"agencies[{i}].nameEn", agency.name_en, max_len=200) or ""
        if agency.kind not in {k.value for k in AgencyKind}:
            v.add(
                "INVALID_KIND",
                f"agencies[{i}].kind",
                "Loại cơ quan không hợp lệ.",
                "Unknown agency kind.",
            )
    if sum(a.is_coordination_centre for a in plan.agencies) > 1:
        v.add(
            "MANY_CENTRES",
            "agencies",
            "Chỉ có một đầu mối tiếp nhận.",
            "Only one agency can be the coordination centre.",
        )
    agency_codes = {a.code for a in plan.agencies}
    _unique(v, "fields", [f.code.strip().lower() for f in plan.fields])
    for i, fld in enumerate(plan.fields):
        fld.code = validate_code(v, f"fields[{i}].code", fld.code)
        fld.name_vi = v.text(f"fields[{i}].nameVi", fld.name_vi, max_len=200) or ""
        fld.name_en = v.text(f"fields[{i}].nameEn", fld.name_en, max_len=200) or ""
        try:
            parse_questions(fld.questions, f"fields[{i}].questions")
        except DomainError as error:
            v.errors.extend(error.details)
        fld.default_agency = str(fld.default_agency or "").strip().lower() or None
        if fld.default_agency and fld.default_agency not in agency_codes:
            v.add(
                "UNKNOWN_AGENCY",
                f"fields[{i}].defaultAgencyCode",
                "Cơ quan chủ trì không có trong danh sách.",
                "Unknown default agency.",
            )
    if plan.pilot is not None:
        validate_pilot(v, plan.pilot, "pilot.")
    v.check()
    return plan


def _unique(v: Validator, name: str, codes: list[str]) -> None:
    seen: set[str] = set()
    for i, code in enumerate(codes):
        if code in seen:
            v.add(
                "DUPLICATE_CODE",
                f"{name}[{i}].code",
                f"Mã {code} bị trùng.",
                f"Duplicate code {code}.",
            )
        seen.add(code)


async def onboard(scope: Scope, plan: OnboardingPlan) -> OnboardingResult:
    """Create a tenant atomically. The caller's Scope must allow ``tenant:onboard``."""
    scope.require("tenant:onboard")
    plan = validate_plan(plan)
    await check_tenant_code_free(plan.code)
    generated = None
    if plan.admin.password is None:
        generated = generate_password(plan.admin.username)
        plan.admin = NewUser(
            plan.admin.username, generated, plan.admin.full_name, plan.admin.email, plan.admin.phone
        )
    v = Validator()
    options = TenantOptions.from_config(plan.options, v)
    if v.errors:
        raise DomainError.many([replace(d, field=f"options.{d.field}") for d in v.errors])
    try:
        calendar = WorkingCalendar.from_config(plan.calendar) if plan.calendar else None
    except DomainError as error:
        raise DomainError.many(
            [
                replace(d, field=f"calendar.{d.field}" if d.field else "calendar")
                for d in error.details
            ]
        ) from None
    tenant_id = new_id()
    # A nested transaction (savepoint) inside the request's: the tenant's rows need its own
    # app.tenant_id for RLS, and everything is undone together if any step fails.
    async with tenant_transaction(tenant_id):
        await connections.get("default").execute_query(
            "SELECT pg_advisory_xact_lock($1)", [ONBOARDING_LOCK]
        )
        await check_coverage(plan)
        tenant = await Tenant.create(
            id=tenant_id,
            code=plan.code,
            report_prefix=plan.report_prefix,
            name_vi=plan.name_vi,
            name_en=plan.name_en,
            parent_organisation=plan.parent_organisation,
            province_code=plan.province_code,
            unit_codes=[u.code for u in plan.units],
        )
        for unit in plan.units:
            # The unit registry is shared: an existing definition is never rewritten here.
            await AdministrativeUnit.get_or_create(
                code=unit.code,
                valid_from=unit.valid_from,
                defaults={
                    "name": unit.name,
                    "kind": unit.kind,
                    "province_code": plan.province_code,
                    "district_code": plan.district_code,
                    "valid_to": unit.valid_to,
                    "boundary": unit.boundary,
                },
            )
        agencies: dict[str, uuid.UUID] = {}
        for agency in plan.agencies:
            row = await Agency.create(
                tenant_id=tenant_id,
                code=agency.code,
                name_vi=agency.name_vi,
                name_en=agency.name_en,
                kind=agency.kind,
                is_coordination_centre=agency.is_coordination_centre,
            )
            agencies[agency.code] = row.id
        for order, fld in enumerate(plan.fields):
            await Field.create(
                tenant_id=tenant_id,
                code=fld.code,
                name_vi=fld.name_vi,
                name_en=fld.name_en,
                default_agency_id=agencies.get(fld.default_agency or ""),
                sensitive=fld.sensitive,
                quick_fix=fld.quick_fix,
                sort_order=order,
                questions=[q.to_config() for q in parse_questions(fld.questions)],
            )
        quick = [f.code for f in plan.fields if f.quick_fix]
        await TenantSettings.create(
            tenant_id=tenant_id,
            calendar=calendar.to_config() if calendar else {},
            sla_rules=default_sla_table(quick).to_config(),  # 3 working days for quick fixes
            options=options.to_config(),
        )
        if plan.pilot is not None:
            await Pilot.create(
                tenant_id=tenant_id,
                starts_on=plan.pilot.starts_on,
                ends_on=plan.pilot.ends_on,
                on_time_target=plan.pilot.on_time_target,
                satisfied_target=plan.pilot.satisfied_target,
                updated_by=scope.user_id,
            )
        await install_templates(tenant_id)
        try:
            # A generated password passed through other hands: it is one-time.
            admin = await create_user(
                plan.admin, default_tenant_id=tenant_id, must_change_password=generated is not None
            )
        except DomainError as error:  # name the field as onboardTenant's input does
            raise DomainError.many(
                [replace(d, field=f"admin.{d.field}" if d.field else None) for d in error.details]
            ) from error
        await grant_role_unchecked(tenant_id, admin.id, TENANT_ADMIN)
    conn = connections.get("default")
    await apply_scope(conn, scope)  # back to the caller's own settings for the rest of the request
    # Provincial Scopes (in every process) now cover one more tenant: whoever onboarded it,
    # over GraphQL or the CLI, every cached Scope goes.
    await policy_changed(conn, None)
    store.invalidate()
    return OnboardingResult(tenant, admin.username, generated)
