from tortoise import migrations
from tortoise.migrations import operations as ops

# `paht serve` refuses to start while migrations are pending (api/startup.py), and it connects
# only as the application role: that role may read which migrations were applied, nothing more.
# tortoise creates tortoise_migrations before the first migration runs, so it exists here.

class Migration(migrations.Migration):
    dependencies = [('models', '0010_reporter_view')]

    initial = False

    operations = [
        ops.RunSQL(
            sql=["GRANT SELECT ON tortoise_migrations TO paht_api"],
            reverse_sql=["REVOKE SELECT ON tortoise_migrations FROM paht_api"],
        ),
    ]
