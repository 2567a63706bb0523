from tortoise import migrations
from tortoise.migrations import operations as ops
from core.ids import new_id
from tortoise.fields.base import OnDelete
from tortoise import fields

# Statistics of the pilot evaluation (stats/): per-day flows, per-report spans, the reports whose
# history grew since they were folded (marked by a trigger on report_event in the writing
# transaction), and each tenant's pilot period and targets. Every table is tenant-owned, FORCE
# RLS, one policy per command; the provincial path reads through app.tenant_ids.

TENANT = "(SELECT nullif(current_setting('app.tenant_id', true), '')::uuid)"
TENANTS = "(SELECT nullif(current_setting('app.tenant_ids', true), '')::uuid[])"
VISIBLE = f"(tenant_id = {TENANT} OR tenant_id = ANY (CAST({TENANTS} AS uuid[])))"
OWN = f"(tenant_id = {TENANT})"
TABLES = ("stats_day", "stats_report", "stats_dirty", "stats_pilot")


def tenant_owned(table: str) -> list[str]:
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_read ON {table} FOR SELECT USING {VISIBLE}",
        f"CREATE POLICY tenant_insert ON {table} FOR INSERT WITH CHECK {OWN}",
        f"CREATE POLICY tenant_update ON {table} FOR UPDATE USING {OWN} WITH CHECK {OWN}",
        f"CREATE POLICY tenant_delete ON {table} FOR DELETE USING {OWN}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO paht_api",
    ]


SQL = [
    "ALTER TABLE stats_day ADD CONSTRAINT stats_day_flow_check CHECK (flow IN ('received', "
    "'reopened', 'finished_on_time', 'finished_late', 'resolved', 'rejected', 'duplicate', "
    "'withdrawn', 'closed_unresolved', 'stage_on_time', 'stage_late', 'rated', 'rating_sum', "
    "'satisfied', 'extension_requested', 'extension_approved', 'returned', 'reworked'))",
    "CREATE UNIQUE INDEX stats_day_slice ON stats_day (tenant_id, day, field_id, agency_id, "
    "unit_code, urgency, flow, detail) NULLS NOT DISTINCT",
    "ALTER TABLE stats_report ADD COLUMN open_during tstzmultirange NOT NULL "
    "DEFAULT '{}'::tstzmultirange",
    "CREATE INDEX stats_report_open ON stats_report USING gist (open_during)",
    "ALTER TABLE stats_report ADD CONSTRAINT stats_report_report_fk FOREIGN KEY (tenant_id, id) "
    "REFERENCES report (tenant_id, id) ON DELETE CASCADE",
    "ALTER TABLE stats_dirty ADD CONSTRAINT stats_dirty_report_fk FOREIGN KEY (tenant_id, id) "
    "REFERENCES report (tenant_id, id) ON DELETE CASCADE",
    "ALTER TABLE stats_pilot ADD CONSTRAINT stats_pilot_targets_check CHECK (on_time_target "
    "BETWEEN 0 AND 1 AND satisfied_target BETWEEN 0 AND 1 AND starts_on <= ends_on)",
    # The writing transaction marks the report; the background pass folds it again. DO UPDATE
    # (not DO NOTHING) locks an existing mark until the writer commits, so a pass that is taking
    # marks either skips it (locked) or has removed it first (the writer then marks anew).
    """CREATE FUNCTION stats_mark_dirty() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public AS $$
BEGIN
  INSERT INTO stats_dirty (id, tenant_id) VALUES (NEW.report_id, NEW.tenant_id)
  ON CONFLICT (id) DO UPDATE SET tenant_id = EXCLUDED.tenant_id;
  RETURN NULL;
END $$""",
    "CREATE TRIGGER report_event_stats AFTER INSERT ON report_event FOR EACH ROW "
    "EXECUTE FUNCTION stats_mark_dirty()",
    # Reports that exist before this migration are folded by the first pass.
    "INSERT INTO stats_dirty (id, tenant_id) SELECT id, tenant_id FROM report",
    *[sql for table in TABLES for sql in tenant_owned(table)],
]
REVERSE_SQL = [
    "DROP TRIGGER IF EXISTS report_event_stats ON report_event",
    "DROP FUNCTION IF EXISTS stats_mark_dirty()",
    *[f"REVOKE ALL ON {table} FROM paht_api" for table in TABLES],
]


class Migration(migrations.Migration):
    dependencies = [('models', '0015_media_keys')]

    initial = False

    operations = [
        ops.CreateModel(
            name='StatsDay',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('day', fields.DateField()),
                ('field_id', fields.UUIDField()),
                ('agency_id', fields.UUIDField(null=True)),
                ('unit_code', fields.CharField(null=True, max_length=10)),
                ('urgency', fields.CharField(max_length=16)),
                ('flow', fields.CharField(max_length=32)),
                ('detail', fields.CharField(default='', db_default='', max_length=64)),
                ('n', fields.BigIntField(default=0, db_default=0)),
            ],
            options={'table': 'stats_day', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One flow of one local day and slice.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StatsReport',
            fields=[
                ('id', fields.UUIDField(primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('field_id', fields.UUIDField()),
                ('agency_id', fields.UUIDField(null=True)),
                ('unit_code', fields.CharField(null=True, max_length=10)),
                ('urgency', fields.CharField(max_length=16)),
                ('flows', fields.JSONField()),
                ('spans', fields.JSONField()),
            ],
            options={'table': 'stats_report', 'app': 'models', 'unique_together': (('tenant', 'id'),), 'pk_attr': 'id', 'table_description': 'What one report contributes, and its open spans.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StatsDirty',
            fields=[
                ('id', fields.UUIDField(primary_key=True, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'stats_dirty', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A report whose history grew since its statistics were folded.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Pilot',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('starts_on', fields.DateField()),
                ('ends_on', fields.DateField()),
                ('on_time_target', fields.FloatField()),
                ('satisfied_target', fields.FloatField()),
                ('updated_by', fields.UUIDField(null=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'stats_pilot', 'app': 'models', 'unique_together': (('tenant',),), 'pk_attr': 'id', 'table_description': "A tenant's pilot: its period and targets, set by the province."},
            bases=['Model'],
        ),
        ops.RunSQL(SQL, reverse_sql=REVERSE_SQL),
    ]
