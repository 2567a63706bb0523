"""Whether an address a tenant configured is on the public internet. Outgoing requests to
addresses that tenants or citizens supply (webhooks, SMS and Zalo gateways, Open311
``media_url``) must not reach the server's own network unless the deployment allows it."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


def is_public_host(host: str, port: int) -> bool:
    """Every address the name resolves to is global (blocking: resolve off the event loop)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):  # unreachable, or a name no resolver accepts
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_global for i in infos)


async def is_public_url(url: str) -> bool:
    """An http(s) URL whose host resolves to public addresses only."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return await asyncio.to_thread(is_public_host, parts.hostname, port)
