"""Validation and sanitising of report attachments (photos and short videos).

Uploads come from anonymous-ish citizens' phones, so nothing the client says is trusted: the real
type is sniffed from the bytes, sizes are checked before any decoding, and each kind goes through
a pipeline that really parses it and stores a metadata-free copy (``reports.media_images``,
``reports.media_video``). Everything here is pure and synchronous; callers run it in a worker
thread.
"""

from __future__ import annotations

from collections.abc import Iterable

from reports.media_formats import (
    FIELD,
    MIB,
    MediaFormat,
    MediaKind,
    MediaLimits,
    ProcessedMedia,
    human_size,
    media_error,
    sniff,
)
from reports.media_images import process_image
from reports.media_sandbox import process_video_isolated

__all__ = [
    "FIELD",
    "MIB",
    "MediaKind",
    "MediaLimits",
    "ProcessedMedia",
    "check_counts",
    "process_upload",
]

# Declared types that say nothing about the content; browsers send them when unsure.
_GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})


def _normalise_mime(declared: str | None) -> str:
    """``"Image/JPEG; charset=binary"`` -> ``"image/jpeg"``; capped since it is client text."""
    return (declared or "").split(";", 1)[0].strip().lower()[:100]


def _declared_ok(mime: str, fmt: MediaFormat) -> bool:
    """A declared type is fine if absent, generic, or naming the sniffed format (or its kind)."""
    return (
        mime in _GENERIC_TYPES
        or mime == fmt.content_type
        or mime in fmt.aliases
        or mime == f"{fmt.kind.value}/*"
    )


def process_upload(
    data: bytes,
    declared_content_type: str | None,
    filename: str | None,
    limits: MediaLimits,
) -> ProcessedMedia:
    """Validate one upload and return what may be stored.

    ``filename`` is deliberately ignored: it is client-controlled and the stored extension comes
    from the sniffed type. Raises ``DomainError`` (field "attachments") on any refusal.
    """
    del filename  # accepted for the caller's convenience, never trusted
    if not data:
        raise media_error("MEDIA_EMPTY", "Tệp đính kèm trống.", "The attached file is empty.")
    fmt = sniff(data)
    if fmt is None:
        raise media_error(
            "UNSUPPORTED_MEDIA_TYPE",
            "Định dạng tệp không được hỗ trợ. Chỉ chấp nhận ảnh JPEG, PNG, WebP "
            "và video MP4, MOV, WebM.",
            "Unsupported file type. Only JPEG, PNG and WebP images and MP4, MOV and WebM "
            "videos are accepted.",
        )
    declared = _normalise_mime(declared_content_type)
    if not _declared_ok(declared, fmt):
        raise media_error(
            "MEDIA_TYPE_MISMATCH",
            f"Loại tệp khai báo ({declared}) không khớp với nội dung thực tế ({fmt.content_type}).",
            f"The declared file type ({declared}) does not match the actual "
            f"content ({fmt.content_type}).",
        )
    is_image = fmt.kind is MediaKind.IMAGE
    limit = limits.max_image_bytes if is_image else limits.max_video_bytes
    if len(data) > limit:
        what_vi, what_en = ("Ảnh", "image") if is_image else ("Video", "video")
        raise media_error(
            "MEDIA_TOO_LARGE",
            f"{what_vi} vượt quá dung lượng tối đa {human_size(limit)}.",
            f"The {what_en} exceeds the maximum size of {human_size(limit)}.",
        )
    if is_image:
        return process_image(data, fmt, limits)
    return process_video_isolated(data, fmt, limits)


def check_counts(kinds: Iterable[MediaKind], limits: MediaLimits) -> None:
    """A report carries up to ``max_images`` photos or ``max_videos`` videos, never a mix."""
    kinds = list(kinds)
    images = sum(1 for k in kinds if k is MediaKind.IMAGE)
    videos = len(kinds) - images
    if images and videos:
        raise media_error(
            "TOO_MANY_ATTACHMENTS",
            "Chỉ được đính kèm ảnh hoặc video, không được kết hợp cả hai.",
            "Attach either photos or a video, not both.",
        )
    if images > limits.max_images:
        raise media_error(
            "TOO_MANY_ATTACHMENTS",
            f"Chỉ được đính kèm tối đa {limits.max_images} ảnh.",
            f"At most {limits.max_images} photos may be attached.",
        )
    if videos > limits.max_videos:
        raise media_error(
            "TOO_MANY_ATTACHMENTS",
            f"Chỉ được đính kèm tối đa {limits.max_videos} video.",
            f"At most {limits.max_videos} video(s) may be attached.",
        )
