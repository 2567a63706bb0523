from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from core.ids import new_id

# Issue 18, external login: the nonce of each login the citizen app starts with the identity
# provider (OpenID Connect Core §3.1.2.1, §15.5.2). The ID token must carry it back, once,
# before it expires: a token replayed, or obtained by a login PAHT never started, is refused.
# Only a hash is kept. Tenant-owned, row-level secured like citizen_code (migration 0022).
TENANT = "(SELECT nullif(current_setting('app.tenant_id', true), '')::uuid)"
OWN = f"(tenant_id = {TENANT})"
TABLE = "external_login_nonce"

SQL = [
    f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY",
    f"ALTER TABLE {TABLE} FORCE ROW LEVEL SECURITY",
    f"CREATE POLICY tenant_read ON {TABLE} FOR SELECT USING {OWN}",
    f"CREATE POLICY tenant_insert ON {TABLE} FOR INSERT WITH CHECK {OWN}",
    f"CREATE POLICY tenant_delete ON {TABLE} FOR DELETE USING {OWN}",
    f"GRANT SELECT, INSERT, DELETE ON {TABLE} TO paht_api",  # used by deleting it
    f"CREATE INDEX {TABLE}_expiry ON {TABLE} (tenant_id, expires_at)",
]
REVERSE_SQL = [f"REVOKE ALL ON {TABLE} FROM paht_api"]


class Migration(migrations.Migration):
    dependencies = [("models", "0030_merge_fields_by_code")]

    initial = False

    operations = [
        ops.CreateModel(
            name="ExternalLoginNonce",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True),
                ),
                (
                    "tenant",
                    fields.ForeignKeyField(
                        "models.Tenant",
                        source_field="tenant_id",
                        db_constraint=True,
                        to_field="id",
                        related_name=False,
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("nonce_hash", fields.CharField(max_length=64)),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("created_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "external_login_nonce",
                "app": "models",
                "pk_attr": "id",
                "unique_together": (("tenant", "nonce_hash"),),
                "table_description": "A login with the identity provider started in this tenant: the ID token must carry the nonce back, once, before it expires.",
            },
            bases=["Model"],
        ),
        ops.RunSQL(sql=SQL, reverse_sql=REVERSE_SQL),
    ]
