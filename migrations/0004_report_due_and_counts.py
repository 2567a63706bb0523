from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

# The running deadline and pre-aggregated counts, both kept by triggers so that every writer
# (the service, imports, seeds) keeps them right. Dashboards read report_count: a few dozen rows
# per tenant instead of a GROUP BY over all its reports.
TENANT = "(SELECT nullif(current_setting('app.tenant_id', true), '')::uuid)"
TENANTS = "(SELECT nullif(current_setting('app.tenant_ids', true), '')::uuid[])"
VISIBLE = f"(tenant_id = {TENANT} OR tenant_id = ANY (CAST({TENANTS} AS uuid[])))"
OWN = f"(tenant_id = {TENANT})"
GROUP = "paht_api"

SQL = [
    """
    CREATE FUNCTION report_running_due() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.due_at := CASE NEW.state
        WHEN 'SUBMITTED' THEN NEW.screen_due_at
        WHEN 'REOPENED' THEN NEW.screen_due_at
        WHEN 'ASSIGNED' THEN NEW.accept_due_at
        WHEN 'IN_PROGRESS' THEN NEW.resolve_due_at
        WHEN 'RESULT_SUBMITTED' THEN NEW.review_due_at
        ELSE NULL
      END;
      RETURN NEW;
    END $$
    """,
    "CREATE TRIGGER report_running_due BEFORE INSERT OR UPDATE ON report "
    "FOR EACH ROW EXECUTE FUNCTION report_running_due()",
    "CREATE INDEX report_due_idx ON report (tenant_id, due_at, id) WHERE due_at IS NOT NULL",
    """
    CREATE TABLE report_count (
      tenant_id uuid NOT NULL REFERENCES tenant (id) ON DELETE RESTRICT,
      field_id uuid NOT NULL,
      agency_id uuid,
      state varchar(20) NOT NULL,
      n bigint NOT NULL DEFAULT 0
    )
    """,
    "CREATE UNIQUE INDEX report_count_key ON report_count (tenant_id, field_id, agency_id, state) "
    "NULLS NOT DISTINCT",
    """
    CREATE FUNCTION report_count_maintain() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'UPDATE' AND OLD.state = NEW.state AND OLD.field_id = NEW.field_id
         AND OLD.lead_agency_id IS NOT DISTINCT FROM NEW.lead_agency_id THEN
        RETURN NULL;
      END IF;
      IF TG_OP IN ('UPDATE', 'DELETE') THEN
        UPDATE report_count SET n = n - 1
         WHERE tenant_id = OLD.tenant_id AND field_id = OLD.field_id
           AND agency_id IS NOT DISTINCT FROM OLD.lead_agency_id AND state = OLD.state;
      END IF;
      IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO report_count (tenant_id, field_id, agency_id, state, n)
        VALUES (NEW.tenant_id, NEW.field_id, NEW.lead_agency_id, NEW.state, 1)
        ON CONFLICT (tenant_id, field_id, agency_id, state) DO UPDATE SET n = report_count.n + 1;
      END IF;
      RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER report_count_maintain AFTER INSERT OR DELETE OR UPDATE OF state, field_id, "
    "lead_agency_id ON report FOR EACH ROW EXECUTE FUNCTION report_count_maintain()",
    "ALTER TABLE report_count ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE report_count FORCE ROW LEVEL SECURITY",
    f"CREATE POLICY tenant_read ON report_count FOR SELECT USING {VISIBLE}",
    f"CREATE POLICY tenant_insert ON report_count FOR INSERT WITH CHECK {OWN}",
    f"CREATE POLICY tenant_update ON report_count FOR UPDATE USING {OWN} WITH CHECK {OWN}",
    f"GRANT SELECT, INSERT, UPDATE ON report_count TO {GROUP}",
    # Backfill existing rows. FORCE RLS applies to the owner too: lift it for this transaction
    # only (a migration is atomic), then restore it.
    "ALTER TABLE report NO FORCE ROW LEVEL SECURITY",
    "ALTER TABLE report_count NO FORCE ROW LEVEL SECURITY",
    "UPDATE report SET due_at = NULL",  # the BEFORE trigger recomputes it
    "INSERT INTO report_count (tenant_id, field_id, agency_id, state, n) "
    "SELECT tenant_id, field_id, lead_agency_id, state, count(*) FROM report GROUP BY 1, 2, 3, 4",
    "ALTER TABLE report FORCE ROW LEVEL SECURITY",
    "ALTER TABLE report_count FORCE ROW LEVEL SECURITY",
]

REVERSE_SQL = [
    "DROP TRIGGER IF EXISTS report_count_maintain ON report",
    "DROP FUNCTION IF EXISTS report_count_maintain()",
    "DROP TABLE IF EXISTS report_count",
    "DROP INDEX IF EXISTS report_due_idx",
    "DROP TRIGGER IF EXISTS report_running_due ON report",
    "DROP FUNCTION IF EXISTS report_running_due()",
]


class Migration(migrations.Migration):
    dependencies = [('models', '0003_side_processes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Report',
            name='due_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.RunSQL(SQL, reverse_sql=REVERSE_SQL),
    ]
