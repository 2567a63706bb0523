from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

# What a reporter is shown of a report's handling: the agency each step was taken for (never the
# person), the outcome of the approved result and the master of a duplicate as fields of the
# report. The tenant's
# publication settings become its typed options (tenants/options.py).
SQL = [
    "ALTER TABLE report_event ADD CONSTRAINT report_event_actor_agency_fk FOREIGN KEY "
    "(tenant_id, actor_agency_id) REFERENCES agency (tenant_id, id) ON DELETE RESTRICT",
    "ALTER TABLE report ADD CONSTRAINT report_duplicate_of_fk FOREIGN KEY "
    "(tenant_id, duplicate_of_id) REFERENCES report (tenant_id, id) ON DELETE RESTRICT",
    "ALTER TABLE report ADD CONSTRAINT report_outcome_check CHECK "
    "(outcome IN ('FIXED', 'CANNOT_FIX', 'NOT_RESPONSIBLE'))",
    # Existing rows are rewritten by the owner: FORCE would hide them (no tenant is set here).
    "ALTER TABLE report NO FORCE ROW LEVEL SECURITY",
    "UPDATE report r SET outcome = e.reason_code FROM ("
    "  SELECT DISTINCT ON (report_id) report_id, reason_code FROM report_event"
    "  WHERE action = 'APPROVE_RESULT' ORDER BY report_id, created_at DESC, id DESC) e"
    " WHERE e.report_id = r.id AND e.reason_code IN ('FIXED', 'CANNOT_FIX', 'NOT_RESPONSIBLE')",
    "ALTER TABLE report FORCE ROW LEVEL SECURITY",
    "ALTER TABLE tenant_settings NO FORCE ROW LEVEL SECURITY",
    # Only the keys the options know; "default_public" was written but never read.
    "UPDATE tenant_settings SET options = (SELECT coalesce(jsonb_object_agg(key, value), '{}')"
    " FROM jsonb_each(options::jsonb) WHERE key IN ('workflow_options', 'duplicate_radius_m',"
    " 'reply_window_days'))::json",
    "ALTER TABLE tenant_settings FORCE ROW LEVEL SECURITY",
]
REVERSE_SQL = [
    "ALTER TABLE report DROP CONSTRAINT IF EXISTS report_duplicate_of_fk",
    "ALTER TABLE report_event DROP CONSTRAINT IF EXISTS report_event_actor_agency_fk",
    "ALTER TABLE report DROP CONSTRAINT IF EXISTS report_outcome_check",
]


class Migration(migrations.Migration):
    dependencies = [('models', '0009_passwords')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Report',
            name='outcome',
            field=fields.CharField(null=True, max_length=20),
        ),
        ops.AddField(
            model_name='Report',
            name='duplicate_of_id',
            field=fields.UUIDField(null=True),
        ),
        ops.AddField(
            model_name='ReportEvent',
            name='actor_agency_id',
            field=fields.UUIDField(null=True),
        ),
        ops.AlterModelOptions(
            name='TenantSettings',
            options={'table': 'tenant_settings', 'app': 'models', 'pk_attr': 'id', 'table_description': "The tenant's regulation (quy chế) as configuration: calendar, SLA table, options."},
        ),
        ops.RenameField(
            model_name='TenantSettings',
            old_name='publication',
            new_name='options',
        ),
        ops.RunSQL(SQL, reverse_sql=REVERSE_SQL),
    ]
