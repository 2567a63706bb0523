"""A PostgreSQL connection that can be cut: a Unix-socket relay in front of the real server.

The API under test connects to the relay's socket directory instead of the server's. ``cut()``
closes every relayed connection and stops accepting new ones (the database is "down" as far
as the API can tell: its pool's connections die, new ones are refused); ``restore()`` accepts
again. Nothing of PostgreSQL is simulated: every byte goes to the real server."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

SOCKET_NAME = ".s.PGSQL.5432"


class PgRelay:
    def __init__(self, server_dir: Path, relay_dir: Path) -> None:
        self.upstream = str(server_dir / SOCKET_NAME)
        self.dir = relay_dir
        self.path = str(relay_dir / SOCKET_NAME)
        self._server: asyncio.base_events.Server | None = None
        self._pipes: set[asyncio.StreamWriter] = set()

    def _clear_socket(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            Path(self.path).unlink()

    async def start(self) -> None:
        self._clear_socket()
        self._server = await asyncio.start_unix_server(self._relay, path=self.path)

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_unix_connection(self.upstream)
        except OSError:
            writer.close()
            return
        self._pipes |= {writer, up_writer}

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
        self._pipes -= {writer, up_writer}

    async def cut(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        self._clear_socket()
        for pipe in list(self._pipes):
            pipe.close()
        self._pipes.clear()

    async def restore(self) -> None:
        await self.start()
