from tortoise import migrations
from tortoise.migrations import operations as ops

# Every history event is announced on commit (NOTIFY is transactional), so subscriptions in any
# API process learn of it. The payload names only ids: listeners load what the subscriber may see
# in a tenant-scoped transaction of their own.
SQL = [
    """
    CREATE FUNCTION report_event_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('paht_report_event',
                        NEW.tenant_id::text || ':' || NEW.report_id::text || ':' || NEW.id::text);
      RETURN NULL;
    END $$
    """,
    "CREATE TRIGGER report_event_notify AFTER INSERT ON report_event "
    "FOR EACH ROW EXECUTE FUNCTION report_event_notify()",
]

REVERSE_SQL = [
    "DROP TRIGGER IF EXISTS report_event_notify ON report_event",
    "DROP FUNCTION IF EXISTS report_event_notify()",
]


class Migration(migrations.Migration):
    dependencies = [('models', '0004_report_due_and_counts')]

    initial = False

    operations = [
        ops.RunSQL(SQL, reverse_sql=REVERSE_SQL),
    ]
