"""A real `paht serve` process on the test database, for what only a separate process shows:
whether a request can stall the event loop, cross-process notifications, start-up checks."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class ApiProcess:
    """``paht serve`` with ``DATABASE_URL`` set: production mode (debug off, jobs off). An empty
    ``owner_url`` leaves ``DATABASE_OWNER_URL`` out, as in a production replica."""

    def __init__(
        self, app_url: str, owner_url: str, data_dir: Path, secret: str, *args: str, **env: str
    ):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / f"api-{self.port}.log"
        self.args = args
        self.env = {
            **os.environ,
            "DATABASE_URL": app_url,
            "DATABASE_OWNER_URL": owner_url,
            "PAHT_DATA_DIR": str(data_dir),
            "PAHT_JWT_SECRET": secret,
            "PAHT_PORT": str(self.port),
            "PAHT_JOBS_INTERVAL_SECONDS": "0",
            **env,
        }
        if not owner_url:
            del self.env["DATABASE_OWNER_URL"]
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, wait_seconds: float = 60) -> None:
        await self.spawn()
        await self.wait_ready(wait_seconds)

    async def spawn(self) -> None:
        with self.log_path.open("wb") as log:  # the child keeps its own copy of the descriptor
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "api.cli", "serve", *self.args,
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

    async def wait_ready(self, wait_seconds: float = 60) -> None:
        assert self.process is not None
        deadline = time.monotonic() + wait_seconds
        async with httpx.AsyncClient(base_url=self.base_url) as http:
            while time.monotonic() < deadline:
                if self.process.returncode is not None:
                    raise RuntimeError(f"paht serve exited:\n{self.log()}")
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"paht serve did not become ready:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    async def stop(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 15)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


async def max_health_latency(base_url: str, stop: asyncio.Event) -> float:
    """Poll /healthz until ``stop`` is set; the slowest answer, in seconds. A blocked event
    loop shows here as one very slow (or timed-out) answer."""
    slowest = 0.0
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as http:
        while not stop.is_set():
            started = time.perf_counter()
            response = await http.get("/healthz")
            assert response.status_code == 200
            slowest = max(slowest, time.perf_counter() - started)
            await asyncio.sleep(0.05)
    return slowest
