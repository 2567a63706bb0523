"""Where attachment bytes live.

Services talk to the small ``Storage`` protocol: the local-disk backend here (development, or
several processes sharing one folder) and the S3-compatible object store of
``reports/storage_s3.py`` are interchangeable. Keys are server-generated relative paths (see
``make_key``) and are still validated strictly, because a key that escapes the media root would
be a path-traversal hole.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable
from uuid import UUID

from core import clock

# One key segment: no leading dot (no "..", no hidden/temporary files), URL-safe characters.
_SEGMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_TOKEN = re.compile(r"[A-Za-z0-9_-]+")


@runtime_checkable
class Storage(Protocol):
    async def save(self, key: str, data: bytes, content_type: str) -> None: ...

    async def read(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...

    async def exists(self, key: str) -> bool: ...


def validate_key(key: str) -> str:
    """Refuse anything but ``seg/seg/...`` relative keys; raises ``ValueError``."""
    if not key or len(key) > 512:
        raise ValueError("storage key must be 1-512 characters")
    if "\\" in key or "\x00" in key:
        raise ValueError(f"storage key contains a forbidden character: {key!r}")
    if key.startswith("/") or Path(key).is_absolute():
        raise ValueError(f"storage key must be relative: {key!r}")
    for segment in key.split("/"):
        if segment == "..":
            raise ValueError(f"storage key must not contain '..': {key!r}")
        if not _SEGMENT.fullmatch(segment):
            raise ValueError(f"invalid storage key segment {segment!r} in {key!r}")
    return key


def make_key(
    tenant_id: UUID,
    object_id: UUID,
    extension: str,
    variant: str = "",
    *,
    now: datetime | None = None,
) -> str:
    """``"<tenant>/<yyyy>/<mm>/<object>[-<variant>].<ext>"``.

    The tenant prefix keeps tenants' files apart (easy export or purge); month folders keep
    directories small. ``now`` is the writing step's instant; it defaults to the clock.
    """
    ext = extension.lstrip(".").lower()
    if not _TOKEN.fullmatch(ext):
        raise ValueError(f"invalid extension: {extension!r}")
    if variant and not _TOKEN.fullmatch(variant):
        raise ValueError(f"invalid variant: {variant!r}")
    when = (now or clock.now()).astimezone(UTC)
    name = f"{object_id}-{variant}" if variant else str(object_id)
    return validate_key(f"{tenant_id}/{when:%Y}/{when:%m}/{name}.{ext}")


def _write_atomic(path: Path, data: bytes) -> None:
    """Write via a temp file in the same directory so readers never see a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp makes 0600; a web server may need to read it
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    """Persist the rename itself; not possible (nor needed) on every platform."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class LocalStorage:
    """Files under ``root``, served by the API's media route (api/media_files.py).

    ``content_type`` is not recorded: the key's extension, derived from the sniffed type, is
    what a static file server uses.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()

    def _path(self, key: str) -> Path:
        """Map a key to its file; blocking (resolves symlinks), so call it in the worker thread."""
        path = (self.root / validate_key(key)).resolve()
        # Defence in depth: a symlink inside the root must not lead outside it.
        if not path.is_relative_to(self.root):
            raise ValueError(f"storage key escapes the storage root: {key!r}")
        return path

    async def save(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(lambda: _write_atomic(self._path(key), data))

    async def read(self, key: str) -> bytes:
        """Raises ``FileNotFoundError`` when the key does not exist."""
        return await asyncio.to_thread(lambda: self._path(key).read_bytes())

    async def delete(self, key: str) -> None:
        """Idempotent: deleting a missing key is not an error (retries, double clicks)."""
        await asyncio.to_thread(lambda: self._path(key).unlink(missing_ok=True))

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(lambda: self._path(key).is_file())
