"""Attachment sniffing, limits and metadata stripping, on real files generated with Pillow.

Videos have their own tests (test_media_video.py); the hand-made MP4 and WebM headers here only
exercise the sniffer, which refuses them or passes them on before any container is parsed."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import ExifTags, Image

from core.errors import DomainError
from reports.media import MediaKind, MediaLimits, check_counts, process_upload
from tests.reports.video_samples import video

LIMITS = MediaLimits()
GPS = ExifTags.IFD.GPSInfo


def _exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "SecretCam"
    gps = exif.get_ifd(GPS)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (21.0, 1.0, 42.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (105.0, 51.0, 12.0)
    return exif


def _two_tone(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """Left half red, right half blue, so rotations are observable."""
    img = Image.new(mode, size, (0, 0, 255, 255)[: len(mode)])
    img.paste((255, 0, 0, 255)[: len(mode)], (0, 0, size[0] // 2, size[1]))
    return img


def jpeg_with_gps(size: tuple[int, int] = (40, 20), orientation: int = 6) -> bytes:
    out = io.BytesIO()
    _two_tone(size).save(
        out, "JPEG", exif=_exif(orientation), icc_profile=b"fake-icc", comment=b"secret"
    )
    return out.getvalue()


def encode(img: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **params)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims a huge canvas: the classic decompression-bomb shape."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def fake_mp4(brand: bytes = b"isom") -> bytes:
    ftyp = struct.pack(">I", 24) + b"ftyp" + brand + b"\x00\x00\x02\x00" + b"isomiso2"
    return ftyp + struct.pack(">I", 16) + b"mdat" + b"\x00" * 8


def fake_webm(doctype: bytes = b"webm") -> bytes:
    body = (
        b"\x42\x86\x81\x01"  # EBMLVersion 1
        + b"\x42\xf7\x81\x01"  # EBMLReadVersion 1
        + b"\x42\x82"
        + bytes([0x80 | len(doctype)])
        + doctype
        + b"\x42\x87\x81\x04"  # DocTypeVersion 4
    )
    return b"\x1a\x45\xdf\xa3" + bytes([0x80 | len(body)]) + body + b"\x18\x53\x80\x67" + b"\0" * 8


def refused(code: str, *args: object) -> DomainError:
    with pytest.raises(DomainError) as info:
        process_upload(*args)  # type: ignore[arg-type]
    err = info.value
    assert err.code == code
    assert err.field == "attachments"
    detail = err.details[0]
    assert detail.message_vi and detail.message_en and detail.message_vi != detail.message_en
    return err


def assert_no_metadata(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    assert len(img.getexif()) == 0
    assert b"Exif" not in data and b"EXIF" not in data and b"eXIf" not in data
    assert b"SecretCam" not in data and b"secret" not in data
    assert b"fake-icc" not in data and "icc_profile" not in img.info
    assert b"XMP" not in data and b"xmpmeta" not in data
    return img


def test_jpeg_gps_is_stripped_and_orientation_applied() -> None:
    original = jpeg_with_gps()
    source = Image.open(io.BytesIO(original))
    assert source.getexif().get_ifd(GPS)  # the fixture really carries a position
    assert source.size == (40, 20)

    media = process_upload(original, "image/jpeg", "IMG_0001.JPG", LIMITS)

    assert media.kind is MediaKind.IMAGE
    assert (media.content_type, media.extension) == ("image/jpeg", "jpg")
    assert (media.width, media.height) == (20, 40)  # orientation 6 = rotated 90° clockwise
    img = assert_no_metadata(media.data)
    assert img.format == "JPEG" and img.mode == "RGB" and img.size == (20, 40)
    rgb = img.convert("RGB")
    top, bottom = rgb.getpixel((10, 5)), rgb.getpixel((10, 35))
    assert top[0] > 200 and top[2] < 60  # the red (left) half is now on top
    assert bottom[2] > 200 and bottom[0] < 60
    assert media.size == len(media.data)
    assert len(media.sha256) == 64


def test_thumbnail_is_jpeg_bounded_and_not_upscaled() -> None:
    big = process_upload(encode(_two_tone((1000, 500)), "JPEG"), None, None, LIMITS)
    assert big.thumbnail_content_type == "image/jpeg"
    assert big.thumbnail is not None
    thumb = Image.open(io.BytesIO(big.thumbnail))
    assert thumb.format == "JPEG" and thumb.size == (320, 160)
    assert_no_metadata(big.thumbnail)

    small = process_upload(jpeg_with_gps(), None, None, LIMITS)
    assert small.thumbnail is not None
    assert Image.open(io.BytesIO(small.thumbnail)).size == (20, 40)
    assert_no_metadata(small.thumbnail)


def test_png_keeps_alpha_and_loses_metadata() -> None:
    from PIL import PngImagePlugin

    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "secret")
    text.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>secret</x:xmpmeta>")
    source = encode(_two_tone((600, 300), "RGBA"), "PNG", pnginfo=text, exif=_exif(1))
    assert b"eXIf" in source and b"iTXt" in source

    media = process_upload(source, "image/png", "a.png", LIMITS)

    img = assert_no_metadata(media.data)
    assert (img.format, img.mode, img.size) == ("PNG", "RGBA", (600, 300))
    assert b"tEXt" not in media.data and b"iTXt" not in media.data
    assert (media.extension, media.width, media.height) == ("png", 600, 300)
    assert media.thumbnail is not None
    assert Image.open(io.BytesIO(media.thumbnail)).size == (320, 160)


def test_palette_png_with_transparency_becomes_rgba() -> None:
    img = Image.new("P", (10, 10), 0)
    img.putpalette([0, 0, 0, 255, 255, 255])
    media = process_upload(encode(img, "PNG", transparency=0), None, None, LIMITS)
    assert Image.open(io.BytesIO(media.data)).mode == "RGBA"


def test_webp_is_reencoded_without_exif_or_xmp() -> None:
    picture = _two_tone((40, 20), "RGBA")
    picture.paste((0, 0, 0, 0), (0, 0, 8, 8))  # real transparency, or the encoder drops alpha
    xmp = b"<x:xmpmeta>secret</x:xmpmeta>"
    source = encode(picture, "WEBP", exif=_exif(6), xmp=xmp)
    assert b"EXIF" in source and b"XMP " in source

    media = process_upload(source, "image/webp", None, LIMITS)

    img = assert_no_metadata(media.data)
    assert (img.format, img.mode) == ("WEBP", "RGBA")
    assert (media.content_type, media.extension) == ("image/webp", "webp")
    assert (media.width, media.height) == (20, 40)


@pytest.mark.parametrize(
    "declared",
    [None, "", "application/octet-stream", "IMAGE/JPEG; charset=binary", "image/jpg", "image/*"],
)
def test_missing_generic_or_equivalent_declared_type_is_accepted(declared: str | None) -> None:
    assert process_upload(jpeg_with_gps(), declared, "x.png", LIMITS).content_type == "image/jpeg"


def test_text_pretending_to_be_jpeg_is_refused() -> None:
    refused("UNSUPPORTED_MEDIA_TYPE", b"hello, I am not a photo\n", "image/jpeg", "a.jpg", LIMITS)


def test_png_declared_as_jpeg_is_a_mismatch() -> None:
    png = encode(Image.new("RGB", (8, 8)), "PNG")
    refused("MEDIA_TYPE_MISMATCH", png, "image/jpeg", "photo.jpg", LIMITS)


@pytest.mark.parametrize(
    ("data", "declared"),
    [
        (jpeg_with_gps(), "image/png"),
        (jpeg_with_gps(), "video/mp4"),
        (jpeg_with_gps(), "text/plain"),
        (fake_mp4(), "image/jpeg"),
        (fake_webm(), "video/mp4"),
    ],
)
def test_contradicting_declared_type_is_a_mismatch(data: bytes, declared: str) -> None:
    refused("MEDIA_TYPE_MISMATCH", data, declared, None, LIMITS)


@pytest.mark.parametrize(
    "data",
    [
        fake_mp4(b"heic"),  # HEIC photos share the MP4 container
        fake_mp4(b"M4A "),  # audio only
        fake_webm(b"matroska"),
        b"GIF89a" + b"\0" * 32,
        b"%PDF-1.7\n",
    ],
)
def test_unsupported_formats_are_refused(data: bytes) -> None:
    refused("UNSUPPORTED_MEDIA_TYPE", data, None, None, LIMITS)


def test_empty_file_is_refused() -> None:
    refused("MEDIA_EMPTY", b"", "image/jpeg", "a.jpg", LIMITS)


def test_truncated_jpeg_is_corrupt() -> None:
    noisy = Image.frombytes("RGB", (64, 64), bytes(range(256)) * 48)
    data = encode(noisy, "JPEG", quality=95)
    refused("MEDIA_CORRUPT", data[: len(data) // 2], "image/jpeg", None, LIMITS)


def test_png_with_bad_crc_is_corrupt() -> None:
    data = bytearray(encode(Image.new("RGB", (8, 8)), "PNG"))
    data[-20] ^= 0xFF  # inside IDAT
    refused("MEDIA_CORRUPT", bytes(data), None, None, LIMITS)


def test_oversized_image_is_refused_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_decode(*args: object, **kwargs: object) -> None:
        raise AssertionError("decoded an oversized upload")

    monkeypatch.setattr(Image, "open", must_not_decode)
    data = jpeg_with_gps()
    err = refused("MEDIA_TOO_LARGE", data, None, None, MediaLimits(max_image_bytes=len(data) - 1))
    assert "KB" in str(err) or "byte" in str(err)


def test_oversized_video_is_refused() -> None:
    data = fake_mp4() + b"\0" * 100
    refused("MEDIA_TOO_LARGE", data, "video/mp4", None, MediaLimits(max_video_bytes=64))
    # The image limit does not apply to videos.
    clip = video()
    assert len(clip) > 64
    assert process_upload(clip, None, None, MediaLimits(max_image_bytes=64)).kind is MediaKind.VIDEO


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_decompression_bomb_is_refused() -> None:
    refused("MEDIA_TOO_LARGE", png_header_only(10_000, 10_000), "image/png", None, LIMITS)


@pytest.mark.filterwarnings("error::PIL.Image.DecompressionBombWarning")
def test_decompression_bomb_warning_promoted_to_error_is_refused() -> None:
    refused("MEDIA_TOO_LARGE", png_header_only(10_000, 10_000), None, None, LIMITS)


def test_pillow_decompression_bomb_error_is_refused() -> None:
    huge = png_header_only(20_000, 20_000)  # beyond twice Pillow's own limit
    refused("MEDIA_TOO_LARGE", huge, None, None, MediaLimits(max_pixels=10**12))


def test_real_image_over_pixel_limit_is_refused() -> None:
    data = encode(Image.new("L", (1200, 1000)), "PNG")
    refused("MEDIA_TOO_LARGE", data, None, None, MediaLimits(max_pixels=1_000_000))
    assert process_upload(data, None, None, MediaLimits(max_pixels=1_200_000)).width == 1200


def test_results_and_limits_are_immutable() -> None:
    media = process_upload(jpeg_with_gps(), None, None, LIMITS)
    with pytest.raises(AttributeError):
        media.size = 0  # type: ignore[misc]
    with pytest.raises(AttributeError):
        LIMITS.max_images = 99  # type: ignore[misc]
    assert MediaKind("image") is MediaKind.IMAGE and MediaKind.VIDEO == "video"


@pytest.mark.parametrize(
    "kinds",
    [[], [MediaKind.IMAGE] * 5, [MediaKind.VIDEO]],
)
def test_allowed_attachment_counts(kinds: list[MediaKind]) -> None:
    check_counts(kinds, LIMITS)


@pytest.mark.parametrize(
    "kinds",
    [
        [MediaKind.IMAGE] * 6,
        [MediaKind.VIDEO] * 2,
        [MediaKind.IMAGE, MediaKind.VIDEO],
    ],
)
def test_too_many_or_mixed_attachments_are_refused(kinds: list[MediaKind]) -> None:
    with pytest.raises(DomainError) as info:
        check_counts(kinds, LIMITS)
    assert info.value.code == "TOO_MANY_ATTACHMENTS"
    assert info.value.field == "attachments"
