"""GraphQL object types of the tenants domain: localities, units, agencies, fields."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from typing import Any, Self, TypeAlias

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from core.graphql import Info, labelled_enum
from core.relay import in_order
from tenants import models, queries
from tenants.loaders import agency_loader
from tenants.models import AgencyKind as AgencyKindEnum
from tenants.models import TenantStatus as TenantStatusEnum
from tenants.models import UnitKind as UnitKindEnum
from tenants.questions import QuestionKind as QuestionKindEnum
from tenants.questions import parse_questions
from tenants.sla import Urgency as UrgencyEnum

TenantStatus: TypeAlias = TenantStatusEnum
labelled_enum(TenantStatus, "TenantStatus")
AgencyKind: TypeAlias = AgencyKindEnum
labelled_enum(AgencyKind, "AgencyKind")
UnitKind: TypeAlias = UnitKindEnum
labelled_enum(UnitKind, "UnitKind")
Urgency: TypeAlias = UrgencyEnum
labelled_enum(
    Urgency,
    "Urgency",
    description="Mức độ xử lý; khẩn tính theo giờ liên tục, kể cả ngày nghỉ — urgent reports "
    "run on calendar time, 24/7.",
)
QuestionKind: TypeAlias = QuestionKindEnum
labelled_enum(QuestionKind, "QuestionKind", description="Kiểu câu trả lời — answer type.")


def _uuids(ids: Iterable[str]) -> list[uuid.UUID]:
    """The well-formed UUIDs among node IDs: a malformed one is simply not found."""
    parsed = []
    for node_id in ids:
        try:
            parsed.append(uuid.UUID(node_id))
        except ValueError:
            continue
    return parsed


def _name(info: Info, vi: str, en: str) -> str:
    return en if info.context.lang == "en" else vi


@strawberry.type(description="A commune-level administrative unit (phường, xã, thị trấn).")
class AdministrativeUnit:
    code: str
    name: str
    kind: UnitKind
    valid_from: datetime.date | None
    valid_to: datetime.date | None
    boundary: JSON | None = strawberry.field(description="GeoJSON (lon, lat), if known.")

    @classmethod
    def from_row(cls, row: models.AdministrativeUnit) -> Self:
        return cls(
            code=row.code,
            name=row.name,
            kind=UnitKindEnum(row.kind),
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            boundary=row.boundary,
        )


async def _tenant_nodes(
    cls: Any, model: Any, info: Info, node_ids: Iterable[str], required: bool
) -> list[Any]:
    """Rows of the caller's tenant, in the order asked; others are null. Provincial staff
    acting inside one tenant see that tenant's configuration only; without a tenant, every
    tenant they may read."""
    ids = list(node_ids)
    scope = info.context.scope
    tenants = [scope.tenant_id] if scope.tenant_id else list(scope.readable_tenant_ids)
    rows = await model.filter(id__in=_uuids(ids), tenant_id__in=tenants)
    return [cls.from_row(r) if r else None for r in in_order(ids, rows, required)]


@strawberry.type(description="A handling or coordinating unit of a tenant.")
class Agency(relay.Node):
    id: relay.NodeID[str]
    code: str
    name_vi: str
    name_en: str
    kind: AgencyKind
    is_coordination_centre: bool
    active: bool

    @strawberry.field(description="The name in the request's language.")
    def name(self, info: Info) -> str:
        return _name(info, self.name_vi, self.name_en)

    @classmethod
    def from_row(cls, row: models.Agency) -> Self:
        return cls(
            id=str(row.id),
            code=row.code,
            name_vi=row.name_vi,
            name_en=row.name_en,
            kind=AgencyKindEnum(row.kind),
            is_coordination_centre=row.is_coordination_centre,
            active=row.active,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # one body for strawberry's overloads
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        return await _tenant_nodes(cls, models.Agency, info, node_ids, required)


@strawberry.type(description="A question asked of the reporter in a field.")
class FieldQuestion:
    key: str
    label_vi: str
    label_en: str
    kind: QuestionKind
    required: bool
    choices: list[str]
    private: bool = strawberry.field(description="The answer is for staff only.")

    @strawberry.field(description="The label in the request's language.")
    def label(self, info: Info) -> str:
        return _name(info, self.label_vi, self.label_en)


@strawberry.type(description="A lĩnh vực: the category of a report.")
class Field(relay.Node):
    id: relay.NodeID[str]
    code: str
    name_vi: str
    name_en: str
    active: bool
    sensitive: bool = strawberry.field(description="Public feeds blur the location.")
    quick_fix: bool = strawberry.field(description="Checkable and fixable at once (3 days).")
    default_agency_id: strawberry.Private[Any]
    question_config: strawberry.Private[Any]

    @strawberry.field(description="Questions asked of the reporter (answers go in submitReport).")
    def questions(self) -> list[FieldQuestion]:
        return [
            FieldQuestion(
                key=q.key,
                label_vi=q.label_vi,
                label_en=q.label_en,
                kind=q.kind,
                required=q.required,
                choices=list(q.choices),
                private=q.private,
            )
            for q in parse_questions(self.question_config)
        ]

    @strawberry.field(description="The name in the request's language.")
    def name(self, info: Info) -> str:
        return _name(info, self.name_vi, self.name_en)

    @strawberry.field(description="The default lead agency for routing.")
    async def default_agency(self, info: Info) -> Agency | None:
        if self.default_agency_id is None:
            return None
        row = await agency_loader(info.context).load(self.default_agency_id)
        return Agency.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: models.Field) -> Self:
        return cls(
            id=str(row.id),
            code=row.code,
            name_vi=row.name_vi,
            name_en=row.name_en,
            active=row.active,
            sensitive=row.sensitive,
            quick_fix=row.quick_fix,
            default_agency_id=row.default_agency_id,
            question_config=row.questions,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # one body for strawberry's overloads
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        return await _tenant_nodes(cls, models.Field, info, node_ids, required)


@strawberry.type(description="A locality using PAHT (đơn vị triển khai).")
class Tenant(relay.Node):
    id: relay.NodeID[str]
    code: str
    report_prefix: str
    name_vi: str
    name_en: str
    status: TenantStatus
    parent_organisation: str
    province_code: str
    unit_codes: list[str]
    valid_from: datetime.date | None = strawberry.field(
        description="Its first day as a locality (null: always)."
    )
    valid_to: datetime.date | None = strawberry.field(
        description="Its last day (a reform ended it: endTenant); null: not ended."
    )
    created_at: datetime.datetime
    row: strawberry.Private[models.Tenant]

    @strawberry.field
    def name(self, info: Info) -> str:
        return _name(info, self.name_vi, self.name_en)

    @strawberry.field(description="The administrative units the tenant covers.")
    async def administrative_units(self) -> list[AdministrativeUnit]:
        return [
            AdministrativeUnit.from_row(u) for u in await queries.administrative_units(self.row)
        ]

    @classmethod
    def from_row(cls, row: models.Tenant) -> Self:
        return cls(
            id=str(row.id),
            code=row.code,
            report_prefix=row.report_prefix,
            name_vi=row.name_vi,
            name_en=row.name_en,
            status=TenantStatusEnum(row.status),
            parent_organisation=row.parent_organisation,
            province_code=row.province_code,
            unit_codes=list(row.unit_codes),
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            created_at=row.created_at,
            row=row,
        )

    @classmethod
    async def resolve_nodes(  # type: ignore[override]  # one body for strawberry's overloads
        cls, *, info: Info, node_ids: Iterable[str], required: bool = False
    ) -> list[Self | None]:
        ids = list(node_ids)
        visible = {str(t) for t in info.context.scope.readable_tenant_ids}
        rows = await models.Tenant.filter(id__in=[i for i in ids if i in visible])
        return [cls.from_row(r) if r else None for r in in_order(ids, rows, required)]
