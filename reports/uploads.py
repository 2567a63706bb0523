"""From GraphQL multipart uploads to validated, EXIF-free media (before anything is written)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from core.errors import DomainError
from reports.media import MediaLimits, ProcessedMedia, check_counts, process_upload

_CHUNK = 256 * 1024


async def _read_capped(upload: Any, cap: int) -> bytes:
    """Read at most ``cap`` + 1 bytes: an oversized file is refused without buffering it all."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await upload.read(_CHUNK):
        size += len(chunk)
        if size > cap:
            raise DomainError(
                "MEDIA_TOO_LARGE",
                "Tệp đính kèm quá lớn.",
                f"The attachment is larger than {cap // (1024 * 1024)} MiB.",
                "attachments",
            )
        chunks.append(chunk)
    return b"".join(chunks)


async def read_uploads(uploads: Sequence[Any], limits: MediaLimits) -> tuple[ProcessedMedia, ...]:
    if len(uploads) > max(limits.max_images, limits.max_videos):
        raise DomainError(
            "TOO_MANY_ATTACHMENTS",
            f"Tối đa {limits.max_images} ảnh hoặc {limits.max_videos} video.",
            f"At most {limits.max_images} photos or {limits.max_videos} video.",
            "attachments",
        )
    cap = max(limits.max_image_bytes, limits.max_video_bytes)
    processed = []
    for upload in uploads:
        data = await _read_capped(upload, cap)
        content_type = getattr(upload, "content_type", None)
        filename = getattr(upload, "filename", None)
        # Parsing, decoding and re-encoding untrusted media is CPU work: off the event loop.
        processed.append(
            await asyncio.to_thread(process_upload, data, content_type, filename, limits)
        )
    check_counts([m.kind for m in processed], limits)
    return tuple(processed)
