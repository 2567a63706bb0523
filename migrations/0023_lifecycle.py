from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.contrib.postgres.fields import ArrayField
from tortoise import fields
from tortoise.fields.base import OnDelete
from core.ids import new_id

# Issue 15, localities change. Frozen values as of this migration:
# - administrative_unit.successor_codes: the units that took a unit over the day after its
#   valid_to (merge, split, rename);
# - tenant statuses, with 'archived' (data kept, read-only, hidden from the public feed);
# - the read-only guard: one trigger function refuses every insert, update and delete of a
#   tenant's records while the tenant is not active (SQLSTATE PT423, mapped to the typed error
#   TENANT_READ_ONLY by core/errors.py), whatever path writes them (GraphQL, background pass,
#   CLI). Only the audited lifecycle path (tenants/lifecycle.py) lifts it, for one transaction,
#   with app.lifecycle = 'on'. It is an integrity guard next to row-level security, not a
#   replacement: RLS still decides which tenant's rows a transaction may touch;
# - personal data (Nghị định 13/2023/NĐ-CP): reporter_contact.anonymised_at (the retention
#   pass), and reporter_identity_view, the append-only trail of who saw a reporter's identity.

TENANT = "(SELECT nullif(current_setting('app.tenant_id', true), '')::uuid)"
TENANTS = "(SELECT nullif(current_setting('app.tenant_ids', true), '')::uuid[])"
VISIBLE = f"(tenant_id = {TENANT} OR tenant_id = ANY (CAST({TENANTS} AS uuid[])))"
OWN = f"(tenant_id = {TENANT})"

IDENTITY_VIEW_SQL = [
    "ALTER TABLE reporter_identity_view ADD CONSTRAINT reporter_identity_view_report_fk "
    "FOREIGN KEY (tenant_id, report_id) REFERENCES report (tenant_id, id) ON DELETE RESTRICT",
    "CREATE INDEX reporter_identity_view_report ON reporter_identity_view "
    "(tenant_id, report_id, viewed_at DESC)",
    "ALTER TABLE reporter_identity_view ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE reporter_identity_view FORCE ROW LEVEL SECURITY",
    f"CREATE POLICY tenant_read ON reporter_identity_view FOR SELECT USING {VISIBLE}",
    f"CREATE POLICY tenant_insert ON reporter_identity_view FOR INSERT WITH CHECK {OWN}",
    "GRANT SELECT, INSERT ON reporter_identity_view TO paht_api",
]

STATUSES = ("active", "suspended", "merged", "archived")
OLD_STATUSES = ("active", "suspended", "merged")

# The tenant's records, frozen as of this migration (tests/tenants/test_lifecycle.py checks every
# tenant_id table is either here or exempt there, with its reason).
GUARDED = (
    "agency", "field", "tenant_settings", "membership", "casbin_rule", "role",
    "report", "report_counter", "reporter_contact", "report_event", "attachment",
    "extension_request", "info_request", "notification",
    "outbox_settings", "outbox_template", "webhook_endpoint", "open311_client",
)  # fmt: skip

GUARD_FUNCTION = """
CREATE FUNCTION paht_tenant_writable() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    target uuid;
    state text;
BEGIN
    IF current_setting('app.lifecycle', true) = 'on' THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP = 'DELETE' THEN target := OLD.tenant_id; ELSE target := NEW.tenant_id; END IF;
    SELECT status INTO state FROM public.tenant WHERE id = target;
    IF state IS NOT NULL AND state <> 'active' THEN
        RAISE EXCEPTION 'tenant % is % (read-only)', target, state
            USING ERRCODE = 'PT423', DETAIL = state, TABLE = TG_TABLE_NAME;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$
"""


def _guard(table: str) -> str:
    return (
        f"CREATE TRIGGER tenant_writable BEFORE INSERT OR UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION paht_tenant_writable()"
    )


def _status_check(statuses: tuple[str, ...]) -> list[str]:
    listed = ", ".join(f"'{s}'" for s in statuses)
    return [
        "ALTER TABLE tenant DROP CONSTRAINT tenant_status_check",
        f"ALTER TABLE tenant ADD CONSTRAINT tenant_status_check CHECK (status IN ({listed}))",
    ]


class Migration(migrations.Migration):
    dependencies = [('models', '0019_workflow')]

    initial = False

    operations = [
        ops.AddField(
            model_name='AdministrativeUnit',
            name='successor_codes',
            field=ArrayField(default=list, element_type='TEXT'),
        ),
        ops.RunSQL(
            sql=[
                "ALTER TABLE administrative_unit ALTER COLUMN successor_codes SET DEFAULT '{}'",
                "UPDATE administrative_unit SET successor_codes = '{}' WHERE successor_codes IS NULL",
                *_status_check(STATUSES),
            ],
            reverse_sql=_status_check(OLD_STATUSES),
        ),
        ops.RunSQL(
            sql=[GUARD_FUNCTION, *(_guard(t) for t in GUARDED)],
            reverse_sql=[
                *(f"DROP TRIGGER IF EXISTS tenant_writable ON {t}" for t in GUARDED),
                "DROP FUNCTION IF EXISTS paht_tenant_writable()",
            ],
        ),
        ops.AddField(
            model_name='ReporterContact',
            name='anonymised_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.CreateModel(
            name='ReporterIdentityView',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('report_id', fields.UUIDField()),
                ('viewer_user_id', fields.UUIDField()),
                ('viewed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'reporter_identity_view', 'app': 'models', 'pk_attr': 'id', 'table_description': "Who saw a reporter's identity, when."},
            bases=['Model'],
        ),
        ops.RunSQL(
            sql=IDENTITY_VIEW_SQL,
            reverse_sql=["REVOKE ALL ON reporter_identity_view FROM paht_api"],
        ),
    ]
