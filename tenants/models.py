"""Localities (tenants), the national administrative units they cover, agencies and fields."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from tortoise import fields
from tortoise.contrib.postgres.fields import ArrayField
from tortoise.models import Model

from core.ids import new_id
from core.labels import Labelled


class TenantStatus(Labelled):
    ACTIVE = "active", "đang hoạt động", "active"
    SUSPENDED = "suspended", "tạm dừng", "suspended"
    MERGED = "merged", "đã sáp nhập", "merged"
    ARCHIVED = "archived", "đã lưu trữ", "archived"


class UnitKind(Labelled):
    PHUONG = "phuong", "phường", "ward"
    XA = "xa", "xã", "commune"
    THI_TRAN = "thi_tran", "thị trấn", "township"


class AgencyKind(Labelled):
    OFFICE = "office", "văn phòng", "office"
    DEPARTMENT = "department", "phòng chuyên môn", "department"
    POLICE = "police", "công an", "police"
    COMMUNE = "commune", "ủy ban nhân dân cấp xã", "commune people's committee"
    COMPANY = "company", "doanh nghiệp", "company"
    CENTRE = "centre", "trung tâm", "centre"
    OTHER = "other", "khác", "other"


class Tenant(Model):
    """A deployment organisation (đơn vị triển khai), e.g. "UBND thị xã Sa Pa".

    Not RLS-protected: it is the registry every request resolves its tenant from; the API only
    exposes rows the caller's Scope covers."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    code = fields.CharField(max_length=40, unique=True)
    report_prefix = fields.CharField(max_length=4)
    name_vi = fields.CharField(max_length=200)
    name_en = fields.CharField(max_length=200)
    status = fields.CharEnumField(
        TenantStatus, max_length=16, default=TenantStatus.ACTIVE, db_default="active"
    )
    parent_organisation = fields.CharField(max_length=200, default="", db_default="")
    province_code = fields.CharField(max_length=8, default="", db_default="")
    unit_codes: list[str] = ArrayField("text", default=list)
    successor: fields.ForeignKeyNullableRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", null=True, related_name=False, on_delete=fields.RESTRICT
    )
    successor_id: UUID | None  # the column behind the relation
    valid_from = fields.DateField(null=True)
    valid_to = fields.DateField(null=True)
    # Bumped on every permission change: part of the Scope cache key.
    policy_version = fields.BigIntField(default=1, db_default=1)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "tenant"


class AdministrativeUnit(Model):
    """A commune-level unit (phường / xã / thị trấn) of the national list, valid for a period.

    Shared reference data (not tenant-owned): several tenants over time may cover one unit."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    code = fields.CharField(max_length=10)
    name = fields.CharField(max_length=120)
    kind = fields.CharEnumField(UnitKind, max_length=16)
    province_code = fields.CharField(max_length=8, default="", db_default="")
    district_code = fields.CharField(max_length=8, default="", db_default="")
    valid_from = fields.DateField(null=True)
    valid_to = fields.DateField(null=True)
    # Codes of the units that took this one over the day after ``valid_to`` (merge: one; split:
    # several; rename: the same area under a new name or code). Empty: still valid, or no
    # successor recorded (tenants/units.py follows them).
    successor_codes: list[str] = ArrayField("text", default=list)
    # GeoJSON Polygon / MultiPolygon, lon-lat; handed to GraphQL as JSON.
    boundary: fields.JSONField[Any] = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "administrative_unit"
        unique_together = (("code", "valid_from"),)


class Agency(Model):
    """A handling or coordinating unit of a tenant (phòng, công an, UBND xã, company...)."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: UUID  # the column behind the relation
    code = fields.CharField(max_length=40)
    name_vi = fields.CharField(max_length=200)
    name_en = fields.CharField(max_length=200)
    kind = fields.CharEnumField(AgencyKind, max_length=16, default=AgencyKind.DEPARTMENT)
    is_coordination_centre = fields.BooleanField(default=False, db_default=False)
    active = fields.BooleanField(default=True, db_default=True)
    valid_from = fields.DateField(null=True)
    valid_to = fields.DateField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "agency"
        unique_together = (("tenant", "code"), ("tenant", "id"))


class Field(Model):
    """A lĩnh vực: the category a report belongs to, which decides routing and deadlines."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: UUID  # the column behind the relation
    code = fields.CharField(max_length=40)
    name_vi = fields.CharField(max_length=200)
    name_en = fields.CharField(max_length=200)
    active = fields.BooleanField(default=True, db_default=True)
    default_agency_id = fields.UUIDField(null=True)  # composite FK (tenant_id, id) in SQL
    sensitive = fields.BooleanField(default=False, db_default=False)
    quick_fix = fields.BooleanField(default=False, db_default=False)
    sort_order = fields.IntField(default=0, db_default=0)
    # Questions asked of the reporter in this field (tenants.questions); null = none.
    questions: fields.JSONField[list[dict[str, Any]] | None] = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "field"
        unique_together = (("tenant", "code"), ("tenant", "id"))


class ProvinceCalendar(Model):
    """The province's day swaps (docs/domain.md §5: "enterable once by the province and
    inherited by its tenants"): days off and make-up working days for every tenant with this
    ``province_code``; a tenant's own days override them. Shared, not tenant-owned: written by
    provincial administrators (tenant:onboard), read by every tenant of the province."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    province_code = fields.CharField(max_length=8, unique=True)
    # {"extra_days_off": [iso dates], "extra_working_days": [iso dates]}
    days: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "province_calendar"


class TenantSettings(Model):
    """The tenant's regulation (quy chế) as configuration: calendar, SLA table, options.

    One row per tenant; JSON documents, each read through its typed class (tenants.calendar,
    tenants.sla, tenants.options), which validates it."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT, unique=True
    )
    tenant_id: UUID  # the column behind the relation
    calendar: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    sla_rules: fields.JSONField[list[dict[str, Any]]] = fields.JSONField(default=list)
    sla_version = fields.IntField(default=1, db_default=1)
    options: fields.JSONField[dict[str, Any]] = fields.JSONField(default=dict)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "tenant_settings"


class Pilot(Model):
    """A tenant's pilot (thí điểm): its period and targets, set by the province at onboarding
    (the document's ``pilot``) or later (``stats.pilot.set_pilot``); the evaluation (stats/)
    compares the period's figures with the targets. Table from migration 0016."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: UUID  # the column behind the relation
    starts_on = fields.DateField()
    ends_on = fields.DateField()
    on_time_target = fields.FloatField()  # share in [0, 1]
    satisfied_target = fields.FloatField()  # share in [0, 1]
    updated_by = fields.UUIDField(null=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "stats_pilot"
        unique_together = (("tenant",),)


class TenantMergeStep(Model):
    """One step of a tenant merge that is done: the log that makes a merge resumable and
    audits it (who, when, how many rows of each table moved). Kept in the target tenant;
    written only by the database function ``paht_merge_tenant`` (migration 0023)."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: UUID  # the column behind the relation: the target
    merge_key = fields.CharField(max_length=200)
    source_id = fields.UUIDField()
    step = fields.CharField(max_length=20)
    counts: fields.JSONField[dict[str, int] | None] = fields.JSONField(null=True)
    actor_user_id = fields.UUIDField(null=True)
    done_at = fields.DatetimeField()

    class Meta:
        table = "tenant_merge_step"


class ReportForward(Model):
    """Where a report that left this tenant in a split now lives (tenants/split.py): its code and
    tracking code keep resolving here. Kept in the source tenant; written only by the database
    function ``paht_split_tenant`` (migration 0028)."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: UUID  # the column behind the relation: the tenant the report left
    code = fields.CharField(max_length=32)
    tracking_code = fields.CharField(max_length=32, null=True)
    report_id = fields.UUIDField()
    target_tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    target_tenant_id: UUID  # the column behind the relation
    split_key = fields.CharField(max_length=200)
    moved_at = fields.DatetimeField()

    class Meta:
        table = "report_forward"
        unique_together = (("tenant", "code"),)
