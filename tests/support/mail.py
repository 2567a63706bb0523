"""A real SMTP server (aiosmtpd) for the outbox tests: it keeps every message it accepts."""

from __future__ import annotations

import asyncio
import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from tests.support.server import free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class MailSink:
    """``delay`` seconds before accepting each message (a slow relay); ``refuse`` answers 451."""

    received: list[Received] = field(default_factory=list)
    delay: float = 0
    refuse: bool = False

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        if self.refuse:
            return "451 4.3.0 try again later"
        if self.delay:
            await asyncio.sleep(self.delay)
        parsed = email.message_from_bytes(
            envelope.original_content or envelope.content,  # type: ignore[attr-defined]
            policy=email.policy.default,
        )
        self.received.append(
            Received(envelope.mail_from, list(envelope.rcpt_tos), parsed)  # type: ignore[attr-defined]
        )
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [r.message for r in self.received if address in r.rcpt_tos]


def run_mail_sink() -> Iterator[tuple[MailSink, int]]:
    sink = MailSink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()
