"""Photos: decoded with Pillow and re-encoded from pixels only.

EXIF (GPS position, device serial), XMP, ICC profiles and text chunks never reach storage.
Pure and synchronous; callers run it in a worker thread.
"""

from __future__ import annotations

import hashlib
import io
import struct
import zlib

from PIL import Image, ImageOps

from reports.media_formats import (
    JPEG,
    PNG,
    MediaFormat,
    MediaKind,
    MediaLimits,
    ProcessedMedia,
    media_error,
)

_THUMBNAIL_QUALITY = 80
# Pillow's decoders raise a zoo of exceptions on hostile or damaged input.
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error, zlib.error)


def _open(data: bytes, fmt: MediaFormat, limits: MediaLimits) -> Image.Image:
    """Open, verify and fully decode an image, refusing bombs before pixels are decoded."""
    formats = [fmt.pil_format or ""]
    bomb = media_error(
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
        raise media_error(
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


def _strip(img: Image.Image, fmt: MediaFormat) -> Image.Image:
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


def _encode(img: Image.Image, fmt: MediaFormat) -> bytes:
    out = io.BytesIO()
    if fmt is JPEG:
        img.save(out, "JPEG", quality=85, optimize=True)
    elif fmt is PNG:
        img.save(out, "PNG", optimize=True)
    else:
        img.save(out, "WEBP", quality=85)
    return out.getvalue()


def thumbnail_jpeg(img: Image.Image, max_side: int) -> bytes:
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


def process_image(data: bytes, fmt: MediaFormat, limits: MediaLimits) -> ProcessedMedia:
    with _open(data, fmt, limits) as img:
        clean = _strip(_orient(img), fmt)
    encoded = _encode(clean, fmt)
    return ProcessedMedia(
        kind=MediaKind.IMAGE,
        content_type=fmt.content_type,
        data=encoded,
        thumbnail=thumbnail_jpeg(clean, limits.thumbnail_size),
        thumbnail_content_type="image/jpeg",
        width=clean.width,
        height=clean.height,
        size=len(encoded),
        sha256=hashlib.sha256(encoded).hexdigest(),
        extension=fmt.extension,
    )
