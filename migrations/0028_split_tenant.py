from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from core.ids import new_id

# Issue 15, item 2: splitting a tenant by administrative units (tenants/split.py). Frozen as of
# this migration:
# - report_forward: in the tenant a report left, where it went (its code and tracking code keep
#   resolving there); append-only for the application role, like tenant_merge_step;
# - paht_split_tenant(source, target, report_ids, units, split_key, actor), SECURITY DEFINER like
#   paht_merge_tenant (migration 0023) and through the same owner-only policies
#   (lifecycle_merge, admitting just the two tenants named in app.merge_tenants), with two more:
#   on stats_day (the source's aggregates give back what the moved reports contributed) and on
#   report_forward. Row-level security of the application role is unchanged. Both tenants stay
#   active: the read-only guard is not lifted.

TENANT = "(SELECT nullif(current_setting('app.tenant_id', true), '')::uuid)"
TENANTS = "(SELECT nullif(current_setting('app.tenant_ids', true), '')::uuid[])"
VISIBLE = f"(tenant_id = {TENANT} OR tenant_id = ANY (CAST({TENANTS} AS uuid[])))"
OWN = f"(tenant_id = {TENANT})"
MERGING = "(SELECT nullif(current_setting('app.merge_tenants', true), '')::uuid[])"

# The tables that gain the owner's lifecycle policy here (the others have it since 0023).
OWNER_POLICY = ("stats_day", "report_forward")

# Rows that belong to a report and move with it, each a CTE of the one moving statement.
_BY_REPORT = ("reporter_contact", "attachment", "extension_request", "info_request",
              "reporter_identity_view")  # fmt: skip


def _moves() -> str:
    agency = "CASE WHEN {c} IS NULL THEN NULL ELSE (amap->>{c}::text)::uuid END"
    parts = [
        "m_report AS (UPDATE report SET tenant_id = target,"
        " field_id = (fmap->>field_id::text)::uuid,"
        f" lead_agency_id = {agency.format(c='lead_agency_id')},"
        " coordinating_agency_ids = CASE WHEN coordinating_agency_ids IS NULL THEN NULL ELSE"
        " ARRAY(SELECT (amap->>x::text)::uuid FROM unnest(coordinating_agency_ids)"
        " WITH ORDINALITY AS u(x, i) ORDER BY i) END"
        " WHERE tenant_id = source AND id = ANY (moving) RETURNING 1)",
        "m_report_event AS (UPDATE report_event SET tenant_id = target,"
        f" actor_agency_id = {agency.format(c='actor_agency_id')},"
        " data = paht_split_remap(data, amap || fmap)"
        " WHERE tenant_id = source AND report_id = ANY (moving) RETURNING 1)",
        *(
            f"m_{t} AS (UPDATE {t} SET tenant_id = target"
            f" WHERE tenant_id = source AND report_id = ANY (moving) RETURNING 1)"
            for t in _BY_REPORT
        ),
        "m_notification AS (UPDATE notification SET tenant_id = target,"
        f" agency_id = {agency.format(c='agency_id')},"
        " field_id = CASE WHEN field_id IS NULL THEN NULL ELSE (fmap->>field_id::text)::uuid END"
        " WHERE tenant_id = source AND report_id = ANY (moving) RETURNING 1)",
        "m_notification_read AS (UPDATE notification_read SET tenant_id = target"
        " WHERE tenant_id = source AND notification_id IN (SELECT id FROM notification"
        " WHERE tenant_id = source AND report_id = ANY (moving)) RETURNING 1)",
    ]
    tables = ("report", "report_event", *_BY_REPORT, "notification", "notification_read")
    counts = ", ".join(f"'{t}', (SELECT count(*) FROM m_{t})" for t in tables)
    return "WITH " + ", ".join(parts) + f" SELECT jsonb_build_object({counts}) INTO moved"


# Ids of agencies and fields inside an event's data (a reassignment names the agency) follow the
# same mapping: UUIDs are unique strings, so replacing them in the text is exact.
REMAP_FUNCTION = """
CREATE FUNCTION paht_split_remap(doc jsonb, ids jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
DECLARE
    t text;
    k text;
BEGIN
    IF doc IS NULL THEN RETURN NULL; END IF;
    t := doc::text;
    FOR k IN SELECT jsonb_object_keys(ids) LOOP
        IF strpos(t, k) > 0 THEN t := replace(t, k, ids->>k); END IF;
    END LOOP;
    RETURN t::jsonb;
END
$$
"""

SPLIT_FUNCTION = f"""
CREATE FUNCTION paht_split_tenant(source uuid, target uuid, report_ids uuid[], units text[],
    split_key text, actor uuid)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    src tenant%ROWTYPE;
    tgt tenant%ROWTYPE;
    moving uuid[];
    need_fields uuid[];
    need_agencies uuid[];
    amap jsonb;
    fmap jsonb;
    moved jsonb;
    n_agency int;
    n_field int;
    n_forward int;
    n_stats int;
    n_stage int;
    n_units int;
BEGIN
    report_ids := coalesce(report_ids, '{{}}');
    units := coalesce(units, '{{}}');
    PERFORM 1 FROM tenant WHERE id IN (source, target) ORDER BY id FOR UPDATE;
    SELECT * INTO src FROM tenant WHERE id = source;
    SELECT * INTO tgt FROM tenant WHERE id = target;
    IF src.id IS NULL OR tgt.id IS NULL OR source = target THEN
        RAISE EXCEPTION 'split % into %: unknown or same tenant', source, target
            USING ERRCODE = 'PT404';
    END IF;
    IF src.status <> 'active' OR tgt.status <> 'active' THEN
        RAISE EXCEPTION 'split % into %: both tenants must be active', source, target
            USING ERRCODE = 'PT409';
    END IF;
    PERFORM set_config('app.merge_tenants', '{{' || source || ',' || target || '}}', true);
    -- only what is still in the source: a rerun moves nothing twice
    moving := ARRAY(SELECT id FROM report WHERE tenant_id = source AND id = ANY (report_ids));

    -- the fields and agencies the moving rows name, mapped by code to the target's
    need_fields := ARRAY(SELECT f.id FROM field f WHERE f.tenant_id = source AND (
        EXISTS (SELECT 1 FROM report r WHERE r.tenant_id = source AND r.id = ANY (moving)
            AND r.field_id = f.id)
        OR EXISTS (SELECT 1 FROM notification n WHERE n.tenant_id = source
            AND n.report_id = ANY (moving) AND n.field_id = f.id)
        OR EXISTS (SELECT 1 FROM report_event e WHERE e.tenant_id = source
            AND e.report_id = ANY (moving) AND strpos(e.data::text, f.id::text) > 0)));
    need_agencies := ARRAY(SELECT a.id FROM agency a WHERE a.tenant_id = source AND (
        EXISTS (SELECT 1 FROM report r WHERE r.tenant_id = source AND r.id = ANY (moving)
            AND (r.lead_agency_id = a.id OR a.id = ANY (r.coordinating_agency_ids)))
        OR EXISTS (SELECT 1 FROM report_event e WHERE e.tenant_id = source
            AND e.report_id = ANY (moving)
            AND (e.actor_agency_id = a.id OR strpos(e.data::text, a.id::text) > 0))
        OR EXISTS (SELECT 1 FROM notification n WHERE n.tenant_id = source
            AND n.report_id = ANY (moving) AND n.agency_id = a.id)
        -- the default agency of a field the target gets as a copy
        OR EXISTS (SELECT 1 FROM field f WHERE f.tenant_id = source AND f.id = ANY (need_fields)
            AND f.default_agency_id = a.id
            AND NOT EXISTS (SELECT 1 FROM field t WHERE t.tenant_id = target
                AND t.code = f.code))));
    SELECT coalesce(jsonb_object_agg(a.id::text, coalesce(t.id, gen_random_uuid())), '{{}}')
        INTO amap FROM agency a LEFT JOIN agency t ON t.tenant_id = target AND t.code = a.code
        WHERE a.tenant_id = source AND a.id = ANY (need_agencies);
    SELECT coalesce(jsonb_object_agg(f.id::text, coalesce(t.id, gen_random_uuid())), '{{}}')
        INTO fmap FROM field f LEFT JOIN field t ON t.tenant_id = target AND t.code = f.code
        WHERE f.tenant_id = source AND f.id = ANY (need_fields);
    -- what the target lacks is copied, under the same code (so none collides)
    INSERT INTO agency (id, tenant_id, code, name_vi, name_en, kind, is_coordination_centre,
            active, valid_from, valid_to, created_at, updated_at)
        SELECT (amap->>a.id::text)::uuid, target, a.code, a.name_vi, a.name_en, a.kind,
            a.is_coordination_centre AND NOT EXISTS (SELECT 1 FROM agency c
                WHERE c.tenant_id = target AND c.is_coordination_centre),
            a.active, a.valid_from, a.valid_to, now(), now()
        FROM agency a WHERE a.tenant_id = source AND a.id = ANY (need_agencies)
        AND NOT EXISTS (SELECT 1 FROM agency t WHERE t.tenant_id = target AND t.code = a.code);
    GET DIAGNOSTICS n_agency = ROW_COUNT;
    INSERT INTO field (id, tenant_id, code, name_vi, name_en, active, default_agency_id,
            sensitive, quick_fix, sort_order, questions, created_at, updated_at)
        SELECT (fmap->>f.id::text)::uuid, target, f.code, f.name_vi, f.name_en, f.active,
            CASE WHEN f.default_agency_id IS NULL THEN NULL
                ELSE (amap->>f.default_agency_id::text)::uuid END,
            f.sensitive, f.quick_fix, f.sort_order, f.questions, now(), now()
        FROM field f WHERE f.tenant_id = source AND f.id = ANY (need_fields)
        AND NOT EXISTS (SELECT 1 FROM field t WHERE t.tenant_id = target AND t.code = f.code);
    GET DIAGNOSTICS n_field = ROW_COUNT;

    -- the old codes keep resolving in the source; a forward the target held for one of them
    -- (it came from there before) is dropped, or the two would point at each other
    DELETE FROM report_forward WHERE tenant_id = target AND code IN
        (SELECT code FROM report WHERE tenant_id = source AND id = ANY (moving));
    INSERT INTO report_forward (id, tenant_id, code, tracking_code, report_id, target_tenant_id,
            split_key, moved_at)
        SELECT gen_random_uuid(), source, code, tracking_code, id, target, split_key, now()
        FROM report WHERE tenant_id = source AND id = ANY (moving)
        ON CONFLICT (tenant_id, code) DO UPDATE SET tracking_code = excluded.tracking_code,
            report_id = excluded.report_id, target_tenant_id = excluded.target_tenant_id,
            split_key = excluded.split_key, moved_at = excluded.moved_at;
    GET DIAGNOSTICS n_forward = ROW_COUNT;
    -- a report transferred between the two lives on as its copy (reports/transfer.py): the
    -- record left behind gives up the tracking code the copy carries
    UPDATE report s SET tracking_code = NULL WHERE s.tenant_id = source AND s.id = ANY (moving)
        AND s.tracking_code IS NOT NULL AND EXISTS (SELECT 1 FROM report c
            WHERE c.tenant_id = target AND c.tracking_code = s.tracking_code);

    -- statistics: the source's aggregates give back what the moved reports contributed (the
    -- flows their stats_report rows recorded); the target folds them afresh, on its calendar,
    -- at its next statistics pass (stats_dirty)
    UPDATE stats_day d SET n = d.n - x.n FROM (
        SELECT r.field_id, r.agency_id, r.unit_code, r.urgency, r.channel,
            (f->>0)::date AS day, f->>1 AS flow, f->>2 AS detail, sum((f->>3)::bigint) AS n
        FROM stats_report r, jsonb_array_elements(r.flows) f
        WHERE r.tenant_id = source AND r.id = ANY (moving)
        GROUP BY 1, 2, 3, 4, 5, 6, 7, 8) x
    WHERE d.tenant_id = source AND d.day = x.day AND d.field_id = x.field_id
        AND d.agency_id IS NOT DISTINCT FROM x.agency_id
        AND d.unit_code IS NOT DISTINCT FROM x.unit_code AND d.urgency = x.urgency
        AND d.channel = x.channel AND d.flow = x.flow AND d.detail = x.detail;
    DELETE FROM stats_day WHERE tenant_id = source AND n = 0;
    DELETE FROM stats_stage_time WHERE tenant_id = source AND report_id = ANY (moving);
    GET DIAGNOSTICS n_stage = ROW_COUNT;
    DELETE FROM stats_report WHERE tenant_id = source AND id = ANY (moving);
    GET DIAGNOSTICS n_stats = ROW_COUNT;
    DELETE FROM stats_dirty WHERE tenant_id = source AND id = ANY (moving);

    -- one statement: composite foreign keys are checked once every table has moved
    {_moves()};

    INSERT INTO stats_dirty (id, tenant_id) SELECT id, target FROM unnest(moving) AS id
        ON CONFLICT (id) DO NOTHING;
    DELETE FROM report_count WHERE tenant_id IN (source, target);
    INSERT INTO report_count (tenant_id, field_id, agency_id, state, n)
        SELECT tenant_id, field_id, lead_agency_id, state, count(*) FROM report
        WHERE tenant_id IN (source, target) GROUP BY tenant_id, field_id, lead_agency_id, state;
    IF src.report_prefix = tgt.report_prefix THEN
        -- the moved codes carry the target's prefix: its next codes must come after them
        INSERT INTO report_counter (id, tenant_id, year, last)
            SELECT gen_random_uuid(), target, year, last FROM report_counter
            WHERE tenant_id = source
            ON CONFLICT (tenant_id, year) DO UPDATE
            SET last = greatest(report_counter.last, excluded.last);
    END IF;
    -- the units' scope goes with them: the source's codes among them leave it, the target
    -- lists them all (a unit asked for by its new code, the source listing its predecessors)
    n_units := cardinality(ARRAY(SELECT unnest(src.unit_codes) INTERSECT SELECT unnest(units)));
    IF n_units > 0 OR NOT (units <@ coalesce(tgt.unit_codes, '{{}}')) THEN
        UPDATE tenant SET unit_codes = ARRAY(SELECT c FROM unnest(src.unit_codes) AS c
            WHERE NOT c = ANY (units)), updated_at = now() WHERE id = source;
        UPDATE tenant SET unit_codes = ARRAY(SELECT DISTINCT c FROM unnest(
            coalesce(tgt.unit_codes, '{{}}') || units) AS c ORDER BY c), updated_at = now()
            WHERE id = target;
    END IF;
    moved := moved || jsonb_build_object('agency', n_agency, 'field', n_field,
        'report_forward', n_forward, 'stats_report', n_stats, 'stats_stage_time', n_stage,
        'stats_dirty', cardinality(moving), 'unit', n_units);
    IF cardinality(moving) > 0 OR n_units > 0 OR NOT (units <@ coalesce(tgt.unit_codes, '{{}}'))
    THEN
        INSERT INTO tenant_merge_step (id, tenant_id, merge_key, source_id, step, counts,
                actor_user_id, done_at)
            VALUES (gen_random_uuid(), target, split_key, source, 'split', moved, actor, now());
    END IF;
    PERFORM set_config('app.merge_tenants', '', true);
    RETURN moved;
END
$$
"""

SIGNATURE = "paht_split_tenant(uuid, uuid, uuid[], text[], text, uuid)"

SQL = [
    "ALTER TABLE report_forward ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE report_forward FORCE ROW LEVEL SECURITY",
    f"CREATE POLICY tenant_read ON report_forward FOR SELECT USING {VISIBLE}",
    f"CREATE POLICY tenant_insert ON report_forward FOR INSERT WITH CHECK {OWN}",
    "CREATE INDEX report_forward_tracking ON report_forward (tenant_id, tracking_code)",
    "GRANT SELECT, INSERT ON report_forward TO paht_api",  # append-only, like tenant_merge_step
    "CREATE TRIGGER tenant_writable BEFORE INSERT OR UPDATE OR DELETE ON report_forward "
    "FOR EACH ROW EXECUTE FUNCTION paht_tenant_writable()",
    *(
        f"CREATE POLICY lifecycle_merge ON {t} FOR ALL TO CURRENT_USER "
        f"USING (tenant_id = ANY (CAST({MERGING} AS uuid[]))) "
        f"WITH CHECK (tenant_id = ANY (CAST({MERGING} AS uuid[])))"
        for t in OWNER_POLICY
    ),
    REMAP_FUNCTION,
    SPLIT_FUNCTION,
    f"REVOKE ALL ON FUNCTION {SIGNATURE} FROM PUBLIC",
    f"GRANT EXECUTE ON FUNCTION {SIGNATURE} TO paht_api",
]
REVERSE_SQL = [
    f"DROP FUNCTION IF EXISTS {SIGNATURE}",
    "DROP FUNCTION IF EXISTS paht_split_remap(jsonb, jsonb)",
    *(f"DROP POLICY IF EXISTS lifecycle_merge ON {t}" for t in OWNER_POLICY),
    "REVOKE ALL ON report_forward FROM paht_api",
]


class Migration(migrations.Migration):
    dependencies = [("models", "0027_rehome_accounts")]

    initial = False

    operations = [
        ops.CreateModel(
            name="ReportForward",
            fields=[
                ("id", fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ("tenant", fields.ForeignKeyField("models.Tenant", source_field="tenant_id", db_constraint=True, to_field="id", related_name=False, on_delete=OnDelete.RESTRICT)),
                ("code", fields.CharField(max_length=32)),
                ("tracking_code", fields.CharField(max_length=32, null=True)),
                ("report_id", fields.UUIDField()),
                ("target_tenant", fields.ForeignKeyField("models.Tenant", source_field="target_tenant_id", db_constraint=True, to_field="id", related_name=False, on_delete=OnDelete.RESTRICT)),
                ("split_key", fields.CharField(max_length=200)),
                ("moved_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={"table": "report_forward", "app": "models", "pk_attr": "id", "unique_together": (("tenant", "code"),), "table_description": "Where a report that left this tenant in a split now lives."},
            bases=["Model"],
        ),
        ops.RunSQL(sql=SQL, reverse_sql=REVERSE_SQL),
    ]
