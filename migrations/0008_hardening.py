from tortoise import migrations
from tortoise.migrations import operations as ops
from core.ids import new_id
from tortoise.fields.base import OnDelete
from tortoise import fields

# Hardening of the shared account tables.
# - Password hashes move to user_credential, which the application role cannot read; logins and
#   password changes go through SECURITY DEFINER functions.
# - app_user, auth_session and refresh_token get FORCE row-level security: a request sees the
#   caller (app.user_id), its tenant's accounts and sessions, and provincial accounts only on
#   the provincial path. The functions run as the table owner, which the policies let through.
# - Usernames are unique per home tenant (provincial accounts: per province).
# - auth_throttle keeps the login and anonymous-request limits shared by every API process.
TENANT = "(SELECT nullif(current_setting('app.tenant_id', true), '')::uuid)"
TENANTS = "(SELECT nullif(current_setting('app.tenant_ids', true), '')::uuid[])"
USER = "(SELECT nullif(current_setting('app.user_id', true), '')::uuid)"
PROVINCE = "(SELECT coalesce(current_setting('app.province', true), '') = 'on')"
GROUP = "paht_api"
NO_TENANT = "'00000000-0000-0000-0000-000000000000'::uuid"


def owner_of(table: str) -> str:
    # Inside the functions below current_user is the table owner (SECURITY DEFINER); the
    # application role never is.
    return (
        "(current_user = (SELECT pg_catalog.pg_get_userbyid(relowner) FROM pg_catalog.pg_class "
        f"WHERE oid = 'public.{table}'::regclass))"
    )


def forced(table: str) -> list[str]:
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
    ]


def session_policies(table: str) -> list[str]:
    reach = (
        f"(user_id = {USER} OR tenant_id = {TENANT} OR (tenant_id IS NULL AND {PROVINCE}) "
        f"OR {owner_of(table)})"
    )
    return [
        *forced(table),
        f"CREATE POLICY session_read ON {table} FOR SELECT USING {reach}",
        f"CREATE POLICY session_insert ON {table} FOR INSERT WITH CHECK {reach}",
        f"CREATE POLICY session_update ON {table} FOR UPDATE USING {reach} WITH CHECK {reach}",
        f"CREATE POLICY session_delete ON {table} FOR DELETE USING {reach}",
    ]


USER_HOME = (
    f"(default_tenant_id = {TENANT} OR (default_tenant_id IS NULL AND {PROVINCE}))"
)
USER_SEEN = (
    f"(id = {USER} OR {USER_HOME} OR default_tenant_id = ANY (CAST({TENANTS} AS uuid[])) "
    "OR EXISTS (SELECT 1 FROM membership m WHERE m.user_id = app_user.id) "
    f"OR {owner_of('app_user')})"
)
USER_WRITE = f"(id = {USER} OR {USER_HOME} OR {owner_of('app_user')})"

DEFINER = "LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public"

FUNCTIONS = {
    # Login: the accounts that may answer to this username for this tenant (its own, then
    # provincial ones), with the hash to verify. Nothing else reads user_credential.
    "paht_login_candidates(text, uuid)": f"""
        CREATE FUNCTION paht_login_candidates(p_username text, p_tenant uuid)
        RETURNS TABLE (user_id uuid, password_hash text, is_active boolean,
                       default_tenant_id uuid, must_change boolean)
        {DEFINER} AS $$
          SELECT u.id, c.password_hash, u.is_active, u.default_tenant_id,
                 coalesce(c.must_change, false)
            FROM app_user u LEFT JOIN user_credential c ON c.user_id = u.id
           WHERE u.username = p_username
             AND (p_tenant IS NULL OR u.default_tenant_id = p_tenant
                  OR u.default_tenant_id IS NULL)
           ORDER BY (u.default_tenant_id IS NOT DISTINCT FROM p_tenant) DESC, u.id
           LIMIT 5
        $$""",
    "paht_user_by_subject(text)": f"""
        CREATE FUNCTION paht_user_by_subject(p_subject text)
        RETURNS TABLE (user_id uuid, default_tenant_id uuid)
        {DEFINER} AS $$
          SELECT id, default_tenant_id FROM app_user
           WHERE external_subject = p_subject AND is_active
        $$""",
    "paht_user_active(uuid)": f"""
        CREATE FUNCTION paht_user_active(p_user uuid) RETURNS boolean
        {DEFINER} AS $$
          SELECT coalesce((SELECT is_active FROM app_user WHERE id = p_user), false)
        $$""",
    "paht_session_revoked(uuid)": f"""
        CREATE FUNCTION paht_session_revoked(p_session uuid) RETURNS boolean
        {DEFINER} AS $$
          SELECT coalesce((SELECT revoked_at IS NOT NULL FROM auth_session WHERE id = p_session),
                          true)
        $$""",
    # Refresh and logout present only the token: find its row (and whether its session and user
    # still stand) before anything else is known.
    "paht_refresh_lookup(text)": f"""
        CREATE FUNCTION paht_refresh_lookup(p_hash text)
        RETURNS TABLE (id uuid, user_id uuid, tenant_id uuid, family_id uuid,
                       expires_at timestamptz, used_at timestamptz, revoked_at timestamptz,
                       successor_sealed bytea, session_revoked boolean, user_active boolean)
        {DEFINER} AS $$
          SELECT r.id, r.user_id, r.tenant_id, r.family_id, r.expires_at, r.used_at,
                 r.revoked_at, r.successor_sealed, s.revoked_at IS NOT NULL, u.is_active
            FROM refresh_token r
            JOIN auth_session s ON s.id = r.family_id
            JOIN app_user u ON u.id = r.user_id
           WHERE r.token_hash = p_hash
        $$""",
    # A password is set only for an account the caller's own settings reach: themself, an
    # account of their tenant, or a provincial account on the provincial path.
    "paht_set_password(uuid, text, boolean)": """
        CREATE FUNCTION paht_set_password(p_user uuid, p_hash text, p_must_change boolean)
        RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER
        SET search_path = pg_catalog, public AS $$
        BEGIN
          IF NOT EXISTS (
            SELECT 1 FROM app_user u
             WHERE u.id = p_user
               AND (u.id = nullif(current_setting('app.user_id', true), '')::uuid
                    OR u.default_tenant_id = nullif(current_setting('app.tenant_id', true), '')::uuid
                    OR (u.default_tenant_id IS NULL
                        AND coalesce(current_setting('app.province', true), '') = 'on'))
          ) THEN
            RAISE EXCEPTION 'account outside the caller''s scope' USING ERRCODE = '42501';
          END IF;
          INSERT INTO user_credential (user_id, password_hash, must_change, changed_at)
          VALUES (p_user, p_hash, p_must_change, now())
          ON CONFLICT (user_id) DO UPDATE
            SET password_hash = EXCLUDED.password_hash, must_change = EXCLUDED.must_change,
                changed_at = EXCLUDED.changed_at;
        END $$""",
}

BEFORE_SQL = [
    """
    CREATE TABLE user_credential (
      user_id uuid PRIMARY KEY REFERENCES app_user (id) ON DELETE CASCADE,
      password_hash varchar(255) NOT NULL,
      must_change boolean NOT NULL DEFAULT false,
      changed_at timestamptz NOT NULL DEFAULT now()
    )
    """,
    "REVOKE ALL ON user_credential FROM PUBLIC",
    "INSERT INTO user_credential (user_id, password_hash) "
    "SELECT id, password_hash FROM app_user WHERE password_hash IS NOT NULL",
    # Every existing refresh family becomes a session.
    "INSERT INTO auth_session (id, user_id, tenant_id, created_at, revoked_at) "
    "SELECT family_id, (array_agg(user_id))[1], (array_agg(tenant_id))[1], min(created_at), "
    "CASE WHEN bool_or(revoked_at IS NOT NULL) THEN max(revoked_at) END "
    "FROM refresh_token GROUP BY family_id",
]
BEFORE_REVERSE = [
    "UPDATE app_user u SET password_hash = c.password_hash FROM user_credential c "
    "WHERE c.user_id = u.id",
    "DROP TABLE user_credential",
]

AFTER_SQL = [
    f"CREATE UNIQUE INDEX app_user_home_username ON app_user "
    f"(coalesce(default_tenant_id, {NO_TENANT}), username)",
    "ALTER TABLE refresh_token ADD CONSTRAINT refresh_token_session_fk FOREIGN KEY (family_id) "
    "REFERENCES auth_session (id) ON DELETE CASCADE",
    "ALTER TABLE auth_session ADD CONSTRAINT auth_session_reason_check CHECK (revoked_reason IN "
    "('logout', 'reuse', 'deactivated', 'password', 'admin'))",
    "CREATE INDEX auth_session_user_idx ON auth_session (user_id)",
    *forced("app_user"),
    f"CREATE POLICY user_read ON app_user FOR SELECT USING {USER_SEEN}",
    f"CREATE POLICY user_insert ON app_user FOR INSERT WITH CHECK ({USER_HOME} OR {owner_of('app_user')})",
    f"CREATE POLICY user_update ON app_user FOR UPDATE USING {USER_WRITE} WITH CHECK {USER_WRITE}",
    *session_policies("auth_session"),
    *session_policies("refresh_token"),
    f"GRANT SELECT, INSERT, UPDATE ON auth_session TO {GROUP}",
    """
    CREATE TABLE auth_throttle (
      key varchar(200) PRIMARY KEY,
      window_start timestamptz NOT NULL,
      count integer NOT NULL DEFAULT 0,
      previous integer NOT NULL DEFAULT 0,
      failures integer NOT NULL DEFAULT 0,
      blocked_until timestamptz,
      attempt uuid,
      updated_at timestamptz NOT NULL
    )
    """,
    "CREATE INDEX auth_throttle_updated_idx ON auth_throttle (updated_at)",
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON auth_throttle TO {GROUP}",
    *FUNCTIONS.values(),
    *[f"REVOKE ALL ON FUNCTION {name} FROM PUBLIC" for name in FUNCTIONS],
    *[f"GRANT EXECUTE ON FUNCTION {name} TO {GROUP}" for name in FUNCTIONS],
]
AFTER_REVERSE = [
    *[f"DROP FUNCTION IF EXISTS {name}" for name in FUNCTIONS],
    "DROP TABLE IF EXISTS auth_throttle",
    *[
        f"DROP POLICY IF EXISTS {policy} ON {table}"
        for table in ("auth_session", "refresh_token")
        for policy in ("session_read", "session_insert", "session_update", "session_delete")
    ],
    *[f"DROP POLICY IF EXISTS {policy} ON app_user" for policy in ("user_read", "user_insert", "user_update")],
    *[
        f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY"
        for table in ("app_user", "auth_session", "refresh_token")
    ],
    *[
        f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY"
        for table in ("app_user", "auth_session", "refresh_token")
    ],
    "ALTER TABLE refresh_token DROP CONSTRAINT IF EXISTS refresh_token_session_fk",
    "DROP INDEX IF EXISTS app_user_home_username",
]

class Migration(migrations.Migration):
    dependencies = [('models', '0007_notifications')]

    initial = False

    operations = [
        ops.CreateModel(
            name='AuthSession',
            fields=[
                ('id', fields.UUIDField(primary_key=True, default=new_id, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('tenant_id', fields.UUIDField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('revoked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('revoked_reason', fields.CharField(null=True, max_length=20)),
            ],
            options={'table': 'auth_session', 'app': 'models', 'pk_attr': 'id', 'table_description': 'One login: its refresh tokens form a family and its access tokens carry its id'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='RefreshToken',
            name='successor_sealed',
            field=fields.BinaryField(null=True),
        ),
        ops.RunSQL(BEFORE_SQL, reverse_sql=BEFORE_REVERSE),
        ops.AlterModelOptions(
            name='User',
            options={'table': 'app_user', 'app': 'models', 'pk_attr': 'id', 'table_description': "A person's account. Usernames are unique within the home tenant (``default_tenant_id``;"},
        ),
        ops.AlterField(
            model_name='User',
            name='username',
            field=fields.CharField(max_length=120),
        ),
        ops.RemoveField(model_name='User', name='password_hash'),
        ops.RunSQL(AFTER_SQL, reverse_sql=AFTER_REVERSE),
    ]
