"""A real `paht serve` process delivers the outbox and is killed (SIGKILL) in the middle of a
batch; after the restart (here: the next pass, in another process) every message has been
delivered, none is lost, and a message delivered twice carries the same id both times."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from api.database import DatabaseUrls
from outbox.enqueue import send_email
from outbox.models import OutboxMessage
from outbox.runner import Outbox
from permissions.session import tenant_transaction
from reports.jobs import deliver_once
from tests.conftest import TEST_SECRET
from tests.support.mail import MailSink
from tests.support.server import ApiProcess

MESSAGES = 12


async def test_a_runner_killed_mid_batch_loses_nothing(
    database: DatabaseUrls,
    pilot: dict[str, Any],
    mail_server: tuple[MailSink, int],
    mail: MailSink,
    outbox: Outbox,
    tmp_path: Path,
) -> None:
    sink, port = mail_server
    tenant = pilot["tenants"]["sa-pa"]
    # Earlier tests leave messages queued in the shared database; sent first at the slow relay's
    # pace they would hold ours back, so they go out now.
    sink.delay = 0
    while (drained := await deliver_once(outbox)).sent:
        assert drained.errors == []
    batch = uuid.uuid4().hex[:8]
    async with tenant_transaction(tenant.id):
        ids = [
            await send_email(tenant.id, f"crash-{batch}-{i}@example.vn", f"Thư {i}", "Nội dung.")
            for i in range(MESSAGES)
        ]
    sink.delay = 0.25  # a slow relay: the kill lands while the batch is going out

    api = ApiProcess(
        database.app, "", tmp_path, TEST_SECRET,
        PAHT_JOBS_INTERVAL_SECONDS="3600", PAHT_OUTBOX_INTERVAL_SECONDS="0.2",
        PAHT_SMTP_HOST="127.0.0.1", PAHT_SMTP_PORT=str(port), PAHT_SMTP_STARTTLS="false",
    )  # fmt: skip
    await api.start()
    assert api.process is not None
    ours = {f"<{i}@paht>" for i in ids}
    try:
        deadline = time.monotonic() + 60
        while sum(m.message["Message-ID"] in ours for m in sink.received) < 3:
            assert time.monotonic() < deadline, api.log()
            await asyncio.sleep(0.05)
        api.process.kill()  # SIGKILL: no shutdown, no clean-up, mid-batch
        await api.process.wait()
    finally:
        await api.stop()
    before = Counter(
        m.message["Message-ID"] for m in sink.received if m.message["Message-ID"] in ours
    )
    assert 3 <= len(before) < MESSAGES  # killed with part of the batch still to go

    async with tenant_transaction(tenant.id):
        pending = await OutboxMessage.filter(tenant_id=tenant.id, id__in=ids, status="PENDING")
    assert len(pending) >= MESSAGES - len(before)

    sink.delay = 0
    # The next runner: until the database has ended the dead process's session, its advisory
    # lock is held and a pass is skipped (as the next pass of a real runner would be).
    deadline = time.monotonic() + 30
    while (stats := await deliver_once(outbox, tenant_codes=["sa-pa"])).skipped:
        assert time.monotonic() < deadline, "the dead runner's lock was never released"
        await asyncio.sleep(0.1)
    assert stats.errors == []
    delivered = Counter(
        m.message["Message-ID"] for m in sink.received if m.message["Message-ID"] in ours
    )
    assert set(delivered) == ours  # none lost
    # At least once: a message the dead process had sent but not yet marked goes out again,
    # under the same id (so the receiver can drop it).
    assert all(n in (1, 2) for n in delivered.values())
    async with tenant_transaction(tenant.id):
        rows = await OutboxMessage.filter(tenant_id=tenant.id, id__in=ids)
    assert {r.status for r in rows} == {"SENT"}
