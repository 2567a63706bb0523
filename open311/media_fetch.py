"""``media_url`` on POST: PAHT fetches the one image and stores it like an upload (the same
``reports.media.process_upload``: type sniffed, size capped, EXIF stripped). The fetch is
guarded against being turned on the server's own network: http(s) only, no redirects, every
address of the host must be public (unless the deployment allows private hosts, for tests and
closed networks), a timeout and a byte cap."""

from __future__ import annotations

import asyncio
import urllib.request
from urllib.parse import urlsplit

from core.errors import DomainError
from core.net import is_public_host
from reports.media import MediaLimits, ProcessedMedia, process_upload
from reports.media_formats import MediaKind, media_error

TIMEOUT_SECONDS = 10


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a redirect is answered as the error it then is


def _refused() -> DomainError:
    return media_error(
        "MEDIA_URL_UNREACHABLE",
        "Không tải được ảnh từ địa chỉ `media_url`.",
        "The image at media_url could not be fetched.",
    )


def _fetch(url: str, cap: int, allow_private: bool) -> tuple[bytes, str | None]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refused()
    port = parts.port or (443 if parts.scheme == "https" else 80)
    if not allow_private and not is_public_host(parts.hostname, port):
        raise _refused()
    opener = urllib.request.build_opener(_NoRedirects())
    request = urllib.request.Request(url, headers={"User-Agent": "PAHT-Open311/1"})
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            if response.status != 200:
                raise _refused()
            data = response.read(cap + 1)
            return data, response.headers.get("Content-Type")
    except (OSError, ValueError):
        raise _refused() from None


async def fetch_image(
    url: str, limits: MediaLimits, *, allow_private: bool = False
) -> ProcessedMedia:
    if len(url) > 2000:
        raise _refused()
    data, content_type = await asyncio.to_thread(_fetch, url, limits.max_image_bytes, allow_private)
    media = await asyncio.to_thread(process_upload, data, content_type, None, limits)
    if media.kind is not MediaKind.IMAGE:
        raise media_error(
            "UNSUPPORTED_MEDIA_TYPE",
            "Địa chỉ `media_url` phải là một ảnh.",
            "media_url must point to an image.",
        )
    return media
