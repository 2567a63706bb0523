"""What `paht serve` and `paht migrate` check and wait for at start-up, in real processes on
real databases: pending migrations, unsafe roles, named connections, the migration lock, a
database that never comes up."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from api.database import MIGRATION_LOCK, DatabaseUrls, migrate
from api.startup import StartupRefused, check_database, migrations_on_disk
from tests.conftest import TEST_SECRET
from tests.support.cli import messages, paht
from tests.support.databases import SUPERUSER, FreshDatabase, ensure_role, fresh_database
from tests.support.server import ApiProcess


@pytest.fixture
async def empty(embedded_server: Any) -> AsyncIterator[FreshDatabase]:
    db = fresh_database(embedded_server, "paht_start")
    yield db
    db.drop()


def serve_env(app_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": app_url,
        "PAHT_JWT_SECRET": TEST_SECRET,
        "PAHT_DATA_DIR": str(data_dir),
        "PAHT_DB_CONNECT_TIMEOUT_SECONDS": "10",
        **extra,
    }


async def test_serve_refuses_pending_migrations_and_names_paht_migrate(
    empty: FreshDatabase, tmp_path: Path
) -> None:
    code, _out, err = await paht("serve", **serve_env(empty.urls.app, tmp_path))
    assert code == 3, err
    lines = messages(err)
    assert len(lines) == 2 and "Traceback" not in err
    assert lines[0].startswith("lỗi: ") and lines[1].startswith("error: ")
    assert "`paht migrate`" in lines[0] and "`paht migrate`" in lines[1]
    assert f"{len(migrations_on_disk())} migrations pending" in lines[1]

    # --migrate needs the owner's DSN, which an API process does not have.
    code, _out, err = await paht("serve", "--migrate", **serve_env(empty.urls.app, tmp_path))
    assert code == 2 and "DATABASE_OWNER_URL" in messages(err)[1]

    code, out, err = await paht("migrate", DATABASE_OWNER_URL=empty.urls.owner)
    assert code == 0, err
    assert "Migrations applied." in out
    replica = ApiProcess(empty.urls.app, "", tmp_path, TEST_SECRET)  # no DATABASE_OWNER_URL
    try:
        await replica.start()
    finally:
        await replica.stop()


async def test_serve_with_migrate_applies_them_first(empty: FreshDatabase, tmp_path: Path) -> None:
    replica = ApiProcess(empty.urls.app, empty.urls.owner, tmp_path, TEST_SECRET, "--migrate")
    try:
        await replica.start()
    finally:
        await replica.stop()
    conn = await asyncpg.connect(empty.url(SUPERUSER))
    try:
        applied = await conn.fetch("SELECT name FROM tortoise_migrations ORDER BY name")
    finally:
        await conn.close()
    assert [r["name"] for r in applied] == migrations_on_disk()


@pytest.fixture(scope="module")
def unsafe_roles(embedded_server: Any) -> dict[str, str]:
    if embedded_server is None:
        pytest.skip("needs the embedded test server to create roles")
    ensure_role(embedded_server, "paht_test_bypass", "NOSUPERUSER BYPASSRLS IN ROLE paht_api")
    ensure_role(embedded_server, "paht_test_member", "NOSUPERUSER IN ROLE paht_owner, paht_api")
    return {
        "superuser": SUPERUSER,
        "bypassrls": "paht_test_bypass",
        "owner": "paht_owner",
        "member": "paht_test_member",
    }


def as_role(url: str, role: str) -> str:
    return re.sub(r"^[a-z]+://[^@/]*@", f"postgresql://{role}@", url)


REASONS = {
    "superuser": ("is a superuser", "là superuser"),
    "bypassrls": ("has BYPASSRLS", "BYPASSRLS"),
    "owner": ("owns", "sở hữu"),
    "member": ("member of the tables' owner role (paht_owner)", "thành viên của vai trò sở hữu"),
}


@pytest.mark.parametrize("kind", list(REASONS))
async def test_roles_that_bypass_row_level_security_are_refused(
    database: DatabaseUrls, unsafe_roles: dict[str, str], kind: str
) -> None:
    url = as_role(database.app, unsafe_roles[kind])
    with pytest.raises(StartupRefused) as refused:
        await check_database(url, timeout_seconds=5, allow_unsafe_role=False)
    english, vietnamese = REASONS[kind]
    assert refused.value.code == "UNSAFE_DATABASE_ROLE"
    assert english in refused.value.message_en and "row-level security" in refused.value.message_en
    assert vietnamese in refused.value.message_vi
    assert f"'{unsafe_roles[kind]}'" in refused.value.message_en


async def test_the_application_role_passes(database: DatabaseUrls) -> None:
    await check_database(database.app, timeout_seconds=5, allow_unsafe_role=False)


async def test_a_superuser_replica_refuses_then_serves_only_when_overridden(
    database: DatabaseUrls, unsafe_roles: dict[str, str], tmp_path: Path
) -> None:
    url = as_role(database.app, SUPERUSER)
    code, _out, err = await paht("serve", **serve_env(url, tmp_path))
    assert code == 3 and "Traceback" not in err
    lines = messages(err)
    assert len(lines) == 2
    assert "is a superuser" in lines[1] and "PAHT_ALLOW_UNSAFE_DATABASE_ROLE" in lines[1]
    assert "superuser" in lines[0] and "RLS" in lines[0]

    replica = ApiProcess(url, "", tmp_path, TEST_SECRET, PAHT_ALLOW_UNSAFE_DATABASE_ROLE="true")
    try:
        await replica.start()
    finally:
        await replica.stop()
    warnings = [line for line in replica.log().splitlines() if "UNSAFE DATABASE ROLE" in line]
    assert len(warnings) == 1 and '"level": "WARNING"' in warnings[0]


async def backends(db: FreshDatabase) -> list[asyncpg.Record]:
    """The database's client connections but this one: autovacuum workers carry the database's
    name and no application name, and are not connections of ours."""
    conn = await asyncpg.connect(db.url(SUPERUSER))
    try:
        return await conn.fetch(
            "SELECT application_name, wait_event_type FROM pg_stat_activity "
            "WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()",
            db.name,
        )
    finally:
        await conn.close()


async def test_migrate_waits_for_the_lock_and_every_connection_is_named(
    empty: FreshDatabase, tmp_path: Path
) -> None:
    holder = await asyncpg.connect(empty.url(SUPERUSER))
    try:
        await holder.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK)
        job = asyncio.create_task(paht("migrate", DATABASE_OWNER_URL=empty.urls.owner))
        deadline = time.monotonic() + 60
        while not any(
            r["application_name"] == "paht-migrate" and r["wait_event_type"] == "Lock"
            for r in await backends(empty)
        ):
            assert time.monotonic() < deadline and not job.done(), "migrate never waited"
            await asyncio.sleep(0.1)
        tables = await holder.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables == 0  # nothing applied while another holds the lock
    finally:
        await holder.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK)
        await holder.close()
    code, _out, err = await job
    assert code == 0, err
    # A closed connection's backend can outlive its client for a moment (the holder's, the
    # migration's); the replica's connections are counted once those are gone.
    deadline = time.monotonic() + 30
    while await backends(empty):
        assert time.monotonic() < deadline, "connections outlived their clients"
        await asyncio.sleep(0.1)

    replica = ApiProcess(empty.urls.app, "", tmp_path, TEST_SECRET)
    try:
        await replica.start()
        names = {r["application_name"] for r in await backends(empty)}
    finally:
        await replica.stop()
    assert names == {"paht-api", "paht-side", "paht-listen"}


async def test_a_database_that_never_comes_up_is_a_bounded_two_line_error(tmp_path: Path) -> None:
    nowhere = tmp_path / "no-server-here"
    url = f"postgresql://paht_owner:s3cret-pw@/paht?host={nowhere}"
    started = time.monotonic()
    code, _out, err = await paht(
        "migrate", DATABASE_OWNER_URL=url, PAHT_DB_CONNECT_TIMEOUT_SECONDS="2.5"
    )
    assert time.monotonic() - started < 60  # bounded (the budget is 2.5 s), not hung
    assert code == 3
    assert "s3cret-pw" not in err
    lines = messages(err)
    assert len(lines) == 2 and "Traceback" not in err
    assert lines[1].startswith("error: cannot reach the database postgresql://paht_owner:***@")
    delays = re.findall(r"next in ([0-9.]+) s", err)
    assert [float(d) for d in delays][:3] == [0.25, 0.5, 1.0]  # exponential back-off, logged


async def test_migrate_is_idempotent(database: DatabaseUrls) -> None:
    await migrate(database.owner)  # the session already migrated: nothing to do, no error
