from tortoise import migrations
from tortoise.migrations import operations as ops
from core.ids import new_id
from tortoise.fields.base import OnDelete
from tortoise import fields

TENANT = "(SELECT nullif(current_setting('app.tenant_id', true), '')::uuid)"
TENANTS = "(SELECT nullif(current_setting('app.tenant_ids', true), '')::uuid[])"
VISIBLE = f"(tenant_id = {TENANT} OR tenant_id = ANY (CAST({TENANTS} AS uuid[])))"
OWN = f"(tenant_id = {TENANT})"


def tenant_owned(table: str, privileges: str) -> list[str]:
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_read ON {table} FOR SELECT USING {VISIBLE}",
        f"CREATE POLICY tenant_insert ON {table} FOR INSERT WITH CHECK {OWN}",
        f"GRANT {privileges} ON {table} TO paht_api",
    ]


SQL = [
    "ALTER TABLE notification ADD CONSTRAINT notification_kind_check "
    "CHECK (kind IN ('DUE_HALF', 'DUE_SOON', 'OVERDUE'))",
    "ALTER TABLE notification ADD CONSTRAINT notification_report_fk FOREIGN KEY (tenant_id, "
    "report_id) REFERENCES report (tenant_id, id) ON DELETE CASCADE",
    "ALTER TABLE notification ADD CONSTRAINT notification_tenant_id_key UNIQUE (tenant_id, id)",
    # One reminder per report, deadline and threshold, however many processes run the job.
    "CREATE UNIQUE INDEX notification_once ON notification (tenant_id, report_id, state, due_at, "
    "kind, audience)",
    "CREATE INDEX notification_inbox ON notification (tenant_id, audience, created_at DESC)",
    "ALTER TABLE notification_read ADD CONSTRAINT notification_read_fk FOREIGN KEY (tenant_id, "
    "notification_id) REFERENCES notification (tenant_id, id) ON DELETE CASCADE",
    # Reminders and receipts are written once and never changed.
    *tenant_owned("notification", "SELECT, INSERT"),
    *tenant_owned("notification_read", "SELECT, INSERT"),
]
REVERSE_SQL = [
    "REVOKE ALL ON notification FROM paht_api",
    "REVOKE ALL ON notification_read FROM paht_api",
]


class Migration(migrations.Migration):
    dependencies = [('models', '0006_field_questions')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('report_id', fields.UUIDField()),
                ('agency_id', fields.UUIDField(null=True)),
                ('field_id', fields.UUIDField()),
                ('audience', fields.CharField(max_length=60)),
                ('kind', fields.CharField(max_length=20)),
                ('state', fields.CharField(max_length=20)),
                ('due_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('message_vi', fields.TextField(unique=False)),
                ('message_en', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'notification', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A reminder about a running deadline (50 %, 80 %, breach), addressed to a role, and to'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='NotificationRead',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('notification_id', fields.UUIDField()),
                ('user_id', fields.UUIDField()),
                ('read_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'notification_read', 'app': 'models', 'unique_together': (('tenant', 'notification_id', 'user_id'),), 'pk_attr': 'id', 'table_description': "A read receipt: one person's, so a colleague reading a shared reminder hides nothing."},
            bases=['Model'],
        ),
        ops.RunSQL(SQL, reverse_sql=REVERSE_SQL),
    ]
