"""Registered Open311 client applications of a tenant, each with one api key (stored hashed)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from core.ids import new_id
from tenants.models import Tenant


class Open311Client(Model):
    """A client application (web app, mobile app, Zalo bot, partner system) that may POST
    requests. The key itself is shown once at registration; only its SHA-256 is kept (a random
    256-bit key needs no slow hash). Revoked clients are kept for the record."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    name = fields.CharField(max_length=200)
    contact = fields.CharField(max_length=254, default="", db_default="")
    key_prefix = fields.CharField(max_length=16)  # shown to admins to tell keys apart
    key_hash = fields.CharField(max_length=64)
    created_by = fields.UUIDField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)
    revoked_by = fields.UUIDField(null=True)

    class Meta:
        table = "open311_client"
        unique_together = (("tenant", "id"), ("tenant", "key_hash"))
