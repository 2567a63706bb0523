"""A local SMTP sink for development: accepts every message PAHT sends and prints it, decoded
(the outbox's e-mail goes to 127.0.0.1:1025 unless PAHT_SMTP_HOST/PAHT_SMTP_PORT say otherwise).

    .venv/bin/python tools/mail_sink.py [--port 1025] [--save DIR]

Each message is also written to DIR as an .eml file when ``--save`` is given."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email
import email.policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class Printer:
    def __init__(self, save: Path | None) -> None:
        self.save = save
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        self.count += 1
        body = message.get_body(("plain",))
        print(f"--- message {self.count} " + "-" * 50)
        for header in ("Message-ID", "Date", "From", "To", "Subject", "Content-Language"):
            print(f"{header}: {message[header]}")
        print()
        print(body.get_content() if body else "")
        if self.save:
            self.save.mkdir(parents=True, exist_ok=True)
            (self.save / f"{self.count:04d}.eml").write_bytes(raw)
        return "250 Message accepted"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--save", type=Path, default=None)
    args = parser.parse_args()
    controller = Controller(Printer(args.save), hostname=args.host, port=args.port)
    controller.start()
    print(f"SMTP sink listening on {args.host}:{args.port} (Ctrl-C to stop)")
    try:
        await asyncio.Event().wait()
    finally:
        controller.stop()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
