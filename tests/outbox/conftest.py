"""Real parts for the outbox: an SMTP server, and the channels pointed at it."""

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
    sink.delay = 0
    sink.refuse = False
    return sink


@pytest.fixture
def outbox(mail_server: tuple[MailSink, int]) -> Outbox:
    _, port = mail_server
    smtp = SmtpConfig(host="127.0.0.1", port=port, start_tls=False, sender="PAHT <no-reply@test>")
    # The receiver is on 127.0.0.1: private addresses allowed (tests/outbox/test_webhooks.py
    # checks that they are refused otherwise).
    senders = Senders.build(smtp, 5, allow_private=True)
    return Outbox(senders, RetryPolicy(base_seconds=60, max_attempts=3))


@pytest.fixture(scope="module")
async def receiver_server() -> AsyncIterator[tuple[Receiver, str]]:
    receiver = Receiver()
    async with serving(receiver.app()) as url:
        yield receiver, url


@pytest.fixture
def receiver(receiver_server: tuple[Receiver, str]) -> Receiver:
    r, _ = receiver_server
    r.hits.clear()
    r.failing.clear()
    return r
