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
REPORTER_KINDS = ("person", "organisation", "business")
CHANNELS = ("app", "web", "hotline", "zalo", "open311", "email", "walk_in")


def _in(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{v}'" for v in values)


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
    dependencies = [('models', '0018_open311')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Report',
            name='reporter_kind',
            field=fields.CharField(max_length=16, default='person', db_default='person'),
        ),
        ops.AddField(
            model_name='Report',
            name='channel',
            field=fields.CharField(max_length=16, default='app', db_default='app'),
        ),
        ops.RunSQL(
            sql=[
                # Reports entered for a hotline caller so far came by the hotline.
                "UPDATE report SET channel = 'hotline' WHERE reporter_user_id IS NULL AND id IN"
                " (SELECT report_id FROM report_event e WHERE e.action = 'SUBMIT'"
                " AND e.actor_user_id IS NOT NULL)",
                "ALTER TABLE report ADD CONSTRAINT report_reporter_kind_check"
                f" CHECK (reporter_kind IN ({_in(REPORTER_KINDS)}))",
                f"ALTER TABLE report ADD CONSTRAINT report_channel_check CHECK (channel IN ({_in(CHANNELS)}))",
                "CREATE INDEX report_channel ON report (tenant_id, channel, created_at DESC)",
            ],
            reverse_sql=[
                "DROP INDEX IF EXISTS report_channel",
                "ALTER TABLE report DROP CONSTRAINT IF EXISTS report_channel_check",
                "ALTER TABLE report DROP CONSTRAINT IF EXISTS report_reporter_kind_check",
            ],
        ),
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
