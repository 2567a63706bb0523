"""``media_url`` on POST: PAHT fetches the one image and stores it like an upload (the same
``reports.media.process_upload``: type sniffed, size capped, EXIF stripped). The fetch is
guarded against being turned on the server's own network: http(s) only, no redirects, every
address the socket opens to must be public (checked at connect time, core/net.py, unless the
deployment allows private hosts, for tests and closed networks), a timeout and a byte cap."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httpx

from core.errors import DomainError
from core.net import outbound_client
from reports.media import MediaLimits, ProcessedMedia, process_upload
from reports.media_formats import MediaKind, media_error

TIMEOUT_SECONDS = 10


def _refused() -> DomainError:
    return media_error(
        "MEDIA_URL_UNREACHABLE",
        "Không tải được ảnh từ địa chỉ `media_url`.",
        "The image at media_url could not be fetched.",
    )


async def _fetch(url: str, cap: int, allow_private: bool) -> tuple[bytes, str | None]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refused()
    headers = {"User-Agent": "PAHT-Open311/1"}
    try:
        async with (
            outbound_client(TIMEOUT_SECONDS, allow_private=allow_private) as client,
            client.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code != 200:  # a redirect is answered as the error it is
                raise _refused()
            data = bytearray()
            async for chunk in response.aiter_bytes():
                data += chunk
                if len(data) > cap:  # one byte over is enough for process_upload to refuse
                    break
            return bytes(data[: cap + 1]), response.headers.get("Content-Type")
    except (httpx.HTTPError, ValueError):
        raise _refused() from None


async def fetch_image(
    url: str, limits: MediaLimits, *, allow_private: bool = False
) -> ProcessedMedia:
    if len(url) > 2000:
        raise _refused()
    data, content_type = await _fetch(url, limits.max_image_bytes, allow_private)
    media = await asyncio.to_thread(process_upload, data, content_type, None, limits)
    if media.kind is not MediaKind.IMAGE:
        raise media_error(
            "UNSUPPORTED_MEDIA_TYPE",
            "Địa chỉ `media_url` phải là một ảnh.",
            "media_url must point to an image.",
        )
    return media
