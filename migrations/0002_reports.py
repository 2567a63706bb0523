from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from core.ids import new_id
from json import dumps, loads
from tortoise.contrib.postgres.fields import ArrayField
from tortoise.fields.base import OnDelete
from tortoise import fields

# Row-level security, constraints and indexes (docs/architecture.md §2). Same policy as
# 0001: a request sees its tenant (and, on the audited provincial path, app.tenant_ids) and
# writes only to app.tenant_id.
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

STATES = ", ".join(
    f"'{s}'"
    for s in (
        "SUBMITTED", "NEED_INFO", "ASSIGNED", "RETURNED", "IN_PROGRESS", "RESULT_SUBMITTED",
        "RESOLVED", "REOPENED", "CLOSED", "REJECTED", "DUPLICATE", "WITHDRAWN",
    )
)


def tenant_owned(table: str, privileges: str) -> list[str]:
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


# report_event is append-only: the API may read and insert, never update or delete.
PRIVILEGES = {
    "report": "SELECT, INSERT, UPDATE",
    "report_counter": "SELECT, INSERT, UPDATE",
    "reporter_contact": "SELECT, INSERT, UPDATE, DELETE",
    "report_event": "SELECT, INSERT",
    "attachment": "SELECT, INSERT, UPDATE, DELETE",
}

CONSTRAINTS = [
    ("report", "report_state_check", f"CHECK (state IN ({STATES}))"),
    ("report", "report_urgency_check", "CHECK (urgency IN ('urgent', 'normal', 'complex'))"),
    ("report", "report_version_check", "CHECK (version >= 1)"),
    ("report", "report_latitude_check", "CHECK (latitude BETWEEN -90 AND 90)"),
    ("report", "report_longitude_check", "CHECK (longitude BETWEEN -180 AND 180)"),
    ("report", "report_rating_check", "CHECK (rating IS NULL OR rating BETWEEN 1 AND 5)"),
    ("report", "report_title_check", "CHECK (char_length(title) BETWEEN 5 AND 200)"),
    ("report", "report_description_check", "CHECK (char_length(description) <= 5000)"),
    ("report_counter", "report_counter_last_check", "CHECK (last >= 0)"),
    ("report_event", "report_event_to_state_check", f"CHECK (to_state IN ({STATES}))"),
    ("report_event", "report_event_from_state_check", f"CHECK (from_state IS NULL OR from_state IN ({STATES}))"),
    ("attachment", "attachment_kind_check", "CHECK (kind IN ('image', 'video'))"),
    ("attachment", "attachment_size_check", "CHECK (size >= 0)"),
    # Foreign keys between tenant-owned tables carry tenant_id: no cross-tenant reference.
    ("report", "report_field_fk", "FOREIGN KEY (tenant_id, field_id) REFERENCES field (tenant_id, id) ON DELETE RESTRICT"),
    ("report", "report_lead_agency_fk", "FOREIGN KEY (tenant_id, lead_agency_id) REFERENCES agency (tenant_id, id) ON DELETE RESTRICT"),
    ("report", "report_reporter_fk", "FOREIGN KEY (reporter_user_id) REFERENCES app_user (id) ON DELETE RESTRICT"),
    ("reporter_contact", "reporter_contact_report_fk", "FOREIGN KEY (tenant_id, report_id) REFERENCES report (tenant_id, id) ON DELETE RESTRICT"),
    ("report_event", "report_event_report_fk", "FOREIGN KEY (tenant_id, report_id) REFERENCES report (tenant_id, id) ON DELETE RESTRICT"),
    ("attachment", "attachment_report_fk", "FOREIGN KEY (tenant_id, report_id) REFERENCES report (tenant_id, id) ON DELETE RESTRICT"),
    ("attachment", "attachment_event_fk", "FOREIGN KEY (tenant_id, event_id) REFERENCES report_event (tenant_id, id) ON DELETE RESTRICT"),
]

INDEXES = [
    ("report_state_created_idx", "report (tenant_id, state, created_at DESC, id DESC)"),
    ("report_created_idx", "report (tenant_id, created_at DESC, id DESC)"),
    ("report_lead_agency_idx", "report (tenant_id, lead_agency_id, state)"),
    ("report_field_idx", "report (tenant_id, field_id, state)"),
    ("report_reporter_idx", "report (tenant_id, reporter_user_id, created_at DESC)"),
    ("report_event_report_idx", "report_event (tenant_id, report_id, created_at)"),
    ("attachment_report_idx", "attachment (tenant_id, report_id)"),
    ("attachment_event_idx", "attachment (tenant_id, event_id)"),
]

SECURITY_SQL = [
    *[f"ALTER TABLE {table} ADD CONSTRAINT {name} {body}" for table, name, body in CONSTRAINTS],
    *[f"CREATE INDEX {name} ON {body}" for name, body in INDEXES],
    *[sql for table, privileges in PRIVILEGES.items() for sql in tenant_owned(table, privileges)],
]

REVERSE_SECURITY_SQL = [
    *[sql for table in PRIVILEGES for sql in undo_tenant_owned(table)],
    *[f"DROP INDEX IF EXISTS {name}" for name, _ in INDEXES],
    *[f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}" for table, name, _ in reversed(CONSTRAINTS)],
]


class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Attachment',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('report_id', fields.UUIDField()),
                ('event_id', fields.UUIDField(null=True)),
                ('kind', fields.CharField(max_length=16)),
                ('content_type', fields.CharField(max_length=100)),
                ('storage_key', fields.CharField(max_length=300)),
                ('thumbnail_key', fields.CharField(null=True, max_length=300)),
                ('size', fields.BigIntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('width', fields.IntField(null=True)),
                ('height', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'attachment', 'app': 'models', 'unique_together': (('tenant', 'id'),), 'pk_attr': 'id', 'table_description': 'A photo or video of a report (or of one of its events), stored by ``reports.storage``.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Report',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('code', fields.CharField(max_length=32)),
                ('title', fields.CharField(max_length=200)),
                ('description', fields.TextField(unique=False)),
                ('field_id', fields.UUIDField()),
                ('lead_agency_id', fields.UUIDField(null=True)),
                ('coordinating_agency_ids', ArrayField(default=list, element_type='UUID')),
                ('unit_code', fields.CharField(null=True, max_length=10)),
                ('latitude', fields.FloatField()),
                ('longitude', fields.FloatField()),
                ('address', fields.TextField(default='', db_default='', unique=False)),
                ('urgency', fields.CharField(default='normal', db_default='normal', max_length=16)),
                ('state', fields.CharField(default='SUBMITTED', db_default='SUBMITTED', max_length=20)),
                ('version', fields.IntField(default=1, db_default=1)),
                ('reporter_user_id', fields.UUIDField(null=True)),
                ('anonymous', fields.BooleanField(default=False, db_default=False)),
                ('tracking_code', fields.CharField(null=True, max_length=32)),
                ('idempotency_key', fields.CharField(null=True, max_length=128)),
                ('sla_version', fields.IntField(default=1, db_default=1)),
                ('screen_due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('accept_due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolve_due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('review_due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('published', fields.BooleanField(default=False, db_default=False)),
                ('rating', fields.SmallIntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'report', 'app': 'models', 'unique_together': (('tenant', 'id'), ('tenant', 'code'), ('tenant', 'idempotency_key'), ('tenant', 'tracking_code')), 'pk_attr': 'id', 'table_description': 'The current state of one citizen report; its ``ReportEvent`` rows are the history.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReportCounter',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('year', fields.SmallIntField()),
                ('last_number', fields.IntField(source_field='last', default=0, db_default=0)),
            ],
            options={'table': 'report_counter', 'app': 'models', 'unique_together': (('tenant', 'year'),), 'pk_attr': 'id', 'table_description': 'Per-tenant, per-year sequence behind the human report code.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReportEvent',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('report_id', fields.UUIDField()),
                ('actor_user_id', fields.UUIDField(null=True)),
                ('actor_role', fields.CharField(default='', db_default='', max_length=200)),
                ('action', fields.CharField(max_length=32)),
                ('from_state', fields.CharField(null=True, max_length=20)),
                ('to_state', fields.CharField(max_length=20)),
                ('reason_code', fields.CharField(null=True, max_length=64)),
                ('comment', fields.TextField(null=True, unique=False)),
                ('public', fields.BooleanField(default=False, db_default=False)),
                ('data', fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'report_event', 'app': 'models', 'unique_together': (('tenant', 'id'),), 'pk_attr': 'id', 'table_description': "One step of a report's history. Append-only: the API role may only SELECT and INSERT."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ReporterContact',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('report_id', fields.UUIDField()),
                ('name', fields.CharField(default='', db_default='', max_length=200)),
                ('phone', fields.CharField(null=True, max_length=32)),
                ('email', fields.CharField(null=True, max_length=254)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'reporter_contact', 'app': 'models', 'unique_together': (('tenant', 'report_id'),), 'pk_attr': 'id', 'table_description': "The reporter's personal data, kept apart from the report (privacy tiers, DESIGN §4)."},
            bases=['Model'],
        ),
        ops.RunSQL(SECURITY_SQL, reverse_sql=REVERSE_SECURITY_SQL),
    ]
