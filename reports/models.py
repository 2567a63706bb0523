"""Reports, their append-only history, reporter contacts and attachments (docs/architecture.md
§2 and §4).

Every table is tenant-owned and RLS-protected (migration 0002). References between them carry
``tenant_id`` (composite foreign keys added in SQL), so no row can point into another tenant.
States and urgencies are ``text`` + CHECK rather than enums: ``texteq`` is leakproof, so RLS keeps
index use (with a non-leakproof operator the planner filters rows after the policy). Only
``reports.service`` writes these tables."""

from __future__ import annotations

import uuid
from typing import Any

from tortoise import fields
from tortoise.contrib.postgres.fields import ArrayField
from tortoise.models import Model

from core.ids import new_id
from core.labels import Labelled
from tenants.models import Tenant


class ReporterKind(Labelled):
    """Who reports (the seed names all three)."""

    PERSON = "person", "cá nhân", "person"
    ORGANISATION = "organisation", "tổ chức", "organisation"
    BUSINESS = "business", "doanh nghiệp", "business"


class Channel(Labelled):
    """Through which channel a report arrived (docs/domain.md §1)."""

    APP = "app", "ứng dụng di động", "mobile app"
    WEB = "web", "cổng thông tin điện tử", "web portal"
    HOTLINE = "hotline", "đường dây nóng", "hotline"
    ZALO = "zalo", "mạng xã hội Zalo", "Zalo messaging app"
    OPEN311 = "open311", "giao diện Open311", "Open311 interface"
    EMAIL = "email", "thư điện tử", "e-mail"
    WALK_IN = "walk_in", "trực tiếp tại trụ sở", "in person at the office"


class Report(Model):
    """The current state of one citizen report; its ``ReportEvent`` rows are the history."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: uuid.UUID  # the column behind the relation
    code = fields.CharField(max_length=32)  # "SP-2026-000123", unique per tenant
    title = fields.CharField(max_length=200)
    description = fields.TextField()
    field_id = fields.UUIDField()  # composite FK (tenant_id, field_id) in SQL
    lead_agency_id = fields.UUIDField(null=True)  # composite FK (tenant_id, lead_agency_id)
    coordinating_agency_ids: list[uuid.UUID] = ArrayField("uuid", default=list)
    reporter_kind = fields.CharField(max_length=16, default="person", db_default="person")
    channel = fields.CharField(max_length=16, default="app", db_default="app")
    # The officer of the lead agency the report was handed to (reports.handoff); null = none.
    assignee_user_id = fields.UUIDField(null=True)
    unit_code = fields.CharField(max_length=10, null=True)
    latitude = fields.FloatField()
    longitude = fields.FloatField()
    address = fields.TextField(default="", db_default="")
    urgency = fields.CharField(max_length=16, default="normal", db_default="normal")
    state = fields.CharField(max_length=20, default="SUBMITTED", db_default="SUBMITTED")
    version = fields.IntField(default=1, db_default=1)
    reporter_user_id = fields.UUIDField(null=True)
    anonymous = fields.BooleanField(default=False, db_default=False)
    tracking_code = fields.CharField(max_length=32, null=True)
    idempotency_key = fields.CharField(max_length=128, null=True)
    sla_version = fields.IntField(default=1, db_default=1)
    screen_due_at = fields.DatetimeField(null=True)
    accept_due_at = fields.DatetimeField(null=True)
    resolve_due_at = fields.DatetimeField(null=True)
    review_due_at = fields.DatetimeField(null=True)
    # Answers to the field's questions (tenants.questions).
    answers: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    # The deadline running in the current state; kept by a trigger (migration 0004), so that
    # lists can sort by it and "overdue" is an index range, never a stored flag.
    due_at = fields.DatetimeField(null=True)
    resolved_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)
    published = fields.BooleanField(default=False, db_default=False)
    rating = fields.SmallIntField(null=True)
    outcome = fields.CharField(max_length=20, null=True)  # of the approved result (Outcome)
    duplicate_of_id = fields.UUIDField(null=True)  # the master, when marked a duplicate
    # A transfer between localities (reports.transfer): the row left behind points to the
    # tenant and code of the copy; the copy to where it came from. FKs to tenant in SQL.
    transferred_to_tenant_id = fields.UUIDField(null=True)
    transferred_to_code = fields.CharField(max_length=32, null=True)
    transferred_from_tenant_id = fields.UUIDField(null=True)
    transferred_from_code = fields.CharField(max_length=32, null=True)
    # Escalation (reports.escalation): who watches it now (EscalationLevel), since when.
    escalation = fields.CharField(max_length=16, null=True)
    escalated_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "report"
        unique_together = (
            ("tenant", "id"),
            ("tenant", "code"),
            ("tenant", "idempotency_key"),
            ("tenant", "tracking_code"),
        )


class ReportCounter(Model):
    """Per-tenant, per-year sequence behind the human report code."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: uuid.UUID  # the column behind the relation
    year = fields.SmallIntField()
    # Column "last"; the attribute name ``last`` is reserved by tortoise's Model.
    last_number = fields.IntField(source_field="last", default=0, db_default=0)

    class Meta:
        table = "report_counter"
        unique_together = (("tenant", "year"),)


class ReporterContact(Model):
    """The reporter's personal data, kept apart from the report (docs/domain.md §7)."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: uuid.UUID  # the column behind the relation
    report_id = fields.UUIDField()  # composite FK (tenant_id, report_id) in SQL
    name = fields.CharField(max_length=200, default="", db_default="")
    phone = fields.CharField(max_length=32, null=True)
    email = fields.CharField(max_length=254, null=True)
    language = fields.CharField(max_length=2, default="vi", db_default="vi")  # of messages to them
    notify_by = fields.CharField(max_length=10, null=True)  # outbox Channel they chose, if any
    created_at = fields.DatetimeField(auto_now_add=True)
    # Set when the retention pass blanked the personal data (reports/retention.py).
    anonymised_at = fields.DatetimeField(null=True)

    class Meta:
        table = "reporter_contact"
        unique_together = (("tenant", "report_id"),)


class ReportEvent(Model):
    """One step of a report's history. Append-only: the API role may only SELECT and INSERT."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: uuid.UUID  # the column behind the relation
    report_id = fields.UUIDField()  # composite FK (tenant_id, report_id) in SQL
    actor_user_id = fields.UUIDField(null=True)
    actor_role = fields.CharField(max_length=200, default="", db_default="")
    # The agency the actor acted for (never the person): what a reporter is shown.
    actor_agency_id = fields.UUIDField(null=True)  # composite FK (tenant_id, ...) in SQL
    action = fields.CharField(max_length=32)
    from_state = fields.CharField(max_length=20, null=True)
    to_state = fields.CharField(max_length=20)
    reason_code = fields.CharField(max_length=64, null=True)
    comment = fields.TextField(null=True)
    public = fields.BooleanField(default=False, db_default=False)
    # The assignment and deadlines set by this step; handed to GraphQL as JSON.
    data: fields.JSONField[Any] = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "report_event"
        unique_together = (("tenant", "id"),)


class Attachment(Model):
    """A photo or video of a report (or of one of its events), stored by ``reports.storage``."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: uuid.UUID  # the column behind the relation
    report_id = fields.UUIDField()  # composite FK (tenant_id, report_id) in SQL
    event_id = fields.UUIDField(null=True)  # composite FK (tenant_id, event_id) in SQL
    kind = fields.CharField(max_length=16)
    content_type = fields.CharField(max_length=100)
    storage_key = fields.CharField(max_length=300)
    thumbnail_key = fields.CharField(max_length=300, null=True)
    size = fields.BigIntField()
    sha256 = fields.CharField(max_length=64)
    width = fields.IntField(null=True)
    height = fields.IntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "attachment"
        unique_together = (("tenant", "id"),)


class ExtensionRequest(Model):
    """A request to move a report's resolve deadline (gia hạn): at most one per report."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: uuid.UUID  # the column behind the relation
    report_id = fields.UUIDField()  # composite FK (tenant_id, report_id) in SQL
    requested_by = fields.UUIDField()  # FK app_user (id) in SQL
    reason = fields.TextField()
    requested_due_at = fields.DatetimeField()
    status = fields.CharField(max_length=16, default="pending", db_default="pending")
    decided_by = fields.UUIDField(null=True)
    decided_at = fields.DatetimeField(null=True)
    decision_comment = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "extension_request"
        unique_together = (("tenant", "id"), ("tenant", "report_id"))


class InfoRequest(Model):
    """A question from the handling agency to the reporter; the agency clock pauses meanwhile."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: uuid.UUID  # the column behind the relation
    report_id = fields.UUIDField()  # composite FK (tenant_id, report_id) in SQL
    requested_by = fields.UUIDField()  # FK app_user (id) in SQL
    question = fields.TextField()
    answer = fields.TextField(null=True)
    status = fields.CharField(max_length=16, default="open", db_default="open")
    created_at = fields.DatetimeField(auto_now_add=True)
    answered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "info_request"
        unique_together = (("tenant", "id"),)


class Notification(Model):
    """A reminder about a running deadline (50 %, 80 %, breach), addressed to a role, and to
    the lead agency where there is one. Created by the job runner, at most once per deadline."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: uuid.UUID  # the column behind the relation
    report_id = fields.UUIDField()  # composite FK (tenant_id, report_id) in SQL
    agency_id = fields.UUIDField(null=True)
    field_id = fields.UUIDField()
    audience = fields.CharField(max_length=60)  # role code
    kind = fields.CharField(max_length=20)  # DUE_HALF, DUE_SOON, OVERDUE
    state = fields.CharField(max_length=20)  # the report state whose deadline this is about
    due_at = fields.DatetimeField()
    message_vi = fields.TextField()
    message_en = fields.TextField()
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "notification"


class NotificationRead(Model):
    """A read receipt: one person's, so a colleague reading a shared reminder hides nothing."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: uuid.UUID  # the column behind the relation
    notification_id = fields.UUIDField()
    user_id = fields.UUIDField()
    read_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "notification_read"
        unique_together = (("tenant", "notification_id", "user_id"),)


class ReporterIdentityView(Model):
    """Who saw a reporter's identity, when (docs/domain.md §7, §14: every read is logged).

    Append-only: the API role may only SELECT and INSERT; written on a side connection so the
    record stays even if the request that read the identity fails afterwards."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: uuid.UUID  # the column behind the relation
    report_id = fields.UUIDField()  # composite FK (tenant_id, report_id) in SQL
    viewer_user_id = fields.UUIDField()
    viewed_at = fields.DatetimeField()

    class Meta:
        table = "reporter_identity_view"
