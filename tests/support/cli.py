"""Running the `paht` command in a real process, and reading what it printed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from api.database import DatabaseUrls
from tests.support.server import ROOT


async def paht(*args: str, **env: str) -> tuple[int, str, str]:
    """Run the CLI as a deployment would: only the variables given (plus PATH and HOME)."""
    base = {k: os.environ[k] for k in ("PATH", "HOME", "XDG_RUNTIME_DIR") if k in os.environ}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "api.cli", *args, cwd=ROOT, env={**base, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    async with asyncio.timeout(120):  # a hung command fails the test instead of the run
        out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def messages(stderr: str) -> list[str]:
    """The human lines of stderr (JSON log lines aside)."""
    return [line for line in stderr.splitlines() if line and not line.startswith("{")]


def run_paht(
    args: list[str], database: DatabaseUrls, tmp_path: Path
) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        DATABASE_URL=database.app,
        DATABASE_OWNER_URL=database.owner,
        PAHT_DATA_DIR=str(tmp_path),
    )
    env.pop("PAHT_JWT_SECRET", None)  # the test below relies on its absence
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
