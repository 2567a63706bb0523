"""Casbin policy storage and tenant roles."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from core.ids import new_id

if TYPE_CHECKING:
    from tenants.models import Tenant


class CasbinRule(Model):
    """One casbin rule. ``tenant_id`` is the rule's domain (NULL for provincial rules in "*").

    p rules: v0=role, v1=domain, v2=field, v3=agency, v4=action.
    g rules: v0=user, v1=role, v2=domain, v3=agency, v4=field (narrowing of the grant)."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant_id = fields.UUIDField(null=True)
    ptype = fields.CharField(max_length=8)
    v0 = fields.CharField(max_length=255, default="", db_default="")
    v1 = fields.CharField(max_length=255, default="", db_default="")
    v2 = fields.CharField(max_length=255, default="", db_default="")
    v3 = fields.CharField(max_length=255, default="", db_default="")
    v4 = fields.CharField(max_length=255, default="", db_default="")
    v5 = fields.CharField(max_length=255, default="", db_default="")

    class Meta:
        table = "casbin_rule"
        unique_together = (("tenant_id", "ptype", "v0", "v1", "v2", "v3", "v4", "v5"),)


class Role(Model):
    """A tenant's role: a template installed at onboarding or one the tenant admin made."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: UUID  # the column behind the relation
    code = fields.CharField(max_length=60)
    name_vi = fields.CharField(max_length=200)
    name_en = fields.CharField(max_length=200)
    is_template = fields.BooleanField(default=False, db_default=False)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "role"
        unique_together = (("tenant", "code"),)
