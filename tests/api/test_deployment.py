"""The start-up sequence of docker/compose.yaml, without Docker, in real processes: the database
comes up late, three migration jobs start at once and all succeed with each migration applied
once, a locality is onboarded, two replicas start (also before the database is back) and a
round-robin client sees both ready and a photo uploaded through one served by the other from
the shared object store."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from api.startup import migrations_on_disk
from tests.conftest import TEST_SECRET
from tests.support.citizen import submit_photo
from tests.support.cli import messages, paht
from tests.support.databases import SUPERUSER, FreshDatabase, fresh_database
from tests.support.pgproxy import PgRelay
from tests.support.s3 import S3Server
from tests.support.server import ROOT, ApiProcess


@pytest.fixture
async def late_database(embedded_server: Any) -> AsyncIterator[tuple[FreshDatabase, PgRelay]]:
    """An empty database behind a relay the test starts in "still starting" mode."""
    db = fresh_database(embedded_server, "paht_deploy")
    relay = PgRelay(db.host, Path("/tmp") / f"paht-late-{uuid.uuid4().hex[:8]}")
    yield db, relay
    await relay.cut()
    db.drop()


async def applied(db: FreshDatabase) -> list[str]:
    conn = await asyncpg.connect(db.url(SUPERUSER))
    try:
        rows = await conn.fetch("SELECT name FROM tortoise_migrations ORDER BY id")
    finally:
        await conn.close()
    return [r["name"] for r in rows]


async def test_late_database_concurrent_migrations_two_replicas_shared_media(
    late_database: tuple[FreshDatabase, PgRelay], s3_server: S3Server, tmp_path: Path
) -> None:
    db, relay = late_database
    owner = db.url("paht_owner", host=relay.dir)
    app = db.url("paht_app", host=relay.dir)

    # 1. Three migration jobs start while the database is starting; it is ready a bit later.
    await relay.starting()  # in the test's own event loop, which serves the relay
    jobs = [
        asyncio.create_task(
            paht("migrate", DATABASE_OWNER_URL=owner, PAHT_DB_CONNECT_TIMEOUT_SECONDS="60")
        )
        for _ in range(3)
    ]
    await relay.refused_processes(3)  # each job has tried and been told to wait
    assert not any(job.done() for job in jobs)  # waiting, not failed
    await relay.restore()
    results = await asyncio.gather(*jobs)
    for code, out, err in results:
        assert code == 0, err
        assert "Migrations applied." in out
        assert "not reachable yet" in err  # each one waited, and said so
        assert "already exists" not in err
    assert await applied(db) == migrations_on_disk()  # each applied exactly once

    # 2. The province onboards a locality from its document (application role only).
    code, out, err = await paht(
        "tenants", "onboard", str(ROOT / "tenants" / "demo" / "sa-pa.yaml"),
        DATABASE_URL=app, PAHT_DATA_DIR=str(tmp_path),
    )  # fmt: skip
    assert code == 0, messages(err)
    assert "Onboarded sa-pa" in out

    # 3. Two replicas, sharing one bucket, start while the database is away again.
    bucket = s3_server.new_bucket()
    replicas = [ApiProcess(app, "", tmp_path, TEST_SECRET, **s3_server.env(bucket)) for _ in (1, 2)]
    await relay.starting()
    try:
        for replica in replicas:
            await replica.spawn()
        await relay.refused_processes(2)
        await relay.restore()
        await asyncio.gather(*(replica.wait_ready() for replica in replicas))
        for replica in replicas:
            assert "not reachable yet" in replica.log()

        # 4. What the proxy does: round robin over both replicas.
        clients = [httpx.AsyncClient(base_url=r.base_url, timeout=30) for r in replicas]
        try:
            answered = []
            for http in itertools.islice(itertools.cycle(clients), 4):
                answered.append((str(http.base_url), (await http.get("/readyz")).status_code))
            assert {status for _, status in answered} == {200}
            assert len({url for url, _ in answered}) == 2

            first, second = clients
            url = await submit_photo(first, "sa-pa", title=f"deploy-{uuid.uuid4().hex[:6]}")
            served = await second.get(url)  # the other replica
            assert served.status_code == 200, served.text
            assert served.headers["content-type"] == "image/jpeg"
            assert served.headers["x-content-type-options"] == "nosniff"
            assert served.content == (await first.get(url)).content
            assert served.content[:3] == b"\xff\xd8\xff"
        finally:
            for http in clients:
                await http.aclose()
    finally:
        for replica in replicas:
            await replica.stop()
