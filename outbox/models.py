"""The outbox, webhook endpoints, per-tenant channel settings, templates and staff preferences.

Every table is tenant-owned and RLS-protected (migration 0017). Statuses and channels are
``text`` + CHECK (leakproof under RLS). Secrets (an endpoint's signing secret, a gateway's
token) are readable only inside their tenant and are never returned by the API after creation."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from tortoise import fields
from tortoise.contrib.postgres.fields import ArrayField
from tortoise.models import Model

from core.ids import new_id
from tenants.models import Tenant


class OutboxMessage(Model):
    """One message to deliver, written in the transaction of the change that caused it. Its
    ``id`` is the idempotency id every attempt carries (a redelivery repeats it)."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: UUID  # the column behind the relation
    channel = fields.CharField(max_length=10)  # vocabulary.Channel
    event_type = fields.CharField(max_length=40)  # vocabulary.EventType
    # An e-mail address or a phone number (personal data: never logged), or NULL for a webhook.
    recipient = fields.CharField(max_length=254, null=True)
    endpoint_id = fields.UUIDField(null=True)  # composite FK (tenant_id, endpoint_id) in SQL
    language = fields.CharField(max_length=2, default="vi", db_default="vi")
    subject = fields.TextField(default="", db_default="")
    body = fields.TextField(default="", db_default="")
    payload: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    status = fields.CharField(max_length=10, default="PENDING", db_default="PENDING")
    attempts = fields.IntField(default=0, db_default=0)
    next_attempt_at = fields.DatetimeField()
    last_error = fields.TextField(null=True)
    last_status_code = fields.IntField(null=True)
    last_duration_ms = fields.IntField(null=True)
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_message"
        unique_together = (("tenant", "id"),)


class WebhookEndpoint(Model):
    """A URL a tenant admin registered for some event types, with its signing secret."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: UUID  # the column behind the relation
    url = fields.CharField(max_length=2000)
    description = fields.CharField(max_length=200, default="", db_default="")
    event_types: list[str] = ArrayField("text", default=list)
    secret = fields.CharField(max_length=100)  # "whsec_" + base64 of 32 random bytes
    active = fields.BooleanField(default=True, db_default=True)
    consecutive_failures = fields.IntField(default=0, db_default=0)
    disabled_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "webhook_endpoint"
        unique_together = (("tenant", "id"),)


class ChannelSettings(Model):
    """A tenant's channel configuration: the sender of its e-mail, its SMS and Zalo gateways."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: UUID  # the column behind the relation
    email_enabled = fields.BooleanField(default=True, db_default=True)
    email_from = fields.CharField(max_length=254, null=True)
    sms_url = fields.CharField(max_length=2000, null=True)
    sms_token = fields.CharField(max_length=500, null=True)
    sms_sender = fields.CharField(max_length=40, null=True)
    zalo_url = fields.CharField(max_length=2000, null=True)
    zalo_token = fields.CharField(max_length=500, null=True)
    # ZNS template id per event type (Zalo approves each template beforehand).
    zalo_templates: fields.JSONField[dict[str, Any] | None] = fields.JSONField(null=True)
    updated_at = fields.DatetimeField()

    class Meta:
        table = "outbox_settings"
        unique_together = (("tenant", "id"),)


class MessageTemplate(Model):
    """A tenant's own wording of one event type's message, in one channel and language."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: UUID  # the column behind the relation
    event_type = fields.CharField(max_length=40)
    channel = fields.CharField(max_length=10)
    language = fields.CharField(max_length=2)
    subject = fields.TextField(default="", db_default="")
    body = fields.TextField()
    updated_at = fields.DatetimeField()

    class Meta:
        table = "outbox_template"
        unique_together = (("tenant", "event_type", "channel", "language"),)


class StaffPreference(Model):
    """A staff member's choice to receive their own deadline reminders by e-mail."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: UUID  # the column behind the relation
    user_id = fields.UUIDField()
    email_reminders = fields.BooleanField(default=False, db_default=False)
    language = fields.CharField(max_length=2, default="vi", db_default="vi")
    updated_at = fields.DatetimeField()

    class Meta:
        table = "staff_preference"
        unique_together = (("tenant", "user_id"),)
