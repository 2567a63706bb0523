from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Balances at midnight (stats/): the fold keeps each report's standing just before every local
# midnight it was open over as the flow 'open_at' of stats_day, so a period's carried-over and
# open-at-end figures are one indexed read of its two boundary days instead of the spans of
# every report open during it. stats_report.folded_on: the local day a report was last folded
# (a report still open is folded again each new day). Every report is marked so that the next
# pass folds it again.

FLOWS = (
    "received", "reopened", "finished_on_time", "finished_late", "resolved", "rejected",
    "duplicate", "withdrawn", "closed_unresolved", "stage_on_time", "stage_late", "rated",
    "rating_sum", "satisfied", "extension_requested", "extension_approved", "returned",
    "reworked", "transferred",
)  # fmt: skip


def _flow_check(flows: tuple[str, ...]) -> list[str]:
    listed = ", ".join(f"'{f}'" for f in flows)
    return [
        "ALTER TABLE stats_day DROP CONSTRAINT stats_day_flow_check",
        f"ALTER TABLE stats_day ADD CONSTRAINT stats_day_flow_check CHECK (flow IN ({listed}))",
    ]


class Migration(migrations.Migration):
    dependencies = [("models", "0023_lifecycle")]

    initial = False

    operations = [
        ops.AddField(
            model_name="StatsReport", name="folded_on", field=fields.DateField(null=True)
        ),
        ops.RunSQL(
            sql=[
                *_flow_check((*FLOWS, "open_at")),
                "CREATE INDEX stats_day_balance ON stats_day (tenant_id, day) "
                "WHERE flow = 'open_at'",
                "CREATE INDEX stats_report_still_open ON stats_report (tenant_id) "
                "WHERE upper_inf(open_during)",
                "INSERT INTO stats_dirty (id, tenant_id) SELECT id, tenant_id FROM report "
                "ON CONFLICT (id) DO NOTHING",
            ],
            reverse_sql=[
                "DELETE FROM stats_day WHERE flow = 'open_at'",
                "DROP INDEX IF EXISTS stats_report_still_open",
                "DROP INDEX IF EXISTS stats_day_balance",
                *_flow_check(FLOWS),
            ],
        ),
    ]
