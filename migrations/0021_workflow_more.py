from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from core.ids import new_id

# Issue 12, the rest of the regulated process: the states LEADER_REVIEW (an officer's result
# awaits the agency leader's sign-off, a tenant option) and TRANSFERRED (a report moved to
# another locality or the province; this row stays behind read-only, pointing to the copy);
# where a report went or came from; the sign-off permission for the agency leaders of tenants
# onboarded before it existed. Frozen values as of this migration.

STATES = (
    "SUBMITTED", "NEED_INFO", "ASSIGNED", "RETURNED", "IN_PROGRESS", "LEADER_REVIEW",
    "RESULT_SUBMITTED", "RESOLVED", "REOPENED", "RATING_REVIEW", "CLOSED", "REJECTED",
    "DUPLICATE", "WITHDRAWN", "TRANSFERRED",
)  # fmt: skip
OLD_STATES = tuple(s for s in STATES if s not in ("LEADER_REVIEW", "TRANSFERRED"))


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


def _running_due(with_leader: bool) -> str:
    leader = "WHEN 'LEADER_REVIEW' THEN NEW.resolve_due_at" if with_leader else ""
    return f"""
    CREATE OR REPLACE FUNCTION report_running_due() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      NEW.due_at := CASE NEW.state
        WHEN 'SUBMITTED' THEN NEW.screen_due_at
        WHEN 'REOPENED' THEN NEW.screen_due_at
        WHEN 'ASSIGNED' THEN NEW.accept_due_at
        WHEN 'IN_PROGRESS' THEN NEW.resolve_due_at
        {leader}
        WHEN 'RESULT_SUBMITTED' THEN NEW.review_due_at
        ELSE NULL
      END;
      RETURN NEW;
    END $$
    """


FLOWS = (
    "received", "reopened", "finished_on_time", "finished_late", "resolved", "rejected",
    "duplicate", "withdrawn", "closed_unresolved", "stage_on_time", "stage_late", "rated",
    "rating_sum", "satisfied", "extension_requested", "extension_approved", "returned",
    "reworked",
)  # fmt: skip


def _flow_check(flows: tuple[str, ...]) -> list[str]:
    listed = ", ".join(f"'{f}'" for f in flows)
    return [
        "ALTER TABLE stats_day DROP CONSTRAINT stats_day_flow_check",
        f"ALTER TABLE stats_day ADD CONSTRAINT stats_day_flow_check CHECK (flow IN ({listed}))",
    ]


# casbin_rule is under FORCE row-level security: each tenant's rules are written with that
# tenant set, as the application would.
_GRANT_SIGN_OFF = """
DO $$
DECLARE t record;
BEGIN
  FOR t IN SELECT id FROM tenant LOOP
    PERFORM set_config('app.tenant_id', t.id::text, true);
    INSERT INTO casbin_rule (id, tenant_id, ptype, v0, v1, v2, v3, v4, v5)
      SELECT gen_random_uuid(), tenant_id, 'p', v0, v1, v2, v3, 'report:sign_off', v5
      FROM casbin_rule
      WHERE tenant_id = t.id AND ptype = 'p' AND v0 = 'agency_leader' AND v4 = 'report:accept'
      ON CONFLICT DO NOTHING;
  END LOOP;
  PERFORM set_config('app.tenant_id', '', true);
  UPDATE tenant SET policy_version = policy_version + 1;
END $$
"""
_REVOKE_SIGN_OFF = """
DO $$
DECLARE t record;
BEGIN
  FOR t IN SELECT id FROM tenant LOOP
    PERFORM set_config('app.tenant_id', t.id::text, true);
    DELETE FROM casbin_rule WHERE tenant_id = t.id AND ptype = 'p' AND v4 = 'report:sign_off';
  END LOOP;
  PERFORM set_config('app.tenant_id', '', true);
END $$
"""


class Migration(migrations.Migration):
    dependencies = [("models", "0020_stats_more")]

    initial = False

    operations = [
        ops.CreateModel(
            name='ProvinceCalendar',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('province_code', fields.CharField(max_length=8, unique=True)),
                ('days', fields.JSONField(default=dict)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'province_calendar', 'app': 'models', 'pk_attr': 'id', 'table_description': "The province's day swaps, inherited by its tenants."},
            bases=['Model'],
        ),
        # Shared like tenant: not tenant-owned (no tenant_id), written by provincial admins.
        ops.RunSQL(
            sql=["GRANT SELECT, INSERT, UPDATE ON province_calendar TO paht_api"],
            reverse_sql=["REVOKE ALL ON province_calendar FROM paht_api"],
        ),
        ops.AddField(
            model_name="Report",
            name="transferred_to_tenant_id",
            field=fields.UUIDField(null=True),
        ),
        ops.AddField(
            model_name="Report",
            name="transferred_to_code",
            field=fields.CharField(max_length=32, null=True),
        ),
        ops.AddField(
            model_name="Report",
            name="transferred_from_tenant_id",
            field=fields.UUIDField(null=True),
        ),
        ops.AddField(
            model_name="Report",
            name="transferred_from_code",
            field=fields.CharField(max_length=32, null=True),
        ),
        ops.AddField(
            model_name='Report',
            name='escalation',
            field=fields.CharField(max_length=16, null=True),
        ),
        ops.AddField(
            model_name='Report',
            name='escalated_at',
            field=fields.DatetimeField(null=True),
        ),
        ops.RunSQL(
            sql=[
                "ALTER TABLE report ADD CONSTRAINT report_escalation_check"
                " CHECK (escalation IS NULL OR escalation IN ('locality', 'province'))",
                # The escalation queue: open escalated reports of a tenant, oldest first.
                "CREATE INDEX report_escalated ON report (tenant_id, escalation, escalated_at)"
                " WHERE escalation IS NOT NULL",
                # Tenants are the shared registry: a pointer to one carries no other tenant's row.
                "ALTER TABLE report ADD CONSTRAINT report_transferred_to_fk FOREIGN KEY"
                " (transferred_to_tenant_id) REFERENCES tenant (id) ON DELETE RESTRICT",
                "ALTER TABLE report ADD CONSTRAINT report_transferred_from_fk FOREIGN KEY"
                " (transferred_from_tenant_id) REFERENCES tenant (id) ON DELETE RESTRICT",
                *_checks(STATES),
                _running_due(True),
                *_flow_check((*FLOWS, "transferred")),  # stats: a report sent elsewhere
                _GRANT_SIGN_OFF,
            ],
            reverse_sql=[
                _REVOKE_SIGN_OFF,
                *_flow_check(FLOWS),
                _running_due(False),
                *_checks(OLD_STATES),
                "ALTER TABLE report DROP CONSTRAINT IF EXISTS report_transferred_from_fk",
                "ALTER TABLE report DROP CONSTRAINT IF EXISTS report_transferred_to_fk",
                "DROP INDEX IF EXISTS report_escalated",
                "ALTER TABLE report DROP CONSTRAINT IF EXISTS report_escalation_check",
            ],
        ),
    ]
