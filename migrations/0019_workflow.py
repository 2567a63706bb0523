from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

# Issue 12, the regulated process: the report state RATING_REVIEW (a rating of 1-2 waits for the
# centre instead of closing), frozen list of states as of this migration; the officer a report
# was handed to inside its agency (report.assignee_user_id, an account id like reporter_user_id).

STATES = (
    "SUBMITTED", "NEED_INFO", "ASSIGNED", "RETURNED", "IN_PROGRESS", "RESULT_SUBMITTED",
    "RESOLVED", "REOPENED", "RATING_REVIEW", "CLOSED", "REJECTED", "DUPLICATE", "WITHDRAWN",
)  # fmt: skip
OLD_STATES = tuple(s for s in STATES if s != "RATING_REVIEW")


def _checks(states: tuple[str, ...]) -> list[str]:
    listed = ", ".join(f"'{s}'" for s in states)
    checks = [
        ("report", "report_state_check", f"state IN ({listed})"),
        ("report_event", "report_event_to_state_check", f"to_state IN ({listed})"),
        (
            "report_event",
            "report_event_from_state_check",
            f"from_state IS NULL OR from_state IN ({listed})",
        ),
    ]
    return [
        sql
        for table, name, body in checks
        for sql in (
            f"ALTER TABLE {table} DROP CONSTRAINT {name}",
            f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({body})",
        )
    ]


class Migration(migrations.Migration):
    dependencies = [('models', '0015_media_keys')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Report',
            name='assignee_user_id',
            field=fields.UUIDField(null=True),
        ),
        ops.RunSQL(
            sql=[
                "ALTER TABLE report ADD CONSTRAINT report_assignee_fk FOREIGN KEY"
                " (assignee_user_id) REFERENCES app_user (id) ON DELETE RESTRICT",
                "CREATE INDEX report_assignee ON report (tenant_id, assignee_user_id)"
                " WHERE assignee_user_id IS NOT NULL",
            ],
            reverse_sql=[
                "DROP INDEX IF EXISTS report_assignee",
                "ALTER TABLE report DROP CONSTRAINT IF EXISTS report_assignee_fk",
            ],
        ),
        ops.RunSQL(
            sql=_checks(STATES),
            reverse_sql=_checks(OLD_STATES),
        ),
    ]
