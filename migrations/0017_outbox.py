from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from core.ids import new_id
from tortoise.contrib.postgres.fields import ArrayField
from tortoise.fields.base import OnDelete
from tortoise import fields

# The transactional outbox, webhook endpoints, channel settings, templates and staff
# preferences (outbox/models.py); the reporter's language and chosen channel. Frozen values:
# the channels, statuses and languages as they are today.
TENANT = "(SELECT nullif(current_setting('app.tenant_id', true), '')::uuid)"
OWN = f"(tenant_id = {TENANT})"
GROUP = "paht_api"
CHANNELS = "'EMAIL', 'SMS', 'ZALO', 'WEBHOOK'"
STATUSES = "'PENDING', 'SENT', 'FAILED'"
LANGUAGES = "'vi', 'en'"
POLICY_NAMES = ("tenant_read", "tenant_insert", "tenant_update", "tenant_delete")


def tenant_owned(table: str, privileges: str) -> list[str]:
    # Only the tenant's own rows, for every command: secrets and recipients never cross tenants
    # (not even on the provincial read path).
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_read ON {table} FOR SELECT USING {OWN}",
        f"CREATE POLICY tenant_insert ON {table} FOR INSERT WITH CHECK {OWN}",
        f"CREATE POLICY tenant_update ON {table} FOR UPDATE USING {OWN} WITH CHECK {OWN}",
        f"CREATE POLICY tenant_delete ON {table} FOR DELETE USING {OWN}",
        f"GRANT {privileges} ON {table} TO {GROUP}",
    ]


def undo(table: str) -> list[str]:
    return [
        *[f"DROP POLICY IF EXISTS {name} ON {table}" for name in POLICY_NAMES],
        f"REVOKE ALL ON {table} FROM {GROUP}",
    ]


TABLES = {
    "outbox_message": "SELECT, INSERT, UPDATE",
    "webhook_endpoint": "SELECT, INSERT, UPDATE",
    "outbox_settings": "SELECT, INSERT, UPDATE",
    "outbox_template": "SELECT, INSERT, UPDATE, DELETE",
    "staff_preference": "SELECT, INSERT, UPDATE",
}

SQL = [
    f"ALTER TABLE outbox_message ADD CONSTRAINT outbox_message_channel_check CHECK (channel IN ({CHANNELS}))",
    f"ALTER TABLE outbox_message ADD CONSTRAINT outbox_message_status_check CHECK (status IN ({STATUSES}))",
    f"ALTER TABLE outbox_message ADD CONSTRAINT outbox_message_language_check CHECK (language IN ({LANGUAGES}))",
    "ALTER TABLE webhook_endpoint ADD CONSTRAINT webhook_endpoint_tenant_id_key UNIQUE (tenant_id, id)",
    "ALTER TABLE outbox_message ADD CONSTRAINT outbox_message_endpoint_fk FOREIGN KEY (tenant_id, "
    "endpoint_id) REFERENCES webhook_endpoint (tenant_id, id) ON DELETE RESTRICT",
    # The runner's pass: the tenant's due messages, oldest first.
    "CREATE INDEX outbox_message_due ON outbox_message (tenant_id, next_attempt_at) "
    "WHERE status = 'PENDING'",
    "CREATE INDEX outbox_message_list ON outbox_message (tenant_id, created_at DESC, id DESC)",
    "CREATE UNIQUE INDEX outbox_settings_one ON outbox_settings (tenant_id)",
    f"ALTER TABLE outbox_template ADD CONSTRAINT outbox_template_channel_check CHECK (channel IN ({CHANNELS}))",
    f"ALTER TABLE outbox_template ADD CONSTRAINT outbox_template_language_check CHECK (language IN ({LANGUAGES}))",
    f"ALTER TABLE reporter_contact ADD CONSTRAINT reporter_contact_language_check CHECK (language IN ({LANGUAGES}))",
    "ALTER TABLE reporter_contact ADD CONSTRAINT reporter_contact_notify_by_check "
    "CHECK (notify_by IN ('EMAIL', 'SMS', 'ZALO'))",
    *[stmt for table, privileges in TABLES.items() for stmt in tenant_owned(table, privileges)],
]
REVERSE_SQL = [stmt for table in TABLES for stmt in undo(table)]


def _json() -> fields.JSONField:
    return fields.JSONField(null=True, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)


def _tenant() -> fields.ForeignKeyField:
    return fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)


def _id() -> fields.UUIDField:
    return fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)


class Migration(migrations.Migration):
    dependencies = [('models', '0016_stats')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ReporterContact',
            name='language',
            field=fields.CharField(max_length=2, default='vi', db_default='vi'),
        ),
        ops.AddField(
            model_name='ReporterContact',
            name='notify_by',
            field=fields.CharField(max_length=10, null=True),
        ),
        ops.CreateModel(
            name='WebhookEndpoint',
            fields=[
                ('id', _id()),
                ('tenant', _tenant()),
                ('url', fields.CharField(max_length=2000)),
                ('description', fields.CharField(max_length=200, default='', db_default='')),
                ('event_types', ArrayField(default=list, element_type='TEXT')),
                ('secret', fields.CharField(max_length=100)),
                ('active', fields.BooleanField(default=True, db_default=True)),
                ('consecutive_failures', fields.IntField(default=0, db_default=0)),
                ('disabled_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'webhook_endpoint', 'app': 'models', 'unique_together': (('tenant', 'id'),), 'pk_attr': 'id', 'table_description': 'A URL a tenant admin registered for some event types, with its signing secret.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='OutboxMessage',
            fields=[
                ('id', _id()),
                ('tenant', _tenant()),
                ('channel', fields.CharField(max_length=10)),
                ('event_type', fields.CharField(max_length=40)),
                ('recipient', fields.CharField(max_length=254, null=True)),
                ('endpoint_id', fields.UUIDField(null=True)),
                ('language', fields.CharField(max_length=2, default='vi', db_default='vi')),
                ('subject', fields.TextField(default='', db_default='', unique=False)),
                ('body', fields.TextField(default='', db_default='', unique=False)),
                ('payload', _json()),
                ('status', fields.CharField(max_length=10, default='PENDING', db_default='PENDING')),
                ('attempts', fields.IntField(default=0, db_default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(null=True, unique=False)),
                ('last_status_code', fields.IntField(null=True)),
                ('last_duration_ms', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outbox_message', 'app': 'models', 'unique_together': (('tenant', 'id'),), 'pk_attr': 'id', 'table_description': 'One message to deliver, written in the transaction of the change that caused it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ChannelSettings',
            fields=[
                ('id', _id()),
                ('tenant', _tenant()),
                ('email_enabled', fields.BooleanField(default=True, db_default=True)),
                ('email_from', fields.CharField(max_length=254, null=True)),
                ('sms_url', fields.CharField(max_length=2000, null=True)),
                ('sms_token', fields.CharField(max_length=500, null=True)),
                ('sms_sender', fields.CharField(max_length=40, null=True)),
                ('zalo_url', fields.CharField(max_length=2000, null=True)),
                ('zalo_token', fields.CharField(max_length=500, null=True)),
                ('zalo_templates', _json()),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outbox_settings', 'app': 'models', 'unique_together': (('tenant', 'id'),), 'pk_attr': 'id', 'table_description': "A tenant's channel configuration."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='MessageTemplate',
            fields=[
                ('id', _id()),
                ('tenant', _tenant()),
                ('event_type', fields.CharField(max_length=40)),
                ('channel', fields.CharField(max_length=10)),
                ('language', fields.CharField(max_length=2)),
                ('subject', fields.TextField(default='', db_default='', unique=False)),
                ('body', fields.TextField(unique=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'outbox_template', 'app': 'models', 'unique_together': (('tenant', 'event_type', 'channel', 'language'),), 'pk_attr': 'id', 'table_description': "A tenant's own wording of one event type's message."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StaffPreference',
            fields=[
                ('id', _id()),
                ('tenant', _tenant()),
                ('user_id', fields.UUIDField()),
                ('email_reminders', fields.BooleanField(default=False, db_default=False)),
                ('language', fields.CharField(max_length=2, default='vi', db_default='vi')),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'staff_preference', 'app': 'models', 'unique_together': (('tenant', 'user_id'),), 'pk_attr': 'id', 'table_description': "A staff member's choice to receive their own deadline reminders by e-mail."},
            bases=['Model'],
        ),
        ops.RunSQL(SQL, reverse_sql=REVERSE_SQL),
    ]
