"""Reaching PostgreSQL from a command that starts before the database does.

In a deployment the API and the migration job may start while PostgreSQL is still starting
(or restarting): they retry with exponential back-off for a bounded time, logging each attempt,
and only then give up with an error that names the database (never its password)."""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from core.errors import is_database_unavailable

log = logging.getLogger("paht.database")

FIRST_DELAY_SECONDS = 0.25
MAX_DELAY_SECONDS = 5.0


def asyncpg_dsn(url: str) -> str:
    """The libpq form asyncpg accepts, from any of the spellings the settings allow."""
    for scheme in ("asyncpg://", "postgres://"):
        if url.startswith(scheme):
            return "postgresql://" + url[len(scheme) :]
    return url


def redacted(url: str) -> str:
    """The DSN without its password, for logs and error messages."""
    parts = urlsplit(asyncpg_dsn(url))
    if parts.password is None:
        return urlunsplit(parts)
    host = parts.hostname or ""
    user = parts.username or ""
    netloc = f"{user}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def describe(error: BaseException) -> str:
    """One line for a connection failure: the innermost cause is the informative one."""
    while error.__cause__ is not None:
        error = error.__cause__
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


class DatabaseUnreachable(Exception):
    """The database did not accept a connection within the start-up budget."""

    def __init__(self, url: str, waited: float, cause: BaseException) -> None:
        self.url = redacted(url)
        self.waited = waited
        self.reason = describe(cause)
        super().__init__(f"{self.url} unreachable after {waited:.0f} s ({self.reason})")


def _retryable(error: BaseException) -> bool:
    # A timed-out attempt is a server not answering yet; a refused password or a missing
    # database is a configuration error that waiting does not fix.
    return isinstance(error, TimeoutError) or is_database_unavailable(error)


async def connect_with_retry(
    url: str, *, application_name: str, timeout_seconds: float
) -> asyncpg.Connection:
    """A dedicated connection, retried while the database is unavailable."""
    started = time.monotonic()
    delay = FIRST_DELAY_SECONDS
    attempt = 0
    while True:
        attempt += 1
        remaining = timeout_seconds - (time.monotonic() - started)
        try:
            return await asyncpg.connect(
                asyncpg_dsn(url),
                timeout=max(1.0, min(10.0, remaining)),
                server_settings={"application_name": application_name},
            )
        except Exception as error:
            if not _retryable(error):
                raise
            waited = time.monotonic() - started
            if waited + delay > timeout_seconds:
                raise DatabaseUnreachable(url, waited, error) from error
            log.warning(
                "database %s not reachable yet (%s); attempt %d, next in %.2f s",
                redacted(url),
                describe(error),
                attempt,
                delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_DELAY_SECONDS)
