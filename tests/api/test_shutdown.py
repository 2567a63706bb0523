"""A stopping process does not wait forever for a client stalled mid-upload: after
PAHT_GRACEFUL_SHUTDOWN_SECONDS its connections are closed and it exits."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path
from typing import Any

from api.database import DatabaseUrls
from tests.conftest import TEST_SECRET
from tests.support.server import ApiProcess

BOUNDARY = "paht-stalled-upload"


def half_a_multipart_request(port: int) -> bytes:
    """Headers announcing a 2 MB body, then the operation and the start of a file: the rest
    never comes. Anonymous, to Sa Pa (the demo tenant), as a citizen app would send it."""
    operations = json.dumps(
        {"query": "mutation($f: Upload!) { x(f: $f) }", "variables": {"f": None}}
    )
    head = (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
            f'{operations}\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="map"\r\n\r\n'
            f'{{"0": ["variables.f"]}}\r\n--{BOUNDARY}\r\n'
            'Content-Disposition: form-data; name="0"; filename="a.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + b"\xff\xd8\xff"
        + b"\0" * 20_000
    )
    request = (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        "X-Paht-Tenant: sa-pa\r\nContent-Length: 2000000\r\n\r\n"
    ).encode()
    return request + head


async def test_sigterm_closes_a_stalled_upload_after_the_deadline(
    database: DatabaseUrls, pilot: dict[str, Any], tmp_path: Path
) -> None:
    api = ApiProcess(database.app, "", tmp_path, TEST_SECRET, PAHT_GRACEFUL_SHUTDOWN_SECONDS="2")
    await api.start()
    assert api.process is not None
    reader, writer = await asyncio.open_connection("127.0.0.1", api.port)
    try:
        writer.write(half_a_multipart_request(api.port))
        await writer.drain()
        await asyncio.sleep(1)  # the server is now waiting for the rest of the body
        assert api.process.returncode is None

        stopped_at = time.monotonic()
        api.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(60):  # without a deadline the process never exits
            await api.process.wait()
            closed = await reader.read()  # the server closed the stalled connection
        waited = time.monotonic() - stopped_at
    finally:
        writer.close()
        await api.stop()
    assert b"HTTP/1.1 200" not in closed
    log = api.log()
    assert "timeout graceful shutdown exceeded" in log, log
    print(f"stopped {waited:.1f} s after SIGTERM (deadline 2 s)")
