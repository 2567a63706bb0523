from tortoise import migrations
from tortoise.migrations import operations as ops

# The media route looks a stored file up by its key (is it one of the public feed's photos?),
# within the key's tenant.

class Migration(migrations.Migration):
    dependencies = [('models', '0011_migration_record_readable')]

    initial = False

    operations = [
        ops.RunSQL(
            sql=[
                "CREATE INDEX attachment_storage_key ON attachment (tenant_id, storage_key)",
                "CREATE INDEX attachment_thumbnail_key ON attachment (tenant_id, thumbnail_key)"
                " WHERE thumbnail_key IS NOT NULL",
            ],
            reverse_sql=[
                "DROP INDEX IF EXISTS attachment_thumbnail_key",
                "DROP INDEX IF EXISTS attachment_storage_key",
            ],
        ),
    ]
