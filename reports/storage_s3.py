"""Attachments in an S3-compatible object store, shared by every API process.

Several replicas with their own media folders cannot serve each other's uploads; an object store
(the protocol provincial clouds offer) is one place for all of them. boto3 is synchronous, so
every call runs in a worker thread: the event loop never waits on the network. The client is
thread-safe and keeps a connection pool.

The API still serves the files under ``/media`` (api/media_s3.py), with the headers of
api/media_files.py, so clients never need to reach the store and the store needs no public
access."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

from reports.storage import validate_key

CHUNK_BYTES = 64 * 1024
_MISSING = {"404", "NoSuchKey", "NotFound"}


@dataclass(frozen=True)
class StoredObject:
    """An object being read: its status (200, or 206 for a range), headers and body."""

    status: int
    headers: dict[str, str]
    body: Any  # botocore StreamingBody

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            while chunk := await asyncio.to_thread(self.body.read, CHUNK_BYTES):
                yield chunk
        finally:
            await asyncio.to_thread(self.body.close)


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class S3Storage:
    def __init__(
        self,
        *,
        bucket: str,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        path_style: bool = True,
        prefix: str = "",
    ) -> None:
        if not bucket:
            raise ValueError("PAHT_S3_BUCKET is required with PAHT_STORAGE=s3")
        self.bucket = bucket
        self.prefix = prefix
        self._client = boto3.session.Session().client(
            "s3",
            # Empty settings (compose passes unset variables as "") mean "not given".
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            config=Config(
                s3={"addressing_style": "path" if path_style else "virtual"},
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=5,
                read_timeout=30,
                max_pool_connections=20,
            ),
        )

    def _key(self, key: str) -> str:
        return self.prefix + validate_key(key)

    async def save(self, key: str, data: bytes, content_type: str) -> None:
        name = self._key(key)
        await asyncio.to_thread(
            self._client.put_object,
            Bucket=self.bucket,
            Key=name,
            Body=data,
            ContentType=content_type,
        )

    async def read(self, key: str) -> bytes:
        """Raises ``FileNotFoundError`` when the key does not exist, as LocalStorage does."""
        stored = await self.open(key)
        if stored is None:
            raise FileNotFoundError(key)
        return b"".join([chunk async for chunk in stored.chunks()])

    async def delete(self, key: str) -> None:
        """Idempotent, as S3's DeleteObject is."""
        name = self._key(key)
        await asyncio.to_thread(self._client.delete_object, Bucket=self.bucket, Key=name)

    async def exists(self, key: str) -> bool:
        name = self._key(key)
        try:
            await asyncio.to_thread(self._client.head_object, Bucket=self.bucket, Key=name)
        except ClientError as error:
            if _code(error) in _MISSING:
                return False
            raise
        return True

    async def open(
        self, key: str, byte_range: str | None = None, if_none_match: str | None = None
    ) -> StoredObject | None:
        """The object (or ``byte_range``, an HTTP ``Range`` value), None when missing; status
        304 without a body when ``if_none_match`` names its ETag."""
        name = self._key(key)
        extra = {"Range": byte_range} if byte_range else {}
        if if_none_match:
            extra["IfNoneMatch"] = if_none_match
        try:
            answer = await asyncio.to_thread(
                self._client.get_object, Bucket=self.bucket, Key=name, **extra
            )
        except ClientError as error:
            if _code(error) in _MISSING:
                return None
            if _code(error) in ("304", "NotModified"):
                return StoredObject(304, {"etag": if_none_match or ""}, None)
            if _code(error) == "InvalidRange":
                raise RangeNotSatisfiable() from error
            raise
        headers = {"accept-ranges": "bytes", "content-length": str(answer["ContentLength"])}
        if etag := answer.get("ETag"):
            headers["etag"] = etag
        if modified := answer.get("LastModified"):
            headers["last-modified"] = modified.strftime("%a, %d %b %Y %H:%M:%S GMT")
        status = 200
        if content_range := answer.get("ContentRange"):
            headers["content-range"] = content_range
            status = 206
        return StoredObject(status, headers, answer["Body"])


class RangeNotSatisfiable(Exception):
    """The requested byte range lies outside the object."""
