from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.contrib.postgres.fields import ArrayField

# Issue 15, localities change. Frozen values as of this migration:
# - administrative_unit.successor_codes: the units that took a unit over the day after its
#   valid_to (merge, split, rename);
# - tenant statuses, with 'archived' (data kept, read-only, hidden from the public feed).

STATUSES = ("active", "suspended", "merged", "archived")
OLD_STATUSES = ("active", "suspended", "merged")


def _status_check(statuses: tuple[str, ...]) -> list[str]:
    listed = ", ".join(f"'{s}'" for s in statuses)
    return [
        "ALTER TABLE tenant DROP CONSTRAINT tenant_status_check",
        f"ALTER TABLE tenant ADD CONSTRAINT tenant_status_check CHECK (status IN ({listed}))",
    ]


class Migration(migrations.Migration):
    dependencies = [('models', '0019_workflow')]

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
    ]
