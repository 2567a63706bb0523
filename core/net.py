"""Whether an address a tenant configured is on the public internet. Outgoing requests to
addresses that tenants or citizens supply (webhooks, SMS and Zalo gateways, Open311
``media_url``) must not reach the server's own network unless the deployment allows it.

Checking a name before the request is not enough: the name can resolve to a public address
for the check and to ``127.0.0.1`` a moment later, when the client resolves it again (DNS
rebinding). :func:`public_only_transport` therefore checks at connect time, on the addresses
the socket is actually opened to, and connects to exactly the address it checked."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import typing
from urllib.parse import urlsplit

import certifi
import httpcore
import httpx


def _is_public_address(address: str) -> bool:
    return ipaddress.ip_address(address).is_global


def is_public_host(host: str, port: int) -> bool:
    """Every address the name resolves to is global (blocking: resolve off the event loop)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):  # unreachable, or a name no resolver accepts
        return False
    return bool(infos) and all(_is_public_address(str(i[4][0])) for i in infos)


async def is_public_url(url: str) -> bool:
    """An http(s) URL whose host resolves to public addresses only."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return await asyncio.to_thread(is_public_host, parts.hostname, port)


class PublicOnlyBackend(httpcore.AsyncNetworkBackend):
    """Resolves the host once, refuses unless every address is global, and opens the socket
    to the first of those very addresses (TLS still verifies the certificate for the name)."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(timeout):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}") from exc
        addresses = [str(info[4][0]) for info in infos]
        if not addresses or not all(_is_public_address(a) for a in addresses):
            raise httpcore.ConnectError(f"refused: {host} is not a public address")
        return await self._inner.connect_tcp(
            addresses[0], port, timeout, local_address, socket_options
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("refused: unix sockets are not public addresses")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PublicOnlyTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a connection pool whose every connection is checked by
    :class:`PublicOnlyBackend`. httpx has no public hook for the network backend, so the
    pool it built is replaced by one built the same way with the guarded backend."""

    def __init__(self) -> None:
        super().__init__()
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl.create_default_context(cafile=certifi.where()),
            network_backend=PublicOnlyBackend(),
        )


def outbound_client(timeout_seconds: float, *, allow_private: bool) -> httpx.AsyncClient:
    """The client for addresses tenants or citizens supply: no redirects, and unless the
    deployment allows private hosts, connections to public addresses only."""
    transport = None if allow_private else PublicOnlyTransport()
    return httpx.AsyncClient(timeout=timeout_seconds, follow_redirects=False, transport=transport)
