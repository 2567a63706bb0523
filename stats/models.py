"""Statistics tables (migrations 0016, 0020, 0033): maintained from ``report_event`` by
``stats.maintain``, read by ``stats.queries`` (the pilot's row, ``stats_pilot``, is tenant
configuration: ``tenants.models.Pilot``). All tenant-owned, FORCE RLS.

``stats_day.n`` and ``stats_report.spans`` are derived data: ``paht stats rebuild`` recomputes
them from the events at any time."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from tortoise import fields
from tortoise.contrib.postgres.fields import ArrayField
from tortoise.models import Model

from core.ids import new_id
from tenants.models import Tenant


class StatsDay(Model):
    """One flow (``stats.indicators.Flow``) of one local day and slice: field, lead agency,
    administrative unit, urgency (the report's current ones)."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: UUID  # the column behind the relation
    day = fields.DateField()
    field_id = fields.UUIDField()
    agency_id = fields.UUIDField(null=True)
    unit_code = fields.CharField(max_length=10, null=True)
    urgency = fields.CharField(max_length=16)
    channel = fields.CharField(max_length=16, default="app", db_default="app")  # migration 0020
    flow = fields.CharField(max_length=32)
    detail = fields.CharField(max_length=64, default="", db_default="")
    n = fields.BigIntField(default=0, db_default=0)

    class Meta:
        table = "stats_day"


class StatsReport(Model):
    """What one report contributes (to take it back when its history grows) and its open spans
    (``stats.fold.Span``) for the balances; ``open_during`` (SQL only) indexes the spans."""

    id = fields.UUIDField(primary_key=True)  # the report's id
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: UUID  # the column behind the relation
    field_id = fields.UUIDField()
    agency_id = fields.UUIDField(null=True)
    unit_code = fields.CharField(max_length=10, null=True)
    urgency = fields.CharField(max_length=16)
    channel = fields.CharField(max_length=16, default="app", db_default="app")  # migration 0020
    flows: fields.JSONField[list[list[Any]]] = fields.JSONField()  # [[day, flow, detail, n]]
    spans: fields.JSONField[list[dict[str, Any]]] = fields.JSONField()  # [Span.to_json()]
    # The local day it was last folded: a report still open is folded again each new day
    # (its balances at midnight, ``Flow.OPEN_AT``; migration 0024).
    folded_on = fields.DateField(null=True)

    class Meta:
        table = "stats_report"
        unique_together = (("tenant", "id"),)


class StatsStageTime(Model):
    """One run of a stage's clock (``stats.fold.StageRun``): its working time in seconds, on the
    local day it stopped, in the report's slice; read for the median and P90 per stage."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: UUID  # the column behind the relation
    report_id = fields.UUIDField()  # composite FK (tenant_id, report_id) in SQL
    day = fields.DateField()
    stage = fields.CharField(max_length=16)
    seconds = fields.IntField()
    field_id = fields.UUIDField()
    agency_id = fields.UUIDField(null=True)
    unit_code = fields.CharField(max_length=10, null=True)
    urgency = fields.CharField(max_length=16)
    channel = fields.CharField(max_length=16)

    class Meta:
        table = "stats_stage_time"


class StatsMonth(Model):
    """A flow of ``stats_day`` summed over a local month (``day``: its first), over one slice
    column (``by``, ``stats.rollup.Rollup``; the others NULL); the balance ``open_at`` of the
    month's first day only. Kept by triggers on ``stats_day`` (migration 0033)."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: UUID  # the column behind the relation
    by = fields.CharField(max_length=16)
    day = fields.DateField()
    field_id = fields.UUIDField(null=True)
    agency_id = fields.UUIDField(null=True)
    unit_code = fields.CharField(max_length=10, null=True)
    urgency = fields.CharField(max_length=16, null=True)
    channel = fields.CharField(max_length=16, null=True)
    flow = fields.CharField(max_length=32)
    detail = fields.CharField(max_length=64, default="", db_default="")
    n = fields.BigIntField(default=0, db_default=0)

    class Meta:
        table = "stats_month"


class StatsStageMonth(Model):
    """The runs of ``stats_stage_time`` of a local month per stage, over one slice column as
    ``StatsMonth``: their count, median and P90 in seconds. Kept by triggers on
    ``stats_stage_time`` (migration 0033)."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: UUID  # the column behind the relation
    by = fields.CharField(max_length=16)
    day = fields.DateField()
    stage = fields.CharField(max_length=16)
    field_id = fields.UUIDField(null=True)
    agency_id = fields.UUIDField(null=True)
    unit_code = fields.CharField(max_length=10, null=True)
    urgency = fields.CharField(max_length=16, null=True)
    channel = fields.CharField(max_length=16, null=True)
    runs = fields.IntField()
    median = fields.FloatField()
    p90 = fields.FloatField()

    class Meta:
        table = "stats_stage_month"


class StatsExport(Model):
    """An evaluation export asked for (``stats.exports``): run by the background pass, its
    progress in ``done`` / ``steps``, the file (a zip of XLSX + CSV) in the media storage.
    Kept in the first tenant asked for; readable by whoever asked and provincial roles."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: UUID  # the column behind the relation
    requested_by = fields.UUIDField(null=True)
    tenant_ids: list[UUID] = ArrayField("uuid")
    starts_on = fields.DateField()
    ends_on = fields.DateField()
    lang = fields.CharField(max_length=2)
    state = fields.CharField(max_length=10, default="pending", db_default="pending")
    done = fields.IntField(default=0, db_default=0)
    steps = fields.IntField()
    file_key = fields.CharField(max_length=512, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    taken_at = fields.DatetimeField(null=True)  # a run began (migration 0026)
    finished_at = fields.DatetimeField(null=True)

    class Meta:
        table = "stats_export"


class StatsDirty(Model):
    """A report whose history grew since its statistics were folded (trigger on report_event)."""

    id = fields.UUIDField(primary_key=True)  # the report's id
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: UUID  # the column behind the relation

    class Meta:
        table = "stats_dirty"
