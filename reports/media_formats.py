"""What an attachment may be: limits, kinds, the accepted formats and how they are recognised.

Shared by ``reports.media`` (the entry point), ``reports.media_images`` and
``reports.media_video``. Sniffing looks at magic bytes only; it routes a file to the pipeline
that really parses it and refuses obvious impostors cheaply, but it proves nothing by itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import DomainError
from core.labels import Labelled

MIB = 1024 * 1024
FIELD = "attachments"


@dataclass(frozen=True)
class MediaLimits:
    max_image_bytes: int = 10 * MIB
    max_video_bytes: int = 50 * MIB
    max_images: int = 5
    max_videos: int = 1
    max_pixels: int = 40_000_000
    thumbnail_size: int = 320
    max_video_seconds: float = 120
    # Budget for checking one video (wall clock and CPU; see reports.media_sandbox).
    video_probe_seconds: float = 20
    video_memory_bytes: int = 1024 * MIB


class MediaKind(Labelled):
    IMAGE = "image", "ảnh", "photo"
    VIDEO = "video", "video", "video"


@dataclass(frozen=True)
class ProcessedMedia:
    kind: MediaKind
    content_type: str
    data: bytes
    thumbnail: bytes | None
    thumbnail_content_type: str | None
    width: int | None
    height: int | None
    size: int
    sha256: str
    extension: str


@dataclass(frozen=True)
class MediaFormat:
    kind: MediaKind
    content_type: str
    extension: str
    pil_format: str | None = None  # Pillow plugin used to decode and re-encode images
    aliases: frozenset[str] = frozenset()  # other declared types a client may honestly send


JPEG = MediaFormat(
    MediaKind.IMAGE, "image/jpeg", "jpg", "JPEG", frozenset({"image/jpg", "image/pjpeg"})
)
PNG = MediaFormat(MediaKind.IMAGE, "image/png", "png", "PNG", frozenset({"image/x-png"}))
WEBP = MediaFormat(MediaKind.IMAGE, "image/webp", "webp", "WEBP")
# Phones mislabel MP4 and QuickTime interchangeably; both are ISO BMFF, so accept either label.
_BMFF_TYPES = frozenset({"video/mp4", "video/quicktime", "video/x-m4v", "video/3gpp"})
MP4 = MediaFormat(MediaKind.VIDEO, "video/mp4", "mp4", aliases=_BMFF_TYPES)
MOV = MediaFormat(MediaKind.VIDEO, "video/quicktime", "mov", aliases=_BMFF_TYPES)
WEBM = MediaFormat(MediaKind.VIDEO, "video/webm", "webm")

# ISO BMFF major brands of playable video. HEIC/AVIF stills and M4A audio share the container
# and must not slip through as "video".
_VIDEO_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"M4VH",
     b"M4VP", b"dash", b"mmp4", b"msnv", b"MSNV", b"XAVC", b"3gp4", b"3gp5", b"3gp6", b"3g2a"}
)  # fmt: skip


def media_error(code: str, message_vi: str, message_en: str) -> DomainError:
    return DomainError(code, message_vi, message_en, FIELD)


def corrupt_video() -> DomainError:
    return media_error(
        "MEDIA_CORRUPT",
        "Tệp video bị hỏng, không đầy đủ hoặc không phát được.",
        "The video file is corrupt, incomplete or not playable.",
    )


def human_size(n: int) -> str:
    if n >= MIB:
        return f"{n / MIB:.3g} MB"
    if n >= 1024:
        return f"{n / 1024:.3g} KB"
    return f"{n} byte"


def _vint(data: bytes, pos: int) -> tuple[int, int] | None:
    """Decode an EBML variable-length integer at ``pos``; returns (value, next position)."""
    if pos >= len(data) or data[pos] == 0:
        return None
    length = 9 - data[pos].bit_length()
    if pos + length > len(data):
        return None
    value = data[pos] & (0xFF >> length)
    for byte in data[pos + 1 : pos + length]:
        value = (value << 8) | byte
    return value, pos + length


def _ebml_doctype(data: bytes) -> bytes | None:
    """The DocType of an EBML header ("webm", "matroska"), which tells WebM from plain MKV."""
    idx = data.find(b"\x42\x82", 4, 64)
    parsed = _vint(data, idx + 2) if idx >= 0 else None
    if parsed is None:
        return None
    size, start = parsed
    return data[start : start + size] if size <= 32 else None


def sniff(data: bytes) -> MediaFormat | None:
    """Identify the claimed format from magic bytes; ``None`` when unsupported."""
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    if data[4:8] == b"ftyp" and len(data) >= 16:
        box_size = int.from_bytes(data[:4], "big")
        brand = data[8:12]
        if 16 <= box_size <= len(data):
            if brand == b"qt  ":
                return MOV
            if brand in _VIDEO_BRANDS:
                return MP4
        return None
    if data.startswith(b"\x1a\x45\xdf\xa3") and _ebml_doctype(data) == b"webm":
        return WEBM
    return None
