from tortoise import migrations
from tortoise.migrations import operations as ops
from core.ids import new_id
from tortoise.fields.base import OnDelete
from tortoise import fields

# Open311 client applications and their hashed api keys: tenant-owned, FORCE RLS.
TENANT = "(SELECT nullif(current_setting('app.tenant_id', true), '')::uuid)"
OWN = f"(tenant_id = {TENANT})"

SQL = [
    "ALTER TABLE open311_client ENABLE ROW LEVEL SECURITY",
    "ALTER TABLE open311_client FORCE ROW LEVEL SECURITY",
    # Key hashes and contacts stay inside their tenant, even on the provincial read path.
    f"CREATE POLICY tenant_read ON open311_client FOR SELECT USING {OWN}",
    f"CREATE POLICY tenant_insert ON open311_client FOR INSERT WITH CHECK {OWN}",
    f"CREATE POLICY tenant_update ON open311_client FOR UPDATE USING {OWN} WITH CHECK {OWN}",
    # Clients are revoked, never deleted: no DELETE grant.
    "GRANT SELECT, INSERT, UPDATE ON open311_client TO paht_api",
]
REVERSE_SQL = ["REVOKE ALL ON open311_client FROM paht_api"]


class Migration(migrations.Migration):
    dependencies = [('models', '0017_outbox')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Open311Client',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('tenant', fields.ForeignKeyField('models.Tenant', source_field='tenant_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=200)),
                ('contact', fields.CharField(max_length=254, default='', db_default='')),
                ('key_prefix', fields.CharField(max_length=16)),
                ('key_hash', fields.CharField(max_length=64)),
                ('created_by', fields.UUIDField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_by', fields.UUIDField(null=True)),
            ],
            options={'table': 'open311_client', 'app': 'models', 'unique_together': (('tenant', 'id'), ('tenant', 'key_hash')), 'pk_attr': 'id', 'table_description': 'A registered Open311 client application and its hashed api key.'},
            bases=['Model'],
        ),
        ops.RunSQL(SQL, reverse_sql=REVERSE_SQL),
    ]
