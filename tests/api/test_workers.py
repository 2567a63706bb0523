"""`paht serve --workers 2` (api/workers.py): two processes on one port, each with its own
socket, so that keep-alive connections spread over both instead of landing on whichever
worker woke first; a signal stops them all gracefully; a worker that dies stops the server."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import httpx
import psutil

from api.database import DatabaseUrls
from tests.conftest import TEST_SECRET
from tests.support.server import ApiProcess

CONNECTIONS = 32


def _workers(api: ApiProcess) -> list[psutil.Process]:
    """The server processes (not multiprocessing's resource tracker, also a child)."""
    assert api.process is not None
    return [
        child
        for child in psutil.Process(api.process.pid).children()
        if "spawn_main" in " ".join(child.cmdline())
    ]


def _on_port(process: psutil.Process, port: int, status: str) -> int:
    return sum(
        1
        for c in process.net_connections("tcp")
        if c.status == status and c.laddr and c.laddr.port == port
    )


async def _serving(database: DatabaseUrls, tmp_path: Path) -> ApiProcess:
    api = ApiProcess(database.app, "", tmp_path, TEST_SECRET, "--workers", "2")
    await api.start()
    deadline = time.monotonic() + 60  # /readyz answered: one worker is up; wait for both
    try:
        while not (
            len(workers := _workers(api)) == 2
            and all(_on_port(w, api.port, psutil.CONN_LISTEN) for w in workers)
        ):
            assert time.monotonic() < deadline, api.log()
            await asyncio.sleep(0.1)
    except BaseException:
        await api.stop()  # a server left running would outlive the test run
        raise
    return api


async def test_connections_spread_over_the_workers_and_a_signal_stops_them(
    database: DatabaseUrls, tmp_path: Path
) -> None:
    api = await _serving(database, tmp_path)
    assert api.process is not None
    workers = _workers(api)
    try:
        limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
        async with httpx.AsyncClient(base_url=api.base_url, limits=limits) as http:
            answers = await asyncio.gather(*(http.get("/healthz") for _ in range(CONNECTIONS)))
            assert {a.status_code for a in answers} == {200}
            held = [_on_port(w, api.port, psutil.CONN_ESTABLISHED) for w in workers]
        # Spread by the kernel's hash of each connection's addresses: both workers hold some
        # (all 32 on one of them would happen once in 2^31 runs).
        assert sum(held) == CONNECTIONS and min(held) >= 1, held
    finally:
        api.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(api.process.wait(), 30)
    assert code == 0, api.log()
    assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)


async def test_a_worker_that_dies_stops_the_server(database: DatabaseUrls, tmp_path: Path) -> None:
    api = await _serving(database, tmp_path)
    assert api.process is not None
    first, second = _workers(api)
    try:
        first.kill()
        code = await asyncio.wait_for(api.process.wait(), 30)
    finally:
        await api.stop()
    assert code == 1, api.log()
    assert "worker exited" in api.log(), api.log()
    assert not second.is_running() or second.status() == psutil.STATUS_ZOMBIE
