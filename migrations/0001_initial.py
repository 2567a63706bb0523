from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from core.ids import new_id
from json import dumps, loads
from enum import StrEnum
from tortoise.contrib.postgres.fields import ArrayField
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

# Frozen copies of the enumerations as they were when this migration was written: a migration
# must describe the same schema whatever later code calls these values.
class TenantStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    MERGED = "merged"


class UnitKind(StrEnum):
    PHUONG = "phuong"
    XA = "xa"
    THI_TRAN = "thi_tran"


class AgencyKind(StrEnum):
    OFFICE = "office"
    DEPARTMENT = "department"
    POLICE = "police"
    COMMUNE = "commune"
    COMPANY = "company"
    CENTRE = "centre"
    OTHER = "other"


# Row-level security. A request sets app.tenant_id (its tenant) and, on the audited
# provincial path, app.tenant_ids (the tenants it may read). Writes need app.tenant_id.
TENANT = "(SELECT nullif(current_setting('app.tenant_id', true), '')::uuid)"
TENANTS = "(SELECT nullif(current_setting('app.tenant_ids', true), '')::uuid[])"
VISIBLE = f"(tenant_id = {TENANT} OR tenant_id = ANY (CAST({TENANTS} AS uuid[])))"
GROUP = "paht_api"
OWN = f"(tenant_id = {TENANT})"
POLICY_NAMES = ("tenant_read", "tenant_insert", "tenant_update", "tenant_delete")


def tenant_policies(table: str, read: str = VISIBLE, write: str = OWN) -> list[str]:
    # One permissive policy per command: reads may span the readable tenants (provincial path),
    # writes never leave the request's own tenant.
    return [
        f"CREATE POLICY tenant_read ON {table} FOR SELECT USING {read}",
        f"CREATE POLICY tenant_insert ON {table} FOR INSERT WITH CHECK {write}",
        f"CREATE POLICY tenant_update ON {table} FOR UPDATE USING {write} WITH CHECK {write}",
        f"CREATE POLICY tenant_delete ON {table} FOR DELETE USING {write}",
    ]


def tenant_owned(table: str, privileges: str = "SELECT, INSERT, UPDATE, DELETE") -> list[str]:
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        *tenant_policies(table),
        f"GRANT {privileges} ON {table} TO {GROUP}",
    ]


def undo_tenant_owned(table: str) -> list[str]:
    return [
        *[f"DROP POLICY IF EXISTS {name} ON {table}" for name in POLICY_NAMES],
        f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY",
        f"REVOKE ALL ON {table} FROM {GROUP}",
    ]


TENANT_OWNED = ["agency", "field", "tenant_settings", "membership", "role"]

SECURITY_SQL = [
    # Enumerations are text + CHECK: texteq is leakproof, so RLS keeps index use (notes §5.4).
    "ALTER TABLE tenant ADD CONSTRAINT tenant_status_check CHECK (status IN ('active', 'suspended', 'merged'))",
    "ALTER TABLE tenant ADD CONSTRAINT tenant_code_check CHECK (code ~ '^[a-z0-9][a-z0-9-]{1,39}$')",
    "ALTER TABLE tenant ADD CONSTRAINT tenant_prefix_check CHECK (report_prefix ~ '^[A-Z]{2,4}$')",
    "ALTER TABLE administrative_unit ADD CONSTRAINT unit_kind_check CHECK (kind IN ('phuong', 'xa', 'thi_tran'))",
    "ALTER TABLE agency ADD CONSTRAINT agency_kind_check CHECK (kind IN ('office', 'department', 'police', 'commune', 'company', 'centre', 'other'))",
    # Foreign keys between tenant-owned tables carry tenant_id: no cross-tenant reference can exist.
    "ALTER TABLE field ADD CONSTRAINT field_default_agency_fk FOREIGN KEY (tenant_id, default_agency_id) REFERENCES agency (tenant_id, id) ON DELETE RESTRICT",
    "ALTER TABLE membership ADD CONSTRAINT membership_agency_fk FOREIGN KEY (tenant_id, agency_id) REFERENCES agency (tenant_id, id) ON DELETE RESTRICT",
    "ALTER TABLE membership ADD CONSTRAINT membership_field_fk FOREIGN KEY (tenant_id, field_id) REFERENCES field (tenant_id, id) ON DELETE RESTRICT",
    "CREATE UNIQUE INDEX membership_grant_uniq ON membership (tenant_id, user_id, role, agency_id, field_id) NULLS NOT DISTINCT",
    "CREATE INDEX membership_user_idx ON membership (user_id)",
    "CREATE INDEX refresh_token_user_idx ON refresh_token (user_id)",
    # casbin rules of the provincial domain have tenant_id NULL: NULLS NOT DISTINCT keeps them unique.
    "ALTER TABLE casbin_rule DROP CONSTRAINT uid_casbin_rule_tenant__1df973",
    "CREATE UNIQUE INDEX casbin_rule_uniq ON casbin_rule (tenant_id, ptype, v0, v1, v2, v3, v4, v5) NULLS NOT DISTINCT",
    *[sql for table in TENANT_OWNED for sql in tenant_owned(table)],
    # Provincial rules (tenant_id NULL) are readable in every transaction (a provincial admin's
    # grants must resolve whatever tenant is set) but writable only on the provincial path.
    "ALTER TABLE casbin_rule ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE casbin_rule FORCE ROW LEVEL SECURITY",
    *tenant_policies(
        "casbin_rule",
        read=f"(tenant_id IS NULL OR {VISIBLE})",
        write=f"({OWN} OR (tenant_id IS NULL AND current_setting('app.province', true) = 'on'))",
    ),
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON casbin_rule TO {GROUP}",
    # Shared registries: no tenant column; the API scopes what it exposes.
    f"GRANT SELECT, INSERT, UPDATE ON tenant, administrative_unit, app_user TO {GROUP}",
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON refresh_token TO {GROUP}",
]

REVERSE_SECURITY_SQL = [
    *[sql for table in [*TENANT_OWNED, "casbin_rule"] for sql in undo_tenant_owned(table)],
    f"REVOKE ALL ON tenant, administrative_unit, app_user, refresh_token FROM {GROUP}",
]

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='AdministrativeUnit',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('code', fields.CharField(max_length=10)),
                ('name', fields.CharField(max_length=120)),
                ('kind', fields.CharEnumField(description='PHUONG: phuong\nXA: xa\nTHI_TRAN: thi_tran', enum_type=UnitKind, max_length=16)),
                ('province_code', fields.CharField(default='', db_default='', max_length=8)),
                ('district_code', fields.CharField(default='', db_default='', max_length=8)),
                ('valid_from', fields.DateField(null=True)),
                ('valid_to', fields.DateField(null=True)),
                ('boundary', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'administrative_unit', 'app': 'models', 'unique_together': (('code', 'valid_from'),), 'pk_attr': 'id', 'table_description': 'A commune-level unit (phường / xã / thị trấn) of the national list, valid for a period.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CasbinRule',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('tenant_id', fields.UUIDField(null=True)),
                ('ptype', fields.CharField(max_length=8)),
                ('v0', fields.CharField(default='', db_default='', max_length=255)),
                ('v1', fields.CharField(default='', db_default='', max_length=255)),
                ('v2', fields.CharField(default='', db_default='', max_length=255)),
                ('v3', fields.CharField(default='', db_default='', max_length=255)),
                ('v4', fields.CharField(default='', db_default='', max_length=255)),
                ('v5', fields.CharField(default='', db_default='', max_length=255)),
            ],
            options={'table': 'casbin_rule', 'app': 'models', 'unique_together': (('tenant_id', 'ptype', 'v0', 'v1', 'v2', 'v3', 'v4', 'v5'),), 'pk_attr': 'id', 'table_description': 'One casbin rule. ``tenant_id`` is the rule\'s domain (NULL for provincial rules in "*").'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Tenant',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('code', fields.CharField(unique=True, max_length=40)),
                ('report_prefix', fields.CharField(max_length=4)),
                ('name_vi', fields.CharField(max_length=200)),
                ('name_en', fields.CharField(max_length=200)),
                ('status', fields.CharEnumField(default=TenantStatus.ACTIVE, description='ACTIVE: active\nSUSPENDED: suspended\nMERGED: merged', db_default='active', enum_type=TenantStatus, max_length=16)),
                ('parent_organisation', fields.CharField(default='', db_default='', max_length=200)),
                ('province_code', fields.CharField(default='', db_default='', max_length=8)),
                ('unit_codes', ArrayField(default=list, element_type='TEXT')),
                ('successor', fields.ForeignKeyField('models.Tenant', source_field='successor_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('valid_from', fields.DateField(null=True)),
                ('valid_to', fields.DateField(null=True)),
                ('policy_version', fields.BigIntField(default=1, db_default=1)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'tenant', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A deployment organisation (đơn vị triển khai), e.g. "UBND Thị xã Sa Pa".'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Agency',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('code', fields.CharField(max_length=40)),
                ('name_vi', fields.CharField(max_length=200)),
                ('name_en', fields.CharField(max_length=200)),
                ('kind', fields.CharEnumField(default=AgencyKind.DEPARTMENT, description='OFFICE: office\nDEPARTMENT: department\nPOLICE: police\nCOMMUNE: commune\nCOMPANY: company\nCENTRE: centre\nOTHER: other', enum_type=AgencyKind, max_length=16)),
                ('is_coordination_centre', fields.BooleanField(default=False, db_default=False)),
                ('active', fields.BooleanField(default=True, db_default=True)),
                ('valid_from', fields.DateField(null=True)),
                ('valid_to', fields.DateField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'agency', 'app': 'models', 'unique_together': (('tenant', 'code'), ('tenant', 'id')), 'pk_attr': 'id', 'table_description': 'A handling or coordinating unit of a tenant (phòng, công an, UBND xã, company...).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Field',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('code', fields.CharField(max_length=40)),
                ('name_vi', fields.CharField(max_length=200)),
                ('name_en', fields.CharField(max_length=200)),
                ('active', fields.BooleanField(default=True, db_default=True)),
                ('default_agency_id', fields.UUIDField(null=True)),
                ('sensitive', fields.BooleanField(default=False, db_default=False)),
                ('quick_fix', fields.BooleanField(default=False, db_default=False)),
                ('sort_order', fields.IntField(default=0, db_default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'field', 'app': 'models', 'unique_together': (('tenant', 'code'), ('tenant', 'id')), 'pk_attr': 'id', 'table_description': 'A lĩnh vực: the category a report belongs to, which decides routing and deadlines.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Role',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('code', fields.CharField(max_length=60)),
                ('name_vi', fields.CharField(max_length=200)),
                ('name_en', fields.CharField(max_length=200)),
                ('is_template', fields.BooleanField(default=False, db_default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'role', 'app': 'models', 'unique_together': (('tenant', 'code'),), 'pk_attr': 'id', 'table_description': "A tenant's role: a template installed at onboarding or one the tenant admin made."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='TenantSettings',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', unique=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('calendar', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('sla_rules', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('sla_version', fields.IntField(default=1, db_default=1)),
                ('publication', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'tenant_settings', 'app': 'models', 'pk_attr': 'id', 'table_description': "The tenant's regulation (quy chế) as configuration: calendar, SLA table, publication rules."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('username', fields.CharField(unique=True, max_length=120)),
                ('password_hash', fields.CharField(null=True, max_length=255)),
                ('external_subject', fields.CharField(null=True, unique=True, max_length=300)),
                ('full_name', fields.CharField(default='', db_default='', max_length=200)),
                ('email', fields.CharField(null=True, max_length=254)),
                ('phone', fields.CharField(null=True, max_length=32)),
                ('is_active', fields.BooleanField(default=True, db_default=True)),
                ('default_tenant_id', fields.UUIDField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'app_user', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Membership',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('role', fields.CharField(max_length=60)),
                ('agency_id', fields.UUIDField(null=True)),
                ('field_id', fields.UUIDField(null=True)),
                ('active', fields.BooleanField(default=True, db_default=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'membership', 'app': 'models', 'pk_attr': 'id', 'table_description': "A user's role in a tenant, optionally narrowed to one agency and/or one field."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RefreshToken',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('tenant_id', fields.UUIDField(null=True)),
                ('family_id', fields.UUIDField(db_index=True)),
                ('token_hash', fields.CharField(unique=True, max_length=64)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('used_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'refresh_token', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An opaque, rotating refresh token, stored only as a SHA-256 hash.'},
            bases=['Model'],
        ),
        ops.RunSQL(SECURITY_SQL, reverse_sql=REVERSE_SECURITY_SQL),
    ]
