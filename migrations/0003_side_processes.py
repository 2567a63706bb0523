from tortoise import migrations
from tortoise.migrations import operations as ops
from core.ids import new_id
from tortoise.fields.base import OnDelete
from tortoise import fields

# Side processes of a report (docs/domain.md §3): deadline extensions and information requests, plus
# the duplicate-suggestion index. Same RLS pattern as 0001/0002: per-command policies, reads may
# span the readable tenants (provincial path), writes stay in the request's own tenant.
TENANT = "(SELECT nullif(current_setting('app.tenant_id', true), '')::uuid)"
TENANTS = "(SELECT nullif(current_setting('app.tenant_ids', true), '')::uuid[])"
VISIBLE = f"(tenant_id = {TENANT} OR tenant_id = ANY (CAST({TENANTS} AS uuid[])))"
GROUP = "paht_api"
OWN = f"(tenant_id = {TENANT})"
POLICY_NAMES = ("tenant_read", "tenant_insert", "tenant_update", "tenant_delete")


def tenant_policies(table: str, read: str = VISIBLE, write: str = OWN) -> list[str]:
    return [
        f"CREATE POLICY tenant_read ON {table} FOR SELECT USING {read}",
        f"CREATE POLICY tenant_insert ON {table} FOR INSERT WITH CHECK {write}",
        f"CREATE POLICY tenant_update ON {table} FOR UPDATE USING {write} WITH CHECK {write}",
        f"CREATE POLICY tenant_delete ON {table} FOR DELETE USING {write}",
    ]


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


# Decisions and answers update a row; nothing is ever deleted by the API.
PRIVILEGES = {
    "extension_request": "SELECT, INSERT, UPDATE",
    "info_request": "SELECT, INSERT, UPDATE",
}

CONSTRAINTS = [
    ("extension_request", "extension_request_status_check", "CHECK (status IN ('pending', 'approved', 'denied'))"),
    ("extension_request", "extension_request_decided_check", "CHECK ((status = 'pending') = (decided_at IS NULL))"),
    ("extension_request", "extension_request_reason_check", "CHECK (char_length(reason) BETWEEN 1 AND 2000)"),
    ("info_request", "info_request_status_check", "CHECK (status IN ('open', 'answered', 'expired'))"),
    ("info_request", "info_request_answered_check", "CHECK ((status = 'answered') = (answered_at IS NOT NULL AND answer IS NOT NULL))"),
    ("info_request", "info_request_question_check", "CHECK (char_length(question) BETWEEN 1 AND 2000)"),
    # Foreign keys between tenant-owned tables carry tenant_id: no cross-tenant reference.
    ("extension_request", "extension_request_report_fk", "FOREIGN KEY (tenant_id, report_id) REFERENCES report (tenant_id, id) ON DELETE RESTRICT"),
    ("extension_request", "extension_request_requested_by_fk", "FOREIGN KEY (requested_by) REFERENCES app_user (id) ON DELETE RESTRICT"),
    ("extension_request", "extension_request_decided_by_fk", "FOREIGN KEY (decided_by) REFERENCES app_user (id) ON DELETE RESTRICT"),
    ("info_request", "info_request_report_fk", "FOREIGN KEY (tenant_id, report_id) REFERENCES report (tenant_id, id) ON DELETE RESTRICT"),
    ("info_request", "info_request_requested_by_fk", "FOREIGN KEY (requested_by) REFERENCES app_user (id) ON DELETE RESTRICT"),
]

INDEXES = [
    # Duplicate suggestions: a bounding box on latitude within the tenant's field.
    ("report_field_position_idx", "report (tenant_id, field_id, latitude, longitude)"),
    ("info_request_report_idx", "info_request (tenant_id, report_id, created_at)"),
]
UNIQUE_INDEXES = [
    # At most one open information request per report.
    ("info_request_open_uniq", "info_request (tenant_id, report_id) WHERE status = 'open'"),
]

SECURITY_SQL = [
    *[f"ALTER TABLE {table} ADD CONSTRAINT {name} {body}" for table, name, body in CONSTRAINTS],
    *[f"CREATE INDEX {name} ON {body}" for name, body in INDEXES],
    *[f"CREATE UNIQUE INDEX {name} ON {body}" for name, body in UNIQUE_INDEXES],
    *[sql for table, privileges in PRIVILEGES.items() for sql in tenant_owned(table, privileges)],
]

REVERSE_SECURITY_SQL = [
    *[sql for table in PRIVILEGES for sql in undo_tenant_owned(table)],
    *[f"DROP INDEX IF EXISTS {name}" for name, _ in [*INDEXES, *UNIQUE_INDEXES]],
    *[f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {name}" for table, name, _ in reversed(CONSTRAINTS)],
]


class Migration(migrations.Migration):
    dependencies = [('models', '0002_reports')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ExtensionRequest',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('report_id', fields.UUIDField()),
                ('requested_by', fields.UUIDField()),
                ('reason', fields.TextField(unique=False)),
                ('requested_due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status', fields.CharField(default='pending', db_default='pending', max_length=16)),
                ('decided_by', fields.UUIDField(null=True)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('decision_comment', fields.TextField(null=True, unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'extension_request', 'app': 'models', 'unique_together': (('tenant', 'id'), ('tenant', 'report_id')), 'pk_attr': 'id', 'table_description': "A request to move a report's resolve deadline (gia hạn): at most one per report."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InfoRequest',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('report_id', fields.UUIDField()),
                ('requested_by', fields.UUIDField()),
                ('question', fields.TextField(unique=False)),
                ('answer', fields.TextField(null=True, unique=False)),
                ('status', fields.CharField(default='open', db_default='open', max_length=16)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('answered_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'info_request', 'app': 'models', 'unique_together': (('tenant', 'id'),), 'pk_attr': 'id', 'table_description': 'A question from the handling agency to the reporter; the agency clock pauses meanwhile.'},
            bases=['Model'],
        ),
        ops.RunSQL(SECURITY_SQL, reverse_sql=REVERSE_SECURITY_SQL),
    ]
