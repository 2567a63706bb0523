from tortoise import fields, migrations
from tortoise.migrations import operations as ops

# Evaluation exports (stats/exports.py): a built file is kept a week, then removed and its row
# marked 'expired'; 'taken_at' records when a run began, so that a run whose process died (the
# row left 'running') is taken again after an hour instead of staying 'running' for ever.

STATES = "'pending', 'running', 'done', 'failed'"


def _state_check(states: str) -> list[str]:
    return [
        "ALTER TABLE stats_export DROP CONSTRAINT stats_export_state_check",
        f"ALTER TABLE stats_export ADD CONSTRAINT stats_export_state_check CHECK (state IN "
        f"({states}))",
    ]


class Migration(migrations.Migration):
    dependencies = [("models", "0024_stats_open_at")]

    initial = False

    operations = [
        ops.AddField(
            model_name="StatsExport", name="taken_at", field=fields.DatetimeField(null=True)
        ),
        ops.RunSQL(
            sql=[
                *_state_check(f"{STATES}, 'expired'"),
                "CREATE INDEX stats_export_kept ON stats_export (tenant_id, finished_at) "
                "WHERE state = 'done'",
            ],
            reverse_sql=[
                "DROP INDEX IF EXISTS stats_export_kept",
                "UPDATE stats_export SET state = 'failed' WHERE state = 'expired'",
                *_state_check(STATES),
            ],
        ),
    ]
