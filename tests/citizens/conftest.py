"""Real parts for the citizens' tests: an SMTP server and the outbox pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from outbox.channels import Senders, SmtpConfig
from outbox.runner import Outbox, RetryPolicy
from tests.conftest import serving
from tests.support.mail import MailSink, run_mail_sink
from tests.support.receiver import Receiver


@pytest.fixture(scope="module")
def mail_server() -> Iterator[tuple[MailSink, int]]:
    yield from run_mail_sink()


@pytest.fixture
def mail(mail_server: tuple[MailSink, int]) -> MailSink:
    sink, _ = mail_server
    sink.received.clear()
    return sink


@pytest.fixture
def outbox(mail_server: tuple[MailSink, int]) -> Outbox:
    _, port = mail_server
    smtp = SmtpConfig(host="127.0.0.1", port=port, start_tls=False, sender="PAHT <no-reply@test>")
    return Outbox(
        Senders.build(smtp, 5, allow_private=True), RetryPolicy(base_seconds=60, max_attempts=3)
    )


@pytest.fixture(scope="module")
async def receiver_server() -> AsyncIterator[tuple[Receiver, str]]:
    """A real HTTP server standing in for the tenant's SMS gateway."""
    receiver = Receiver()
    async with serving(receiver.app()) as url:
        yield receiver, url
