"""GraphQL operations (inputs, payloads, queries, mutations) of the tenants domain."""

from __future__ import annotations

import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from accounts.password_policy import RULES as PASSWORD_RULES
from core.graphql import Info, UserError, run_mutation
from core.relay import decode, decode_optional
from permissions.actions import Action
from permissions.graphql import requires
from tenants import models, onboarding, queries, service
from tenants.models import AgencyKind as AgencyKindEnum
from tenants.models import TenantStatus as TenantStatusEnum
from tenants.types import Agency, AgencyKind, Field, QuestionKind, Tenant, TenantStatus, UnitKind

# --- inputs and payloads --------------------------------------------------------------------


@strawberry.input
class CreateAgencyInput:
    code: str
    name_vi: str
    name_en: str
    kind: AgencyKind = AgencyKindEnum.DEPARTMENT
    is_coordination_centre: bool = False


@strawberry.input
class UpdateAgencyInput:
    id: relay.GlobalID
    name_vi: str | None = None
    name_en: str | None = None
    kind: AgencyKind | None = None
    active: bool | None = strawberry.field(
        default=None, description="false deactivates the agency."
    )


@strawberry.type
class AgencyPayload:
    agency: Agency | None
    errors: list[UserError]


@strawberry.input
class FieldQuestionInput:
    key: str
    label_vi: str
    label_en: str
    kind: QuestionKind
    required: bool = False
    choices: list[str] = strawberry.field(default_factory=list)
    private: bool = False

    def to_config(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label_vi": self.label_vi,
            "label_en": self.label_en,
            "kind": self.kind.value,
            "required": self.required,
            "choices": list(self.choices),
            "private": self.private,
        }


@strawberry.input
class CreateFieldInput:
    code: str
    name_vi: str
    name_en: str
    default_agency_id: relay.GlobalID | None = None
    sensitive: bool = False
    quick_fix: bool = False
    questions: list[FieldQuestionInput] = strawberry.field(default_factory=list)


@strawberry.input
class UpdateFieldInput:
    id: relay.GlobalID
    name_vi: str | None = None
    name_en: str | None = None
    default_agency_id: relay.GlobalID | None = None
    sensitive: bool | None = None
    quick_fix: bool | None = None
    active: bool | None = None
    questions: list[FieldQuestionInput] | None = strawberry.field(
        default=None, description="Replaces the field's questions when given."
    )


@strawberry.type
class FieldPayload:
    field: Field | None
    errors: list[UserError]


@strawberry.input
class UnitInput:
    code: str
    name: str
    kind: UnitKind
    valid_from: datetime.date | None = None
    valid_to: datetime.date | None = None
    boundary: JSON | None = None


@strawberry.input
class OnboardAgencyInput:
    code: str
    name_vi: str
    name_en: str
    kind: AgencyKind = AgencyKindEnum.DEPARTMENT
    is_coordination_centre: bool = False


@strawberry.input
class OnboardFieldInput:
    code: str
    name_vi: str
    name_en: str
    default_agency_code: str | None = None
    sensitive: bool = False
    quick_fix: bool = False


@strawberry.input
class TenantAdminInput:
    username: str
    full_name: str
    email: str | None = None
    password: str | None = strawberry.field(
        default=None,
        description="Omit to have a one-time password generated and returned once. "
        + PASSWORD_RULES,
    )


@strawberry.input
class OnboardTenantInput:
    code: str
    report_prefix: str
    name_vi: str
    name_en: str
    admin: TenantAdminInput
    parent_organisation: str = ""
    province_code: str = strawberry.field(
        default="", description="Two-digit national province code, e.g. `10` (Lào Cai)."
    )
    district_code: str = strawberry.field(
        default="",
        description="Three-digit national district code (before 1 July 2025), recorded on the "
        "administrative units this creates.",
    )
    administrative_units: list[UnitInput] = strawberry.field(default_factory=list)
    agencies: list[OnboardAgencyInput] = strawberry.field(default_factory=list)
    fields: list[OnboardFieldInput] = strawberry.field(default_factory=list)


@strawberry.type
class OnboardTenantPayload:
    tenant: Tenant | None
    admin_username: str | None
    generated_admin_password: str | None = strawberry.field(
        description="Shown once when the admin password was generated. It is one-time: the "
        "admin's first login answers PASSWORD_CHANGE_REQUIRED and must set a new password "
        "(login with newPassword)."
    )
    errors: list[UserError]


@strawberry.input
class SetTenantStatusInput:
    id: relay.GlobalID
    status: TenantStatus


@strawberry.input
class EndTenantInput:
    id: relay.GlobalID
    last_day: datetime.date | None = strawberry.field(
        description="The locality's last day (e.g. 2025-06-30 for the 2025 reform); null: not "
        "ended."
    )


@strawberry.type
class TenantPayload:
    tenant: Tenant | None
    errors: list[UserError]


def _plan(data: OnboardTenantInput) -> onboarding.OnboardingPlan:
    from accounts.service import NewUser

    return onboarding.OnboardingPlan(
        code=data.code,
        report_prefix=data.report_prefix,
        name_vi=data.name_vi,
        name_en=data.name_en,
        parent_organisation=data.parent_organisation,
        province_code=data.province_code,
        district_code=data.district_code,
        admin=NewUser(
            data.admin.username, data.admin.password, data.admin.full_name, data.admin.email
        ),
        units=[
            onboarding.UnitPlan(
                u.code,
                u.name,
                u.kind.value if isinstance(u.kind, Enum) else str(u.kind),
                u.valid_from,
                u.valid_to,
                u.boundary,
            )
            for u in data.administrative_units
        ],
        agencies=[
            onboarding.AgencyPlan(
                a.code, a.name_vi, a.name_en, AgencyKindEnum(a.kind).value, a.is_coordination_centre
            )
            for a in data.agencies
        ],
        fields=[
            onboarding.FieldPlan(
                f.code, f.name_vi, f.name_en, f.default_agency_code, f.sensitive, f.quick_fix
            )
            for f in data.fields
        ],
    )


@strawberry.type
class TenantQuery:
    @strawberry.field(description="Tenants the caller may see: their own, or all for the province.")
    async def tenants(self, info: Info) -> list[Tenant]:
        return [Tenant.from_row(t) for t in await queries.visible_tenants(info.context.scope)]

    @strawberry.field(description="The tenant the request acts in.")
    async def current_tenant(self, info: Info) -> Tenant | None:
        scope = info.context.scope
        if scope.tenant_id is None:
            return None
        return Tenant.from_row(await queries.tenant(scope, scope.tenant_id))

    @strawberry.field(description="Agencies of the current tenant.")
    async def agencies(self, info: Info, include_inactive: bool = False) -> list[Agency]:
        rows = await queries.agencies(info.context.scope, include_inactive)
        return [Agency.from_row(r) for r in rows]

    @strawberry.field(description="Fields (lĩnh vực) of the current tenant.")
    async def fields(self, info: Info, include_inactive: bool = False) -> list[Field]:
        rows = await queries.fields(info.context.scope, include_inactive)
        return [Field.from_row(r) for r in rows]


@strawberry.type
class TenantMutation:
    @strawberry.mutation(
        extensions=requires(Action.TENANT_ONBOARD),
        description="Create a tenant with its units, agencies, fields, roles "
        "and first admin, atomically.",
    )
    async def onboard_tenant(self, info: Info, input: OnboardTenantInput) -> OnboardTenantPayload:
        async def work() -> onboarding.OnboardingResult:
            return await onboarding.onboard(info.context.scope, _plan(input))

        def payload(r: onboarding.OnboardingResult | None, errors: list[UserError]) -> Any:
            return OnboardTenantPayload(
                tenant=Tenant.from_row(r.tenant) if r else None,
                admin_username=r.admin_username if r else None,
                generated_admin_password=r.admin_password if r else None,
                errors=errors,
            )

        return await run_mutation(info, work, payload)

    @strawberry.mutation(
        extensions=requires(Action.TENANT_ONBOARD),
        description=(
            "Suspend (read-only), archive (read-only, off the public side) or reactivate a tenant."
        ),
    )
    async def set_tenant_status(self, info: Info, input: SetTenantStatusInput) -> TenantPayload:
        async def work() -> models.Tenant:
            tenant_id = decode(input.id, "Tenant", "id")
            return await service.set_tenant_status(
                info.context.scope, tenant_id, TenantStatusEnum(input.status)
            )

        return await run_mutation(
            info,
            work,
            lambda t, e: TenantPayload(tenant=Tenant.from_row(t) if t else None, errors=e),
        )

    @strawberry.mutation(
        extensions=requires(Action.TENANT_ONBOARD),
        description="A locality ended by a reform: after its last day it no longer holds its "
        "units (new reports go to the tenant that holds the place; a tenant of the new units can "
        "be onboarded); it still works its reports until it is merged.",
    )
    async def end_tenant(self, info: Info, input: EndTenantInput) -> TenantPayload:
        async def work() -> models.Tenant:
            tenant_id = decode(input.id, "Tenant", "id")
            return await service.end_tenant(info.context.scope, tenant_id, input.last_day)

        return await run_mutation(
            info,
            work,
            lambda t, e: TenantPayload(tenant=Tenant.from_row(t) if t else None, errors=e),
        )

    @strawberry.mutation(extensions=requires(Action.TENANT_MANAGE))
    async def create_agency(self, info: Info, input: CreateAgencyInput) -> AgencyPayload:
        async def work() -> models.Agency:
            return await service.create_agency(
                info.context.scope,
                service.AgencyInput(
                    input.code,
                    input.name_vi,
                    input.name_en,
                    AgencyKindEnum(input.kind),
                    input.is_coordination_centre,
                ),
            )

        return await run_mutation(info, work, _agency_payload)

    @strawberry.mutation(
        extensions=requires(Action.TENANT_MANAGE),
        description="Rename, re-kind, deactivate or reactivate an agency.",
    )
    async def update_agency(self, info: Info, input: UpdateAgencyInput) -> AgencyPayload:
        async def work() -> models.Agency:
            patch = service.AgencyPatch(
                input.name_vi,
                input.name_en,
                AgencyKindEnum(input.kind) if input.kind is not None else None,
                input.active,
            )
            return await service.update_agency(
                info.context.scope, decode(input.id, "Agency", "id"), patch
            )

        return await run_mutation(info, work, _agency_payload)

    @strawberry.mutation(extensions=requires(Action.TENANT_MANAGE))
    async def create_field(self, info: Info, input: CreateFieldInput) -> FieldPayload:
        async def work() -> models.Field:
            return await service.create_field(
                info.context.scope,
                service.FieldInput(
                    input.code,
                    input.name_vi,
                    input.name_en,
                    decode_optional(input.default_agency_id, "Agency", "defaultAgencyId"),
                    input.sensitive,
                    input.quick_fix,
                    [q.to_config() for q in input.questions],
                ),
            )

        return await run_mutation(info, work, _field_payload)

    @strawberry.mutation(
        extensions=requires(Action.TENANT_MANAGE),
        description="Rename, reconfigure, deactivate or reactivate a field.",
    )
    async def update_field(self, info: Info, input: UpdateFieldInput) -> FieldPayload:
        async def work() -> models.Field:
            patch = service.FieldPatch(
                input.name_vi,
                input.name_en,
                decode_optional(input.default_agency_id, "Agency", "defaultAgencyId"),
                input.sensitive,
                input.quick_fix,
                input.active,
                [q.to_config() for q in input.questions] if input.questions is not None else None,
            )
            return await service.update_field(
                info.context.scope, decode(input.id, "Field", "id"), patch
            )

        return await run_mutation(info, work, _field_payload)


def _agency_payload(row: models.Agency | None, errors: list[UserError]) -> AgencyPayload:
    return AgencyPayload(agency=Agency.from_row(row) if row else None, errors=errors)


def _field_payload(row: models.Field | None, errors: list[UserError]) -> FieldPayload:
    return FieldPayload(field=Field.from_row(row) if row else None, errors=errors)
