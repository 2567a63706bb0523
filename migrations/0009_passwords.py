from tortoise import migrations
from tortoise.migrations import operations as ops

# Password changes and resets, and provincial administrators managed without code.
# - paht_own_credential: the signed-in caller's own hash (app.user_id), so that changePassword can
#   verify the current password; user_credential stays unreadable to the application role.
# - paht_revoke_user_sessions: ends every session of one account (but one, for a password change)
#   and returns their ids. A provincial account's sessions opened inside a tenant carry that
#   tenant's id, which the provincial path cannot see under auth_session's policies; this function
#   sees them, for an account the caller reaches exactly as paht_set_password decides (0008).
# - The provincial role gets `province:manage_admins` where its template is installed already
#   (permissions/templates.py has it for new installations).
REACH = """
    SELECT 1 FROM app_user u
     WHERE u.id = p_user
       AND (u.id = nullif(current_setting('app.user_id', true), '')::uuid
            OR u.default_tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
            OR (u.default_tenant_id IS NULL
                AND coalesce(current_setting('app.province', true), '') = 'on'))
"""

FUNCTIONS = {
    "paht_own_credential()": """
        CREATE FUNCTION paht_own_credential()
        RETURNS TABLE (password_hash text, must_change boolean)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
          SELECT c.password_hash, c.must_change FROM user_credential c
           WHERE c.user_id = nullif(current_setting('app.user_id', true), '')::uuid
        $$""",
    "paht_revoke_user_sessions(uuid, text, uuid, timestamptz)": f"""
        CREATE FUNCTION paht_revoke_user_sessions(
          p_user uuid, p_reason text, p_keep uuid, p_now timestamptz)
        RETURNS SETOF uuid LANGUAGE plpgsql VOLATILE SECURITY DEFINER
        SET search_path = pg_catalog, public AS $$
        BEGIN
          IF NOT EXISTS ({REACH}) THEN
            RAISE EXCEPTION 'account outside the caller''s scope' USING ERRCODE = '42501';
          END IF;
          RETURN QUERY
            WITH ended AS (
              UPDATE auth_session SET revoked_at = p_now, revoked_reason = p_reason
               WHERE user_id = p_user AND revoked_at IS NULL AND id IS DISTINCT FROM p_keep
              RETURNING id
            ), tokens AS (
              UPDATE refresh_token SET revoked_at = p_now
               WHERE family_id IN (SELECT id FROM ended) AND revoked_at IS NULL
            )
            SELECT id FROM ended;
        END $$""",
}

GROUP = "paht_api"
ACTION = "province:manage_admins"
# casbin_rule is FORCE row-level secured: provincial rules are written on the provincial path.
PROVINCIAL_PATH = "SELECT set_config('app.province', 'on', true)"

SQL = [
    *FUNCTIONS.values(),
    *[f"REVOKE ALL ON FUNCTION {name} FROM PUBLIC" for name in FUNCTIONS],
    *[f"GRANT EXECUTE ON FUNCTION {name} TO {GROUP}" for name in FUNCTIONS],
    PROVINCIAL_PATH,
    "INSERT INTO casbin_rule (id, tenant_id, ptype, v0, v1, v2, v3, v4, v5) "
    f"SELECT gen_random_uuid(), NULL, 'p', 'provincial_admin', '*', '*', '*', '{ACTION}', '' "
    "WHERE EXISTS (SELECT 1 FROM casbin_rule WHERE tenant_id IS NULL AND ptype = 'p' "
    "AND v0 = 'provincial_admin') ON CONFLICT DO NOTHING",
    "SELECT pg_notify('paht_policy', '*')",
]

REVERSE_SQL = [
    PROVINCIAL_PATH,
    "DELETE FROM casbin_rule WHERE tenant_id IS NULL AND ptype = 'p' "
    f"AND v0 = 'provincial_admin' AND v4 = '{ACTION}'",
    *[f"DROP FUNCTION IF EXISTS {name}" for name in FUNCTIONS],
]


class Migration(migrations.Migration):
    dependencies = [('models', '0008_hardening')]

    initial = False

    operations = [
        ops.RunSQL(SQL, reverse_sql=REVERSE_SQL),
    ]
