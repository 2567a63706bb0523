from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from core.ids import new_id

# Issue 10, item 4 (fast at scale): month roll-ups of the statistics tables, so that a whole
# month's figures (a tenant's, or every tenant's in the province's comparison) are a few hundred
# rows instead of the period's day rows and stage runs (stats/rollup.py reads them).
#
# - stats_month: each flow of stats_day summed over its local month (day = the month's first),
#   once per single slice column (by: 'total' — no column —, 'field', 'agency', 'unit',
#   'urgency', 'channel'; the other columns NULL); the balance 'open_at' is not a sum over days:
#   only the rows of a month's first day are kept (the balance at the month's boundary).
# - stats_stage_month: the runs of stats_stage_time of a local month, per stage and single slice
#   column as above: count, median and P90 of seconds (percentile_cont, as stats/queries.py
#   computes them from the runs).
#
# Kept by statement-level triggers on stats_day and stats_stage_time, in the writing
# transaction, whoever writes (the fold, a rebuild, a split, a merge): a roll-up is always the
# sum (or the percentiles) of the rows it rolls up. Derived, tenant-owned, FORCE RLS with the
# policies of stats_day, and the owner's lifecycle policy (migration 0023) through which the
# merge and split functions write stats_day.

TENANT = "(SELECT nullif(current_setting('app.tenant_id', true), '')::uuid)"
TENANTS = "(SELECT nullif(current_setting('app.tenant_ids', true), '')::uuid[])"
VISIBLE = f"(tenant_id = {TENANT} OR tenant_id = ANY (CAST({TENANTS} AS uuid[])))"
OWN = f"(tenant_id = {TENANT})"
MERGING = "(SELECT nullif(current_setting('app.merge_tenants', true), '')::uuid[])"
TABLES = ("stats_month", "stats_stage_month")
BYS = "('total', 'field', 'agency', 'unit', 'urgency', 'channel')"
SLICE = "field_id, agency_id, unit_code, urgency, channel"
MONTH_KEY = f"tenant_id, by, day, flow, detail, {SLICE}"
# Frozen: stats.indicators.MEDIAN and P90 as this migration was written.
MEDIAN, P90 = 0.5, 0.9


def _rls(table: str) -> list[str]:
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_read ON {table} FOR SELECT USING {VISIBLE}",
        f"CREATE POLICY tenant_insert ON {table} FOR INSERT WITH CHECK {OWN}",
        f"CREATE POLICY tenant_update ON {table} FOR UPDATE USING {OWN} WITH CHECK {OWN}",
        f"CREATE POLICY tenant_delete ON {table} FOR DELETE USING {OWN}",
        f"CREATE POLICY lifecycle_merge ON {table} FOR ALL TO CURRENT_USER "
        f"USING (tenant_id = ANY (CAST({MERGING} AS uuid[]))) "
        f"WITH CHECK (tenant_id = ANY (CAST({MERGING} AS uuid[])))",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO paht_api",
    ]


# One row per single slice column of a stats_day or stats_stage_time row `c`.
_EACH_COLUMN = """CROSS JOIN LATERAL (VALUES
        ('total', NULL::uuid, NULL::uuid, NULL::varchar, NULL::varchar, NULL::varchar),
        ('field', c.field_id, NULL, NULL, NULL, NULL),
        ('agency', NULL, c.agency_id, NULL, NULL, NULL),
        ('unit', NULL, NULL, c.unit_code, NULL, NULL),
        ('urgency', NULL, NULL, NULL, c.urgency, NULL),
        ('channel', NULL, NULL, NULL, NULL, c.channel)
    ) AS b(by, field_id, agency_id, unit_code, urgency, channel)"""

# The month sums of the signed stats_day rows of `changed` (columns: sign, then stats_day's).
_ADD_MONTHS = f"""
INSERT INTO stats_month AS m (id, {MONTH_KEY}, n)
SELECT gen_random_uuid(), c.tenant_id, b.by, c.month, c.flow, c.detail, b.field_id,
    b.agency_id, b.unit_code, b.urgency, b.channel, sum(c.sign * c.n)
FROM (SELECT x.*, CASE WHEN x.flow = 'open_at' THEN x.day
        ELSE date_trunc('month', x.day)::date END AS month
    FROM (%s) AS x
    WHERE x.n <> 0 AND (x.flow <> 'open_at' OR extract(day FROM x.day) = 1)) AS c
{_EACH_COLUMN}
GROUP BY 2, 3, 4, 5, 6, 7, 8, 9, 10, 11
HAVING sum(c.sign * c.n) <> 0
ON CONFLICT ({MONTH_KEY}) DO UPDATE SET n = m.n + EXCLUDED.n"""

_KEEP_MONTHS = f"""
CREATE FUNCTION paht_stats_month_keep() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
    EXECUTE format($q${_ADD_MONTHS}$q$, CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT 1 AS sign, * FROM new_rows'
        WHEN 'DELETE' THEN 'SELECT -1 AS sign, * FROM old_rows'
        ELSE 'SELECT 1 AS sign, * FROM new_rows UNION ALL SELECT -1, * FROM old_rows' END);
    DELETE FROM stats_month WHERE n = 0;
    RETURN NULL;
END $fn$"""

# The stage-time roll-ups of the (tenant, month) pairs `u(t, m)` of a relation, recomputed.
_STAGE_MONTHS = f"""
INSERT INTO stats_stage_month (id, tenant_id, by, day, stage, {SLICE}, runs, median, p90)
SELECT gen_random_uuid(), r.tenant_id,
    CASE WHEN grouping(r.field_id) = 0 THEN 'field' WHEN grouping(r.agency_id) = 0 THEN 'agency'
        WHEN grouping(r.unit_code) = 0 THEN 'unit' WHEN grouping(r.urgency) = 0 THEN 'urgency'
        WHEN grouping(r.channel) = 0 THEN 'channel' ELSE 'total' END,
    u.m, r.stage, r.field_id, r.agency_id, r.unit_code, r.urgency, r.channel, count(*),
    percentile_cont({MEDIAN}) WITHIN GROUP (ORDER BY r.seconds),
    percentile_cont({P90}) WITHIN GROUP (ORDER BY r.seconds)
FROM (%s) AS u(t, m)
JOIN stats_stage_time r ON r.tenant_id = u.t AND r.day >= u.m
    AND r.day < (u.m + interval '1 month')::date
GROUP BY GROUPING SETS ((r.tenant_id, u.m, r.stage), (r.tenant_id, u.m, r.stage, r.field_id),
    (r.tenant_id, u.m, r.stage, r.agency_id), (r.tenant_id, u.m, r.stage, r.unit_code),
    (r.tenant_id, u.m, r.stage, r.urgency), (r.tenant_id, u.m, r.stage, r.channel))"""

_KEEP_STAGE_MONTHS = f"""
CREATE FUNCTION paht_stats_stage_month_keep() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
    ts uuid[];
    ms date[];
BEGIN
    EXECUTE format('SELECT array_agg(t), array_agg(m) FROM (SELECT DISTINCT tenant_id AS t, '
        'date_trunc(''month'', day)::date AS m FROM (%s) AS x) AS y', CASE TG_OP
        WHEN 'INSERT' THEN 'SELECT tenant_id, day FROM new_rows'
        WHEN 'DELETE' THEN 'SELECT tenant_id, day FROM old_rows'
        ELSE 'SELECT tenant_id, day FROM new_rows UNION ALL SELECT tenant_id, day FROM old_rows'
        END) INTO ts, ms;
    IF ts IS NULL THEN
        RETURN NULL;
    END IF;
    DELETE FROM stats_stage_month s USING unnest(ts, ms) AS u(t, m)
        WHERE s.tenant_id = u.t AND s.day = u.m;
    {_STAGE_MONTHS % "SELECT * FROM unnest(ts, ms)"};
    RETURN NULL;
END $fn$"""


def _triggers(table: str, function: str) -> list[str]:
    return [
        f"CREATE TRIGGER {table}_rollup_{op.lower()} AFTER {op} ON {table} "
        f"REFERENCING {tables} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        for op, tables in (
            ("INSERT", "NEW TABLE AS new_rows"),
            ("UPDATE", "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
            ("DELETE", "OLD TABLE AS old_rows"),
        )
    ]


# What is already recorded, rolled up once. The owner is under FORCE RLS like everyone: its
# lifecycle policy (0023; 0028 for stats_day) admits the tenants named in app.merge_tenants for
# this transaction, so every tenant is named while the migration reads and writes.
_BACKFILL = [
    "SELECT set_config('app.merge_tenants', coalesce((SELECT array_agg(id) FROM tenant), "
    "'{}')::text, true)",
    _ADD_MONTHS % "SELECT 1 AS sign, * FROM stats_day",
    "DELETE FROM stats_month WHERE n = 0",
    _STAGE_MONTHS
    % "SELECT DISTINCT tenant_id, date_trunc('month', day)::date FROM stats_stage_time",
    "SELECT set_config('app.merge_tenants', '', true)",
]

SQL = [
    *(f"ALTER TABLE {t} ADD CONSTRAINT {t}_by_check CHECK (by IN {BYS})" for t in TABLES),
    f"CREATE UNIQUE INDEX stats_month_key ON stats_month ({MONTH_KEY}) NULLS NOT DISTINCT",
    "CREATE INDEX stats_month_zero ON stats_month (tenant_id) WHERE n = 0",
    f"CREATE UNIQUE INDEX stats_stage_month_key ON stats_stage_month (tenant_id, by, day, stage, "
    f"{SLICE}) NULLS NOT DISTINCT",
    *_rls("stats_month"),
    *_rls("stats_stage_month"),
    _KEEP_MONTHS,
    _KEEP_STAGE_MONTHS,
    *_triggers("stats_day", "paht_stats_month_keep"),
    *_triggers("stats_stage_time", "paht_stats_stage_month_keep"),
    *_BACKFILL,
]
REVERSE_SQL = [
    *(
        f"DROP TRIGGER IF EXISTS {t}_rollup_{op} ON {t}"
        for t in ("stats_day", "stats_stage_time")
        for op in ("insert", "update", "delete")
    ),
    "DROP FUNCTION IF EXISTS paht_stats_month_keep()",
    "DROP FUNCTION IF EXISTS paht_stats_stage_month_keep()",
    *(f"REVOKE ALL ON {t} FROM paht_api" for t in TABLES),
]


def _tenant():
    return (
        "tenant",
        fields.ForeignKeyField(
            "models.Tenant",
            source_field="tenant_id",
            db_constraint=True,
            to_field="id",
            related_name=False,
            on_delete=OnDelete.RESTRICT,
        ),
    )


def _slice():
    return [
        ("by", fields.CharField(max_length=16)),
        ("day", fields.DateField()),
        ("field_id", fields.UUIDField(null=True)),
        ("agency_id", fields.UUIDField(null=True)),
        ("unit_code", fields.CharField(null=True, max_length=10)),
        ("urgency", fields.CharField(null=True, max_length=16)),
        ("channel", fields.CharField(null=True, max_length=16)),
    ]


class Migration(migrations.Migration):
    dependencies = [("models", "0032_external_login_nonce")]

    initial = False

    operations = [
        ops.CreateModel(
            name="StatsMonth",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True),
                ),
                _tenant(),
                *_slice(),
                ("flow", fields.CharField(max_length=32)),
                ("detail", fields.CharField(default="", db_default="", max_length=64)),
                ("n", fields.BigIntField(default=0, db_default=0)),
            ],
            options={
                "table": "stats_month",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A flow of stats_day summed over a local month, per single slice column.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="StatsStageMonth",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True),
                ),
                _tenant(),
                *_slice(),
                ("stage", fields.CharField(max_length=16)),
                ("runs", fields.IntField()),
                ("median", fields.FloatField()),
                ("p90", fields.FloatField()),
            ],
            options={
                "table": "stats_stage_month",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A local month's stage runs per stage and single slice column: count, median, P90.",
            },
            bases=["Model"],
        ),
        ops.RunSQL(sql=SQL, reverse_sql=REVERSE_SQL),
    ]
