from tortoise import migrations
from tortoise.migrations import operations as ops

# Issue 15: a merge joins the sources' fields to the target's field of the same code. Until now
# (migration 0023) a field code the target already used was prefixed with the source's code
# (`sa-pa-du-lich`): one classification became two, so the target's statistics by field split
# every shared field in two, and the source's role narrowings named ids of fields that the
# target's own staff never saw. Fields are a classification, shared by code (as the split of
# migration 0028 already maps them); agencies are bodies of one locality and keep the prefix.
#
# paht_merge_tenant is redefined with the same signature, privileges and owner policies: a
# source field whose code the target has is not moved; every row that names it (reports,
# memberships, grant rules, notifications, event data, stage-time runs, the source's own daily
# aggregates) names the target's field instead, in the same one moving statement; the source's
# field row is then removed. Frozen as of this migration.

MOVED = (
    "agency", "field", "membership", "role", "casbin_rule",
    "report", "report_event", "reporter_contact", "attachment", "extension_request",
    "info_request", "notification", "notification_read", "reporter_identity_view",
    "stats_report", "stats_dirty", "stats_stage_time", "webhook_endpoint", "outbox_message",
    "open311_client", "citizen_profile", "citizen_code",
)  # fmt: skip

# Tables whose field_id follows the mapping (the report's is NOT NULL; the others may be null).
FIELD_NAMED = ("report", "membership", "notification", "stats_report", "stats_stage_time")
FIELD_OF = "coalesce((fmap->>field_id::text)::uuid, field_id)"


def _set(table: str) -> str:
    sets = ["tenant_id = target"]
    if table in FIELD_NAMED:
        sets.append(f"field_id = {FIELD_OF}")
    if table == "report_event":
        sets.append("data = CASE WHEN fmap = '{}' THEN data ELSE paht_split_remap(data, fmap) END")
    return ", ".join(sets)


def _moves() -> str:
    parts = []
    for t in MOVED:
        if t == "casbin_rule":
            continue
        only = " AND NOT fmap ? id::text" if t == "field" else ""
        parts.append(
            f"m_{t} AS (UPDATE {t} SET {_set(t)} WHERE tenant_id = source{only} RETURNING 1)"
        )
    parts.append(
        "m_casbin_rule AS (UPDATE casbin_rule SET tenant_id = target,"
        " v1 = CASE WHEN ptype = 'p' AND v1 = source::text THEN target::text ELSE v1 END,"
        " v2 = CASE WHEN ptype = 'g' AND v2 = source::text THEN target::text ELSE v2 END,"
        " v4 = CASE WHEN ptype = 'g' AND fmap ? v4 THEN fmap->>v4 ELSE v4 END"
        " WHERE tenant_id = source RETURNING 1)"
    )
    counts = ", ".join(f"'{t}', (SELECT count(*) FROM m_{t})" for t in MOVED)
    return "WITH " + ", ".join(parts) + f" SELECT jsonb_build_object({counts}) INTO moved"


MERGE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION paht_merge_tenant(source uuid, target uuid, merge_key text,
    actor uuid)
RETURNS jsonb LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    src tenant%ROWTYPE;
    tgt tenant%ROWTYPE;
    moved jsonb;
    fmap jsonb;
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
    -- agency codes the target already uses are prefixed with the source's code
    UPDATE agency SET code = left(src.code || '-' || code, 40) WHERE tenant_id = source
        AND code IN (SELECT code FROM agency WHERE tenant_id = target);
    -- a field the target has (by code) is the target's: source id -> target id
    SELECT coalesce(jsonb_object_agg(s.id::text, t.id::text), '{{}}') INTO fmap
        FROM field s JOIN field t ON t.tenant_id = target AND t.code = s.code
        WHERE s.tenant_id = source;
    -- a joined field stays behind until it is removed: it must not hold a moving agency
    UPDATE field SET default_agency_id = NULL WHERE tenant_id = source AND fmap ? id::text;
    -- what the target already holds is not moved twice
    DELETE FROM role r WHERE r.tenant_id = source
        AND EXISTS (SELECT 1 FROM role t WHERE t.tenant_id = target AND t.code = r.code);
    DELETE FROM membership m WHERE m.tenant_id = source AND EXISTS (SELECT 1 FROM membership t
        WHERE t.tenant_id = target AND t.user_id = m.user_id AND t.role = m.role
        AND t.agency_id IS NOT DISTINCT FROM m.agency_id
        AND t.field_id IS NOT DISTINCT FROM coalesce((fmap->>m.field_id::text)::uuid,
            m.field_id));
    DELETE FROM citizen_profile p WHERE p.tenant_id = source AND EXISTS (SELECT 1
        FROM citizen_profile t WHERE t.tenant_id = target AND t.user_id = p.user_id);
    DELETE FROM casbin_rule c WHERE c.tenant_id = source AND EXISTS (SELECT 1 FROM casbin_rule t
        WHERE t.tenant_id = target AND t.ptype = c.ptype AND t.v0 IS NOT DISTINCT FROM c.v0
        AND t.v1 IS NOT DISTINCT FROM (CASE WHEN c.ptype = 'p' AND c.v1 = source::text
            THEN target::text ELSE c.v1 END)
        AND t.v2 IS NOT DISTINCT FROM (CASE WHEN c.ptype = 'g' AND c.v2 = source::text
            THEN target::text ELSE c.v2 END)
        AND t.v3 IS NOT DISTINCT FROM c.v3
        AND t.v4 IS NOT DISTINCT FROM (CASE WHEN c.ptype = 'g' AND fmap ? c.v4
            THEN fmap->>c.v4 ELSE c.v4 END)
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
    -- the joined fields: nothing names them any more; the source's own figures name the
    -- target's field of the same code
    DELETE FROM field WHERE tenant_id = source;
    UPDATE stats_day SET field_id = (fmap->>field_id::text)::uuid
        WHERE tenant_id = source AND fmap ? field_id::text;
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
        VALUES (gen_random_uuid(), target, merge_key, source, 'moved',
            moved || jsonb_build_object('field_joined',
                (SELECT count(*) FROM jsonb_object_keys(fmap))), actor, now());
    PERFORM set_config('app.merge_tenants', '', true), set_config('app.lifecycle', '', true);
    RETURN moved;
END
$$
"""


class Migration(migrations.Migration):
    dependencies = [("models", "0028_split_tenant")]

    initial = False

    # The reverse leaves the function as it is: 0023's reverse drops it.
    operations = [ops.RunSQL(sql=[MERGE_FUNCTION], reverse_sql=[])]
