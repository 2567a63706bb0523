from tortoise import migrations
from tortoise.migrations import operations as ops

# After a merge (migration 0023) the staff of a merged locality keep their memberships, moved
# into the target, but their accounts' home (app_user.default_tenant_id) still named the source:
# a login without a tenant code landed in the read-only source with no role, and one with the
# target's code did not find the account. paht_rehome_accounts(source) moves the accounts whose
# home is a merged tenant to its successor; it acts only on a tenant already 'merged', so it
# cannot move accounts anywhere else. An account whose username the successor already uses
# stays (usernames are unique per home) and is counted as left.

FUNCTION = """
CREATE FUNCTION paht_rehome_accounts(source uuid, OUT moved integer, OUT left_behind integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    target uuid;
BEGIN
    SELECT successor_id INTO target FROM tenant WHERE id = source AND status = 'merged';
    IF target IS NULL THEN
        RAISE EXCEPTION 'tenant % is not merged', source USING ERRCODE = 'PT404';
    END IF;
    UPDATE app_user u SET default_tenant_id = target
    WHERE u.default_tenant_id = source
      AND NOT EXISTS (
          SELECT 1 FROM app_user o WHERE o.default_tenant_id = target AND o.username = u.username
      );
    GET DIAGNOSTICS moved = ROW_COUNT;
    SELECT count(*) INTO left_behind FROM app_user WHERE default_tenant_id = source;
END $$
"""


class Migration(migrations.Migration):
    dependencies = [("models", "0026_export_expiry")]

    initial = False

    operations = [
        ops.RunSQL(
            sql=[
                FUNCTION,
                "REVOKE ALL ON FUNCTION paht_rehome_accounts(uuid) FROM PUBLIC",
                "GRANT EXECUTE ON FUNCTION paht_rehome_accounts(uuid) TO paht_api",
            ],
            reverse_sql=["DROP FUNCTION IF EXISTS paht_rehome_accounts(uuid)"],
        ),
    ]
