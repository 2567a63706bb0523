from tortoise import migrations
from tortoise.migrations import operations as ops
from core.ids import new_id
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.contrib.postgres.fields import ArrayField

# More statistics (stats/): the report's channel as a slice of stats_day and stats_report, and
# stats_stage_time (one row per run of a stage's clock, its working time) for the median and
# P90 per stage, and stats_export (evaluation exports run by the background pass). Tenant-owned,
# FORCE RLS, one policy per command, provincial read through app.tenant_ids. Every report is marked so that the next pass folds it again (channel, runs).

TENANT = "(SELECT nullif(current_setting('app.tenant_id', true), '')::uuid)"
TENANTS = "(SELECT nullif(current_setting('app.tenant_ids', true), '')::uuid[])"
VISIBLE = f"(tenant_id = {TENANT} OR tenant_id = ANY (CAST({TENANTS} AS uuid[])))"
OWN = f"(tenant_id = {TENANT})"
TABLE = "stats_stage_time"

RLS = [
    f"ALTER TABLE {TABLE} ENABLE ROW LEVEL SECURITY",
    f"ALTER TABLE {TABLE} FORCE ROW LEVEL SECURITY",
    f"CREATE POLICY tenant_read ON {TABLE} FOR SELECT USING {VISIBLE}",
    f"CREATE POLICY tenant_insert ON {TABLE} FOR INSERT WITH CHECK {OWN}",
    f"CREATE POLICY tenant_update ON {TABLE} FOR UPDATE USING {OWN} WITH CHECK {OWN}",
    f"CREATE POLICY tenant_delete ON {TABLE} FOR DELETE USING {OWN}",
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON {TABLE} TO paht_api",
]

SQL = [
    "DROP INDEX stats_day_slice",
    "CREATE UNIQUE INDEX stats_day_slice ON stats_day (tenant_id, day, field_id, agency_id, "
    "unit_code, urgency, channel, flow, detail) NULLS NOT DISTINCT",
    f"ALTER TABLE {TABLE} ADD CONSTRAINT stats_stage_time_stage_check CHECK (stage IN "
    "('screen', 'accept', 'resolve', 'review'))",
    f"ALTER TABLE {TABLE} ADD CONSTRAINT stats_stage_time_seconds_check CHECK (seconds >= 0)",
    f"ALTER TABLE {TABLE} ADD CONSTRAINT stats_stage_time_report_fk FOREIGN KEY (tenant_id, "
    "report_id) REFERENCES report (tenant_id, id) ON DELETE CASCADE",
    f"CREATE INDEX stats_stage_time_day ON {TABLE} (tenant_id, day)",
    f"CREATE INDEX stats_stage_time_report ON {TABLE} (tenant_id, report_id)",
    *RLS,
    "ALTER TABLE stats_export ADD CONSTRAINT stats_export_state_check CHECK (state IN "
    "('pending', 'running', 'done', 'failed'))",
    "ALTER TABLE stats_export ADD CONSTRAINT stats_export_lang_check CHECK (lang IN ('vi', 'en'))",
    "CREATE INDEX stats_export_pending ON stats_export (tenant_id, created_at) "
    "WHERE state IN ('pending', 'running')",
    *[sql.replace(TABLE, "stats_export") for sql in RLS],
    "INSERT INTO stats_dirty (id, tenant_id) SELECT id, tenant_id FROM report "
    "ON CONFLICT (id) DO NOTHING",
]
REVERSE_SQL = [
    f"REVOKE ALL ON {TABLE} FROM paht_api",
    "REVOKE ALL ON stats_export FROM paht_api",
    "DROP INDEX stats_day_slice",
    "CREATE UNIQUE INDEX stats_day_slice ON stats_day (tenant_id, day, field_id, agency_id, "
    "unit_code, urgency, flow, detail) NULLS NOT DISTINCT",
]


class Migration(migrations.Migration):
    dependencies = [("models", "0019_workflow")]

    initial = False

    operations = [
        ops.AddField(
            model_name="StatsDay",
            name="channel",
            field=fields.CharField(max_length=16, default="app", db_default="app"),
        ),
        ops.AddField(
            model_name="StatsReport",
            name="channel",
            field=fields.CharField(max_length=16, default="app", db_default="app"),
        ),
        ops.CreateModel(
            name="StatsStageTime",
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
                ("report_id", fields.UUIDField()),
                ("day", fields.DateField()),
                ("stage", fields.CharField(max_length=16)),
                ("seconds", fields.IntField()),
                ("field_id", fields.UUIDField()),
                ("agency_id", fields.UUIDField(null=True)),
                ("unit_code", fields.CharField(null=True, max_length=10)),
                ("urgency", fields.CharField(max_length=16)),
                ("channel", fields.CharField(max_length=16)),
            ],
            options={
                "table": "stats_stage_time",
                "app": "models",
                "pk_attr": "id",
                "table_description": "One run of a stage's clock and its working time.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name='StatsExport',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('requested_by', fields.UUIDField(null=True)),
                ('tenant_ids', ArrayField(element_type='UUID')),
                ('starts_on', fields.DateField()),
                ('ends_on', fields.DateField()),
                ('lang', fields.CharField(max_length=2)),
                ('state', fields.CharField(default='pending', db_default='pending', max_length=10)),
                ('done', fields.IntField(default=0, db_default=0)),
                ('steps', fields.IntField()),
                ('file_key', fields.CharField(null=True, max_length=512)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('finished_at', fields.DatetimeField(null=True)),
            ],
            options={'table': 'stats_export', 'app': 'models', 'pk_attr': 'id', 'table_description': 'An evaluation export asked for, run by the background pass.'},
            bases=['Model'],
        ),
        ops.RunSQL(SQL, reverse_sql=REVERSE_SQL),
    ]
