"""The pooled database client, for work that must not run in the caller's transaction."""

from __future__ import annotations

from tortoise import connections
from tortoise.backends.base.client import BaseDBAsyncClient


def root_client() -> BaseDBAsyncClient:
    """The pooled client itself, even when called inside a transaction."""
    client = connections.get("default")
    while hasattr(client, "_parent"):
        client = client._parent
    return client
