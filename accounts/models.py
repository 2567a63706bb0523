"""People and their sessions. A user is global (one person may serve several tenants);
what they may do in a tenant comes from memberships (tenant-owned, RLS-protected)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from core.ids import new_id

if TYPE_CHECKING:
    from tenants.models import Tenant


class User(Model):
    """A person's account. Usernames are unique within the home tenant (``default_tenant_id``;
    NULL for provincial staff), so a tenant learns nothing of another tenant's usernames.
    Password hashes are not here: they live in ``user_credential``, which the application role
    cannot read, behind the functions in accounts/credentials.py."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    username = fields.CharField(max_length=120)
    external_subject = fields.CharField(max_length=300, null=True, unique=True)
    full_name = fields.CharField(max_length=200, default="", db_default="")
    email = fields.CharField(max_length=254, null=True)
    phone = fields.CharField(max_length=32, null=True)
    is_active = fields.BooleanField(default=True, db_default=True)
    default_tenant_id = fields.UUIDField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "app_user"


class Membership(Model):
    """A user's role in a tenant, optionally narrowed to one agency and/or one field.

    The permissions package mirrors each membership into a casbin grouping rule."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: UUID  # the column behind the relation
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    user_id: UUID  # the column behind the relation
    role = fields.CharField(max_length=60)
    agency_id = fields.UUIDField(null=True)  # composite FK (tenant_id, agency_id) in SQL
    field_id = fields.UUIDField(null=True)  # composite FK (tenant_id, field_id) in SQL
    active = fields.BooleanField(default=True, db_default=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "membership"


class AuthSession(Model):
    """One login: its refresh tokens form a family and its access tokens carry its id
    (``sid``), so revoking the session ends both at once, in every process."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    user_id: UUID  # the column behind the relation
    tenant_id = fields.UUIDField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    revoked_at = fields.DatetimeField(null=True)
    revoked_reason = fields.CharField(max_length=20, null=True)

    class Meta:
        table = "auth_session"


class RefreshToken(Model):
    """An opaque, rotating refresh token, stored only as a SHA-256 hash.

    Tokens of one session form a family; presenting an already-rotated token revokes the
    session (a stolen token used by two parties is detected at the second use), except within
    a short grace window, when it returns the pair it was rotated into (two tabs refreshing at
    once). That pair is kept sealed with a key derived from the old token itself."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    user_id: UUID  # the column behind the relation
    tenant_id = fields.UUIDField(null=True)
    family_id = fields.UUIDField(db_index=True)  # the AuthSession (FK in SQL)
    token_hash = fields.CharField(max_length=64, unique=True)
    expires_at = fields.DatetimeField()
    used_at = fields.DatetimeField(null=True)
    revoked_at = fields.DatetimeField(null=True)
    successor_sealed = fields.BinaryField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "refresh_token"


class CitizenProfile(Model):
    """What a self-registered citizen told about themself, in the tenant they signed up in
    (citizens/). Staff accounts have none. Verification instants say which contact was proven
    by a one-time code (or by an external identity provider)."""

    id = fields.UUIDField(primary_key=True, default=new_id)
    tenant: fields.ForeignKeyRelation[Tenant] = fields.ForeignKeyField(
        "models.Tenant", related_name=False, on_delete=fields.RESTRICT
    )
    tenant_id: UUID  # the column behind the relation
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name=False, on_delete=fields.CASCADE
    )
    user_id: UUID  # the column behind the relation
    # person / organisation / business (the values of reports.models.ReporterKind)
    kind = fields.CharField(max_length=16, default="person", db_default="person")
    organisation_name = fields.CharField(max_length=200, null=True)
    tax_code = fields.CharField(max_length=20, null=True)
    email_verified_at = fields.DatetimeField(null=True)
    phone_verified_at = fields.DatetimeField(null=True)
    external_verified_at = fields.DatetimeField(null=True)
    notify_email = fields.BooleanField(default=True, db_default=True)
    notify_sms = fields.BooleanField(default=False, db_default=False)
    language = fields.CharField(max_length=2, default="vi", db_default="vi")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "citizen_profile"
        unique_together = (("tenant", "user"),)
