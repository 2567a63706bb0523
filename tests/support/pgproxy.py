"""A PostgreSQL connection that can be cut: a Unix-socket relay in front of the real server.

The API under test connects to the relay's socket directory instead of the server's. ``cut()``
closes every relayed connection and stops accepting new ones (the database is "down" as far
as the API can tell: its pool's connections die, new ones are refused); ``restore()`` accepts
again. ``starting()`` answers every new connection as a PostgreSQL server that is still starting
does (FATAL 57P03) and counts them, so a test can wait until its processes have really tried.
Otherwise nothing of PostgreSQL is simulated: every byte goes to the real server."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from pathlib import Path

SOCKET_NAME = ".s.PGSQL.5432"
_STARTING_UP = (
    b"".join(
        code + text + b"\0"
        for code, text in (
            (b"S", b"FATAL"),
            (b"V", b"FATAL"),
            (b"C", b"57P03"),
            (b"M", b"the database system is starting up"),
        )
    )
    + b"\0"
)


class PgRelay:
    def __init__(self, server_dir: Path, relay_dir: Path) -> None:
        self.upstream = str(server_dir / SOCKET_NAME)
        self.dir = relay_dir
        self.path = str(relay_dir / SOCKET_NAME)
        self._server: asyncio.base_events.Server | None = None
        self._pipes: set[asyncio.StreamWriter] = set()
        self.refused: set[int] = set()  # processes answered "starting up" since starting()

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

    async def starting(self) -> None:
        """Like ``cut()``, but a connection gets PostgreSQL's own "starting up" refusal."""
        await self.cut()
        self.refused = set()
        self._clear_socket()
        self._server = await asyncio.start_unix_server(self._refuse, path=self.path)

    async def _refuse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError, asyncio.IncompleteReadError):
            length = int.from_bytes(await reader.readexactly(4), "big")
            await reader.readexactly(length - 4)  # the startup packet
            writer.write(b"E" + (len(_STARTING_UP) + 4).to_bytes(4, "big") + _STARTING_UP)
            await writer.drain()
            peer = writer.get_extra_info("socket")
            pid, _, _ = struct.unpack(
                "3i", peer.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
            )
            self.refused.add(pid)
        writer.close()

    async def refused_processes(self, count: int) -> None:
        """Until ``count`` different processes have been refused (they start slowly on a busy
        box; a fixed sleep would restore the database before some of them tried)."""
        async with asyncio.timeout(90):
            while len(self.refused) < count:  # noqa: ASYNC110 - a set filled by the handler
                await asyncio.sleep(0.05)

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
        await self.cut()
        await self.start()
