from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from core.ids import new_id
from json import dumps, loads
from tortoise.contrib.postgres.fields import ArrayField
from tortoise.fields.base import OnDelete
from tortoise import fields

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
    ]
