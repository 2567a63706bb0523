"""What `paht serve` checks before it accepts a request.

- The database role of ``DATABASE_URL`` must be held to row-level security: a superuser, a
  BYPASSRLS role, the owner of the tables or a member of their owner would silently take down
  the second wall of docs/architecture.md §2 (FORCE RLS binds the owner's reads, but the owner
  can drop the policies). Refused unless an operator overrides it explicitly, then logged loudly.
- Every migration on disk must be applied. In production `paht migrate` runs once before the
  replicas start (docker/compose.yaml); a replica never changes the schema by itself.
"""

from __future__ import annotations

import logging
import pkgutil
import re
from dataclasses import dataclass

import asyncpg

import migrations
from api.db_connect import connect_with_retry

log = logging.getLogger("paht.startup")

MIGRATIONS_APP = "models"  # the app label of api.database.tortoise_config
_MIGRATION_NAME = re.compile(r"^\d{4}_\w+$")


class StartupRefused(Exception):
    """A reason not to serve, in both languages (the CLI prints both lines)."""

    def __init__(self, code: str, message_vi: str, message_en: str) -> None:
        self.code = code
        self.message_vi = message_vi
        self.message_en = message_en
        super().__init__(f"{code}: {message_en}")


@dataclass(frozen=True)
class RoleProblem:
    reason_vi: str
    reason_en: str


_ROLE_QUERY = """
WITH tables AS (
  SELECT c.relname, c.relowner
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY (current_schemas(false))
)
SELECT r.rolname, r.rolsuper, r.rolbypassrls,
  (SELECT count(*) FROM tables t WHERE t.relowner = r.oid) AS owned,
  (SELECT array_agg(DISTINCT o.rolname ORDER BY o.rolname)
     FROM tables t JOIN pg_catalog.pg_roles o ON o.oid = t.relowner
     WHERE t.relowner <> r.oid AND pg_has_role(r.oid, t.relowner, 'MEMBER')) AS owner_roles
FROM pg_catalog.pg_roles r WHERE r.rolname = current_user
"""


async def role_problems(conn: asyncpg.Connection) -> tuple[str, list[RoleProblem]]:
    """The connection's role and every way it escapes row-level security."""
    row = await conn.fetchrow(_ROLE_QUERY)
    name = row["rolname"]
    problems: list[RoleProblem] = []
    if row["rolsuper"]:
        problems.append(RoleProblem("là superuser", "is a superuser"))
    if row["rolbypassrls"]:
        problems.append(RoleProblem("có thuộc tính BYPASSRLS", "has BYPASSRLS"))
    if row["owned"]:
        problems.append(
            RoleProblem(f"sở hữu {row['owned']} bảng", f"owns {row['owned']} tables of the schema")
        )
    if row["owner_roles"]:
        owners = ", ".join(row["owner_roles"])
        problems.append(
            RoleProblem(
                f"là thành viên của vai trò sở hữu bảng ({owners})",
                f"is a member of the tables' owner role ({owners})",
            )
        )
    return name, problems


def migrations_on_disk() -> list[str]:
    return sorted(
        m.name for m in pkgutil.iter_modules(migrations.__path__) if _MIGRATION_NAME.match(m.name)
    )


async def pending_migrations(conn: asyncpg.Connection) -> list[str]:
    """Migrations of this code base that the database has not recorded as applied.

    The application role reads ``tortoise_migrations`` from migration 0009 on; before that (or
    on an empty database) nothing is known to be applied."""
    try:
        rows = await conn.fetch(
            "SELECT name FROM tortoise_migrations WHERE app = $1", MIGRATIONS_APP
        )
    except (asyncpg.UndefinedTableError, asyncpg.InsufficientPrivilegeError):
        rows = []
    applied = {r["name"] for r in rows}
    return [name for name in migrations_on_disk() if name not in applied]


async def check_database(app_url: str, *, timeout_seconds: float, allow_unsafe_role: bool) -> None:
    """Wait for the database, then refuse an unsafe role or a schema that is behind."""
    conn = await connect_with_retry(
        app_url, application_name="paht-api", timeout_seconds=timeout_seconds
    )
    try:
        role, problems = await role_problems(conn)
        pending = await pending_migrations(conn)
    finally:
        await conn.close()
    if problems:
        why_vi = "; ".join(p.reason_vi for p in problems)
        why_en = "; ".join(p.reason_en for p in problems)
        if not allow_unsafe_role:
            raise StartupRefused(
                "UNSAFE_DATABASE_ROLE",
                f"Vai trò CSDL '{role}' của `DATABASE_URL` {why_vi}: nó vượt qua bảo mật theo dòng "
                "(RLS) nên dữ liệu các đơn vị triển khai không còn được tách biệt. Hãy dùng vai "
                "trò ứng dụng (NOSUPERUSER NOBYPASSRLS, thành viên của `paht_api`); chỉ khi khẩn "
                "cấp mới đặt "
                "`PAHT_ALLOW_UNSAFE_DATABASE_ROLE=true`.",
                f"The database role '{role}' of DATABASE_URL {why_en}: it bypasses row-level "
                "security, so tenants are no longer kept apart. Use the application role "
                "(NOSUPERUSER NOBYPASSRLS, a member of paht_api); only in an emergency set "
                "`PAHT_ALLOW_UNSAFE_DATABASE_ROLE=true`.",
            )
        log.warning(
            "UNSAFE DATABASE ROLE '%s' (%s): row-level security does NOT isolate tenants in "
            "this process; PAHT_ALLOW_UNSAFE_DATABASE_ROLE is set",
            role,
            why_en,
        )
    if pending:
        names = ", ".join(pending)
        raise StartupRefused(
            "MIGRATIONS_PENDING",
            f"Cơ sở dữ liệu chưa được cập nhật ({len(pending)} migration chưa áp dụng: {names}). "
            "Chạy `paht migrate` (với `DATABASE_OWNER_URL`) rồi khởi động lại.",
            f"The database schema is behind ({len(pending)} migrations pending: {names}). "
            "Run `paht migrate` (with DATABASE_OWNER_URL), then start again.",
        )
