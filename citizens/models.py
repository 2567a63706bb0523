"""One-time codes sent to an e-mail address or a phone number (citizens/codes.py), and the
nonces of logins started with the identity provider (citizens/login_nonces.py).

Only hashes are kept; each expires and is used at most once. Tenant-owned, row-level secured
(migrations 0022 and 0032)."""

from __future__ import annotations

from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from core.ids import new_id
from tenants.models import Tenant


class VerificationCode(Model):
    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: UUID  # the column behind the relation
    purpose = fields.CharField(max_length=20)  # CodePurpose
    contact_kind = fields.CharField(max_length=10)  # ContactKind
    address = fields.CharField(max_length=254)  # the normalised e-mail address or phone number
    user_id = fields.UUIDField(null=True)  # a contact change: whose (FK in SQL)
    code_hash = fields.CharField(max_length=64)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField()

    class Meta:
        table = "citizen_code"


class ExternalLoginNonce(Model):
    """A login with the identity provider started in this tenant: the ID token must carry the
    nonce back, once, before ``expires_at``."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: UUID  # the column behind the relation
    nonce_hash = fields.CharField(max_length=64)
    expires_at = fields.DatetimeField()
    created_at = fields.DatetimeField()

    class Meta:
        table = "external_login_nonce"
        unique_together = (("tenant", "nonce_hash"),)
