from tortoise import migrations
from tortoise.migrations import operations as ops
from core.ids import new_id
from tortoise.fields.base import OnDelete
from tortoise import fields

# Issue 18, citizens sign themselves up: a citizen's profile in the tenant they registered in
# (kind, organisation, verified contacts, notification preferences) and the one-time codes that
# prove an e-mail address or a phone number (hashes only). Frozen values as of this migration.
TENANT = "(SELECT nullif(current_setting('app.tenant_id', true), '')::uuid)"
OWN = f"(tenant_id = {TENANT})"
KINDS = "'person', 'organisation', 'business'"
PURPOSES = "'sign_up', 'contact_change'"
CONTACTS = "'email', 'phone'"


def tenant_owned(table: str) -> list[str]:
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_read ON {table} FOR SELECT USING {OWN}",
        f"CREATE POLICY tenant_insert ON {table} FOR INSERT WITH CHECK {OWN}",
        f"CREATE POLICY tenant_update ON {table} FOR UPDATE USING {OWN} WITH CHECK {OWN}",
        f"CREATE POLICY tenant_delete ON {table} FOR DELETE USING {OWN}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO paht_api",
    ]


SQL = [
    f"ALTER TABLE citizen_profile ADD CONSTRAINT citizen_profile_kind_check CHECK (kind IN ({KINDS}))",
    "ALTER TABLE citizen_profile ADD CONSTRAINT citizen_profile_language_check "
    "CHECK (language IN ('vi', 'en'))",
    f"ALTER TABLE citizen_code ADD CONSTRAINT citizen_code_purpose_check CHECK (purpose IN ({PURPOSES}))",
    f"ALTER TABLE citizen_code ADD CONSTRAINT citizen_code_contact_check CHECK (contact_kind IN ({CONTACTS}))",
    "ALTER TABLE citizen_code ADD CONSTRAINT citizen_code_user_fk FOREIGN KEY (user_id) "
    "REFERENCES app_user (id) ON DELETE CASCADE",
    "CREATE INDEX citizen_code_lookup ON citizen_code (tenant_id, purpose, address, created_at DESC)",
    *tenant_owned("citizen_profile"),
    *tenant_owned("citizen_code"),
]
REVERSE_SQL = [
    "REVOKE ALL ON citizen_profile FROM paht_api",
    "REVOKE ALL ON citizen_code FROM paht_api",
]


class Migration(migrations.Migration):
    dependencies = [('models', '0021_workflow_more')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CitizenProfile',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('kind', fields.CharField(default='person', db_default='person', max_length=16)),
                ('organisation_name', fields.CharField(null=True, max_length=200)),
                ('tax_code', fields.CharField(null=True, max_length=20)),
                ('email_verified_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('phone_verified_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('external_verified_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('notify_email', fields.BooleanField(default=True, db_default=True)),
                ('notify_sms', fields.BooleanField(default=False, db_default=False)),
                ('language', fields.CharField(default='vi', db_default='vi', max_length=2)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'citizen_profile', 'app': 'models', 'unique_together': (('tenant', 'user'),), 'pk_attr': 'id', 'table_description': 'What a self-registered citizen told about themself, in the tenant they signed up in'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='VerificationCode',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('purpose', fields.CharField(max_length=20)),
                ('contact_kind', fields.CharField(max_length=10)),
                ('address', fields.CharField(max_length=254)),
                ('user_id', fields.UUIDField(null=True)),
                ('code_hash', fields.CharField(max_length=64)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'citizen_code', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One-time codes sent to an e-mail address or a phone number'},
            bases=['Model'],
        ),
        ops.RunSQL(SQL, reverse_sql=REVERSE_SQL),
    ]
