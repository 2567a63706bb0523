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

# --- merging tenants: one audited privileged path ---------------------------------------------
# paht_merge_tenant(source, target, merge_key, actor) is SECURITY DEFINER, owned by the owner
# role that runs this migration. It moves one source tenant's records into the target in one
# statement and records the step in tenant_merge_step. Row-level security is not weakened: the
# application role's policies are untouched; the owner (subject to FORCE RLS like everyone) gets
# one extra policy per moved table, lifecycle_merge, TO the owner role only, which admits just
# the two tenants the function names in app.merge_tenants for the rest of its transaction.
MERGING = "(SELECT nullif(current_setting('app.merge_tenants', true), '')::uuid[])"
MOVED = (
    "agency", "field", "membership", "role", "casbin_rule",
    "report", "report_event", "reporter_contact", "attachment", "extension_request",
    "info_request", "notification", "notification_read", "reporter_identity_view",
    "stats_report", "stats_dirty", "stats_stage_time", "webhook_endpoint", "outbox_message",
    "open311_client", "citizen_profile", "citizen_code",
)  # fmt: skip
# Stay with the source (its regulation, channel settings, counters of its own prefix, derived
# aggregates, sessions), or are rebuilt for both (report_count).
OWNER_ALSO = ("report_count", "report_counter", "tenant_merge_step")


def _owner_policy(table: str) -> str:
    return (
        f"CREATE POLICY lifecycle_merge ON {table} FOR ALL TO CURRENT_USER "
        f"USING (tenant_id = ANY (CAST({MERGING} AS uuid[]))) "
        f"WITH CHECK (tenant_id = ANY (CAST({MERGING} AS uuid[])))"
    )


def _moves() -> str:
    parts = [
        f"m_{t} AS (UPDATE {t} SET tenant_id = target WHERE tenant_id = source RETURNING 1)"
        for t in MOVED
        if t != "casbin_rule"
    ]
    parts.append(
        "m_casbin_rule AS (UPDATE casbin_rule SET tenant_id = target,"
        " v1 = CASE WHEN ptype = 'p' AND v1 = source::text THEN target::text ELSE v1 END,"
        " v2 = CASE WHEN ptype = 'g' AND v2 = source::text THEN target::text ELSE v2 END"
        " WHERE tenant_id = source RETURNING 1)"
    )
    counts = ", ".join(f"'{t}', (SELECT count(*) FROM m_{t})" for t in MOVED)
    return "WITH " + ", ".join(parts) + f" SELECT jsonb_build_object({counts}) INTO moved"


MERGE_FUNCTION = f"""
CREATE FUNCTION paht_merge_tenant(source uuid, target uuid, merge_key text, actor uuid)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    src tenant%ROWTYPE;
    tgt tenant%ROWTYPE;
    moved jsonb;
BEGIN
    SELECT * INTO src FROM tenant WHERE id = source FOR UPDATE;
    SELECT * INTO tgt FROM tenant WHERE id = target FOR UPDATE;
    IF src.id IS NULL OR tgt.id IS NULL OR source = target THEN
        RAISE EXCEPTION 'merge % into %: unknown or same tenant', source, target
            USING ERRCODE = 'PT404';
    END IF;
    IF src.status = 'merged' OR tgt.status <> 'active' THEN
        RAISE EXCEPTION 'merge % into %: source merged or target not active', source, target
            USING ERRCODE = 'PT409';
    END IF;
    PERFORM set_config('app.merge_tenants', '{{' || source || ',' || target || '}}', true),
            set_config('app.lifecycle', 'on', true);
    -- codes the target already uses are prefixed with the source's code
    UPDATE agency SET code = left(src.code || '-' || code, 40) WHERE tenant_id = source
        AND code IN (SELECT code FROM agency WHERE tenant_id = target);
    UPDATE field SET code = left(src.code || '-' || code, 40) WHERE tenant_id = source
        AND code IN (SELECT code FROM field WHERE tenant_id = target);
    -- what the target already holds is not moved twice
    DELETE FROM role r WHERE r.tenant_id = source
        AND EXISTS (SELECT 1 FROM role t WHERE t.tenant_id = target AND t.code = r.code);
    DELETE FROM membership m WHERE m.tenant_id = source AND EXISTS (SELECT 1 FROM membership t
        WHERE t.tenant_id = target AND t.user_id = m.user_id AND t.role = m.role
        AND t.agency_id IS NOT DISTINCT FROM m.agency_id
        AND t.field_id IS NOT DISTINCT FROM m.field_id);
    DELETE FROM citizen_profile p WHERE p.tenant_id = source AND EXISTS (SELECT 1
        FROM citizen_profile t WHERE t.tenant_id = target AND t.user_id = p.user_id);
    DELETE FROM casbin_rule c WHERE c.tenant_id = source AND EXISTS (SELECT 1 FROM casbin_rule t
        WHERE t.tenant_id = target AND t.ptype = c.ptype AND t.v0 IS NOT DISTINCT FROM c.v0
        AND t.v1 IS NOT DISTINCT FROM (CASE WHEN c.ptype = 'p' AND c.v1 = source::text
            THEN target::text ELSE c.v1 END)
        AND t.v2 IS NOT DISTINCT FROM (CASE WHEN c.ptype = 'g' AND c.v2 = source::text
            THEN target::text ELSE c.v2 END)
        AND t.v3 IS NOT DISTINCT FROM c.v3 AND t.v4 IS NOT DISTINCT FROM c.v4
        AND t.v5 IS NOT DISTINCT FROM c.v5);
    -- a report transferred between the two lives on as its copy (reports/transfer.py): the
    -- record left behind gives up the tracking code the copy carries and is followed by
    -- (also when the copy reached the target through an earlier merge of another locality)
    UPDATE report s SET tracking_code = NULL WHERE s.tenant_id IN (source, target)
        AND s.transferred_to_tenant_id IS NOT NULL AND s.tracking_code IS NOT NULL
        AND EXISTS (SELECT 1 FROM report c WHERE c.tenant_id IN (source, target)
            AND c.tenant_id <> s.tenant_id AND c.tracking_code = s.tracking_code);
    -- one statement: composite foreign keys are checked once every table has moved
    {_moves()};
    DELETE FROM report_count WHERE tenant_id IN (source, target);
    INSERT INTO report_count (tenant_id, field_id, agency_id, state, n)
        SELECT tenant_id, field_id, lead_agency_id, state, count(*) FROM report
        WHERE tenant_id = target GROUP BY tenant_id, field_id, lead_agency_id, state;
    IF src.report_prefix = tgt.report_prefix THEN
        INSERT INTO report_counter (id, tenant_id, year, last)
            SELECT gen_random_uuid(), target, year, last FROM report_counter
            WHERE tenant_id = source
            ON CONFLICT (tenant_id, year) DO UPDATE
            SET last = greatest(report_counter.last, excluded.last);
    END IF;
    UPDATE tenant SET status = 'merged', successor_id = target, updated_at = now()
        WHERE id = source;
    INSERT INTO tenant_merge_step (id, tenant_id, merge_key, source_id, step, counts,
            actor_user_id, done_at)
        VALUES (gen_random_uuid(), target, merge_key, source, 'moved', moved, actor, now());
    PERFORM set_config('app.merge_tenants', '', true), set_config('app.lifecycle', '', true);
    RETURN moved;
END
$$
"""

MERGE_SQL = [
    "ALTER TABLE tenant_merge_step ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE tenant_merge_step FORCE ROW LEVEL SECURITY",
    f"CREATE POLICY tenant_read ON tenant_merge_step FOR SELECT USING {VISIBLE}",
    f"CREATE POLICY tenant_insert ON tenant_merge_step FOR INSERT WITH CHECK {OWN}",
    "CREATE INDEX tenant_merge_step_key ON tenant_merge_step (tenant_id, merge_key)",
    "GRANT SELECT, INSERT ON tenant_merge_step TO paht_api",  # append-only, like report_event
    *(_owner_policy(t) for t in (*MOVED, *OWNER_ALSO)),
    MERGE_FUNCTION,
    "REVOKE ALL ON FUNCTION paht_merge_tenant(uuid, uuid, text, uuid) FROM PUBLIC",
    "GRANT EXECUTE ON FUNCTION paht_merge_tenant(uuid, uuid, text, uuid) TO paht_api",
]
MERGE_REVERSE_SQL = [
    "DROP FUNCTION IF EXISTS paht_merge_tenant(uuid, uuid, text, uuid)",
    *(f"DROP POLICY IF EXISTS lifecycle_merge ON {t}" for t in (*MOVED, *OWNER_ALSO)),
    "REVOKE ALL ON tenant_merge_step FROM paht_api",
]

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
    "citizen_profile", "citizen_code",
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
    dependencies = [('models', '0022_citizens')]

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
        ops.CreateModel(
            name='TenantMergeStep',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('merge_key', fields.CharField(max_length=200)),
                ('source_id', fields.UUIDField()),
                ('step', fields.CharField(max_length=20)),
                ('counts', fields.JSONField(null=True)),
                ('actor_user_id', fields.UUIDField(null=True)),
                ('done_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'tenant_merge_step', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One step of a tenant merge, done (the step log).'},
            bases=['Model'],
        ),
        ops.RunSQL(sql=MERGE_SQL, reverse_sql=MERGE_REVERSE_SQL),
    ]
