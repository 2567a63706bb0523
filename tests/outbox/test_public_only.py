"""The connect-time guard (core/net.py): a name is checked on the addresses the socket is
opened to, so a name that resolves elsewhere after the pre-check (DNS rebinding) still cannot
reach the server's own network. Against a real receiver on loopback."""

from __future__ import annotations

import httpx
import pytest

from core.net import outbound_client
from tests.support.receiver import Receiver


async def test_loopback_is_refused_at_connect_time_without_any_pre_check(
    receiver_server: tuple[Receiver, str],
) -> None:
    receiver, url = receiver_server
    receiver.hits.clear()
    by_name = url.replace("127.0.0.1", "localhost") + "/rebound"
    async with outbound_client(5, allow_private=False) as client:
        with pytest.raises(httpx.ConnectError, match="not a public address"):
            await client.post(by_name, content=b"{}")
        with pytest.raises(httpx.ConnectError, match="not a public address"):
            await client.post(url + "/rebound", content=b"{}")
    assert receiver.at("/rebound") == []

    # The same request reaches the receiver when the deployment allows private hosts: the
    # refusal above is the guard's, not a receiver that is down.
    async with outbound_client(5, allow_private=True) as client:
        answer = await client.post(by_name, content=b"{}")
    assert answer.status_code == 200
    assert len(receiver.at("/rebound")) == 1
