"""The pilot follows the 2025 reform with the `paht` command alone, in a fresh database: onboard
TP Lào Cai and TX Sa Pa from their YAML, load the reform, merge Sa Pa into Lào Cai (the
province re-scoping one tenant), and check what the database holds."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import asyncpg

from tests.support.cli import ROOT, run_paht
from tests.support.databases import SUPERUSER, fresh_database


async def test_onboard_reform_and_merge_with_the_command(
    embedded_server: Any, tmp_path: Path
) -> None:
    db = fresh_database(embedded_server, "paht_reform")
    try:

        async def paht(*args: str) -> str:
            result = await asyncio.to_thread(run_paht, list(args), db.urls, tmp_path)
            assert result.returncode == 0, result.stderr
            return result.stdout

        await paht("migrate")
        for name in ("lao-cai", "sa-pa"):
            await paht("tenants", "onboard", str(ROOT / "tenants" / "demo" / f"{name}.yaml"))
        loaded = await paht("tenants", "reform")
        assert "11 new units, 33 units given successors" in loaded
        assert "0 new units, 0 units given successors" in await paht("tenants", "reform")
        dry = await paht("tenants", "merge", "sa-pa", "--into", "lao-cai", "--dry-run")
        assert "Would merge lao-cai<-sa-pa" in dry and "agency codes prefixed" in dry
        await paht("tenants", "merge", "sa-pa", "--into", "lao-cai")

        conn = await asyncpg.connect(db.url(SUPERUSER))
        try:
            tenants = {
                r["code"]: r
                for r in await conn.fetch("SELECT id, code, status, successor_id FROM tenant")
            }
            agencies = await conn.fetchval(
                "SELECT count(*) FROM agency WHERE tenant_id = $1", tenants["lao-cai"]["id"]
            )
            steps = await conn.fetchval("SELECT count(*) FROM tenant_merge_step")
            ended = await conn.fetchval(
                "SELECT count(*) FROM administrative_unit WHERE valid_to = '2025-06-30' "
                "AND cardinality(successor_codes) = 1"
            )
        finally:
            await conn.close()
        assert tenants["sa-pa"]["status"] == "merged"
        assert tenants["sa-pa"]["successor_id"] == tenants["lao-cai"]["id"]
        assert agencies == 13 + 14 and steps == 1 and ended == 33
    finally:
        db.drop()
