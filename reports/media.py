"""Validation and sanitising of report attachments (photos and short videos).

Uploads come from anonymous-ish citizens' phones, so nothing the client says is trusted: the real
type is sniffed from the bytes, sizes are checked before any decoding, and images are re-encoded
from pixels only so that EXIF (GPS position, device serial), XMP and other metadata never reach
storage. Everything here is pure and synchronous; callers run it in a worker thread.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from PIL import Image, ImageOps

from core.errors import DomainError

MIB = 1024 * 1024
FIELD = "attachments"
# Declared types that say nothing about the content; browsers send them when unsure.
_GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
_THUMBNAIL_QUALITY = 80
# Pillow's decoders raise a zoo of exceptions on hostile or damaged input.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)


@dataclass(frozen=True)
class MediaLimits:
    max_image_bytes: int = 10 * MIB
    max_video_bytes: int = 50 * MIB
    max_images: int = 5
    max_videos: int = 1
    max_pixels: int = 40_000_000
    thumbnail_size: int = 320


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"


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
class _Format:
    kind: MediaKind
    content_type: str
    extension: str
    pil_format: str | None = None  # Pillow plugin used to decode and re-encode images
    aliases: frozenset[str] = frozenset()  # other declared types a client may honestly send


JPEG = _Format(
    MediaKind.IMAGE, "image/jpeg", "jpg", "JPEG", frozenset({"image/jpg", "image/pjpeg"})
)
PNG = _Format(MediaKind.IMAGE, "image/png", "png", "PNG", frozenset({"image/x-png"}))
WEBP = _Format(MediaKind.IMAGE, "image/webp", "webp", "WEBP")
# Phones mislabel MP4 and QuickTime interchangeably; both are ISO BMFF, so accept either label.
_BMFF_TYPES = frozenset({"video/mp4", "video/quicktime", "video/x-m4v", "video/3gpp"})
MP4 = _Format(MediaKind.VIDEO, "video/mp4", "mp4", aliases=_BMFF_TYPES)
MOV = _Format(MediaKind.VIDEO, "video/quicktime", "mov", aliases=_BMFF_TYPES)
WEBM = _Format(MediaKind.VIDEO, "video/webm", "webm")

# ISO BMFF major brands of playable video. HEIC/AVIF stills and M4A audio share the container
# and must not slip through as "video".
_VIDEO_BRANDS = frozenset(
    {b"isom", b"iso2", b"iso4", b"iso5", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"M4VH",
     b"M4VP", b"dash", b"mmp4", b"msnv", b"MSNV", b"XAVC", b"3gp4", b"3gp5", b"3gp6", b"3g2a"}
)  # fmt: skip


def _error(code: str, message_vi: str, message_en: str) -> DomainError:
    return DomainError(code, message_vi, message_en, FIELD)


def _human_size(n: int) -> str:
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


def _sniff(data: bytes) -> _Format | None:
    """Identify the real format from magic bytes; ``None`` when unsupported."""
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


def _normalise_mime(declared: str | None) -> str:
    """``"Image/JPEG; charset=binary"`` -> ``"image/jpeg"``; capped since it is client text."""
    return (declared or "").split(";", 1)[0].strip().lower()[:100]


def _declared_ok(mime: str, fmt: _Format) -> bool:
    """A declared type is fine if absent, generic, or naming the sniffed format (or its kind)."""
    return (
        mime in _GENERIC_TYPES
        or mime == fmt.content_type
        or mime in fmt.aliases
        or mime == f"{fmt.kind.value}/*"
    )


def _open(data: bytes, fmt: _Format, limits: MediaLimits) -> Image.Image:
    """Open, verify and fully decode an image, refusing bombs before pixels are decoded."""
    formats = [fmt.pil_format or ""]
    bomb = _error(
        "MEDIA_TOO_LARGE",
        "Ảnh có độ phân giải quá lớn.",
        "The image resolution is too large.",
    )
    try:
        with Image.open(io.BytesIO(data), formats=formats) as probe:
            width, height = probe.size
            if width <= 0 or height <= 0:
                raise ValueError("empty image")
            if width * height > limits.max_pixels:
                raise bomb
            probe.verify()  # checks structure/CRCs; the image is unusable afterwards
        img = Image.open(io.BytesIO(data), formats=formats)
        img.load()  # surfaces truncated or corrupt pixel data now, not in a later save()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise bomb from exc
    except _DECODE_ERRORS as exc:
        raise _error(
            "MEDIA_CORRUPT",
            "Tệp ảnh bị hỏng hoặc không đầy đủ.",
            "The image file is corrupt or incomplete.",
        ) from exc
    return img


def _orient(img: Image.Image) -> Image.Image:
    """Apply the EXIF orientation so the picture looks right once the EXIF is gone."""
    try:
        return ImageOps.exif_transpose(img) or img
    except Exception:  # EXIF is untrusted junk; a wrong rotation beats refusing the photo
        return img


def _strip(img: Image.Image, fmt: _Format) -> Image.Image:
    """A copy holding pixels only: no EXIF, XMP, ICC, text chunks or palette tricks."""
    if fmt is JPEG:
        mode = "RGB"
    elif fmt is PNG and img.mode in ("L", "LA", "RGB", "RGBA"):
        mode = img.mode
    else:
        mode = "RGBA" if img.has_transparency_data else "RGB"
    clean = img.convert(mode) if img.mode != mode else img.copy()
    clean.info = {}
    return clean


def _encode(img: Image.Image, fmt: _Format) -> bytes:
    out = io.BytesIO()
    if fmt is JPEG:
        img.save(out, "JPEG", quality=85, optimize=True)
    elif fmt is PNG:
        img.save(out, "PNG", optimize=True)
    else:
        img.save(out, "WEBP", quality=85)
    return out.getvalue()


def _thumbnail(img: Image.Image, max_side: int) -> bytes:
    """A small JPEG preview; transparency is flattened onto white rather than black."""
    thumb = img.copy()
    thumb.thumbnail((max_side, max_side))
    if thumb.mode in ("RGBA", "LA"):
        rgba = thumb.convert("RGBA")
        thumb = Image.new("RGB", rgba.size, (255, 255, 255))
        thumb.paste(rgba, mask=rgba.getchannel("A"))
    elif thumb.mode != "RGB":
        thumb = thumb.convert("RGB")
    out = io.BytesIO()
    thumb.save(out, "JPEG", quality=_THUMBNAIL_QUALITY, optimize=True)
    return out.getvalue()


def _process_image(data: bytes, fmt: _Format, limits: MediaLimits) -> ProcessedMedia:
    with _open(data, fmt, limits) as img:
        clean = _strip(_orient(img), fmt)
    encoded = _encode(clean, fmt)
    return ProcessedMedia(
        kind=MediaKind.IMAGE,
        content_type=fmt.content_type,
        data=encoded,
        thumbnail=_thumbnail(clean, limits.thumbnail_size),
        thumbnail_content_type="image/jpeg",
        width=clean.width,
        height=clean.height,
        size=len(encoded),
        sha256=hashlib.sha256(encoded).hexdigest(),
        extension=fmt.extension,
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
        raise _error("MEDIA_EMPTY", "Tệp đính kèm trống.", "The attached file is empty.")
    fmt = _sniff(data)
    if fmt is None:
        raise _error(
            "UNSUPPORTED_MEDIA_TYPE",
            "Định dạng tệp không được hỗ trợ. Chỉ chấp nhận ảnh JPEG, PNG, WebP "
            "và video MP4, MOV, WebM.",
            "Unsupported file type. Only JPEG, PNG and WebP images and MP4, MOV and WebM "
            "videos are accepted.",
        )
    declared = _normalise_mime(declared_content_type)
    if not _declared_ok(declared, fmt):
        raise _error(
            "MEDIA_TYPE_MISMATCH",
            f"Loại tệp khai báo ({declared}) không khớp với nội dung thực tế ({fmt.content_type}).",
            f"The declared file type ({declared}) does not match the actual "
            f"content ({fmt.content_type}).",
        )
    is_image = fmt.kind is MediaKind.IMAGE
    limit = limits.max_image_bytes if is_image else limits.max_video_bytes
    if len(data) > limit:
        what_vi, what_en = ("Ảnh", "image") if is_image else ("Video", "video")
        raise _error(
            "MEDIA_TOO_LARGE",
            f"{what_vi} vượt quá dung lượng tối đa {_human_size(limit)}.",
            f"The {what_en} exceeds the maximum size of {_human_size(limit)}.",
        )
    if is_image:
        return _process_image(data, fmt, limits)
    # No transcoder is available, so videos are kept byte for byte (their metadata included).
    return ProcessedMedia(
        kind=MediaKind.VIDEO,
        content_type=fmt.content_type,
        data=data,
        thumbnail=None,
        thumbnail_content_type=None,
        width=None,
        height=None,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        extension=fmt.extension,
    )


def check_counts(kinds: Iterable[MediaKind], limits: MediaLimits) -> None:
    """A report carries up to ``max_images`` photos or ``max_videos`` videos, never a mix."""
    kinds = list(kinds)
    images = sum(1 for k in kinds if k is MediaKind.IMAGE)
    videos = len(kinds) - images
    if images and videos:
        raise _error(
            "TOO_MANY_ATTACHMENTS",
            "Chỉ được đính kèm ảnh hoặc video, không được kết hợp cả hai.",
            "Attach either photos or a video, not both.",
        )
    if images > limits.max_images:
        raise _error(
            "TOO_MANY_ATTACHMENTS",
            f"Chỉ được đính kèm tối đa {limits.max_images} ảnh.",
            f"At most {limits.max_images} photos may be attached.",
        )
    if videos > limits.max_videos:
        raise _error(
            "TOO_MANY_ATTACHMENTS",
            f"Chỉ được đính kèm tối đa {limits.max_videos} video.",
            f"At most {limits.max_videos} video(s) may be attached.",
        )
