"""Video uploads: real clips encoded with PyAV in the test, and hostile files built from them.

Every call goes through ``process_upload`` and so through the child process that runs FFmpeg."""

from __future__ import annotations

import io
import time

import av
import pytest
from PIL import Image

from core.errors import DomainError
from reports.media import MediaKind, MediaLimits, process_upload
from reports.media_formats import MP4, sniff
from tests.reports.video_samples import (
    BLUE,
    HANOI,
    RED,
    audio_only_mp4,
    ftyp_html_polyglot,
    ftyp_without_moov,
    truncated_mp4,
    video,
    webm_header_then_junk,
    with_declared_samples,
    with_understated_duration,
)

LIMITS = MediaLimits()


def refused(code: str, data: bytes, limits: MediaLimits = LIMITS) -> DomainError:
    with pytest.raises(DomainError) as info:
        process_upload(data, None, "clip.mp4", limits)
    error = info.value
    assert (error.code, error.field) == (code, "attachments"), error.details
    detail = error.details[0]
    assert detail.message_vi and detail.message_en and detail.message_vi != detail.message_en
    return error


def near(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    return all(abs(x - y) < 60 for x, y in zip(a, b, strict=True))


@pytest.mark.parametrize(
    ("container", "codec", "audio", "declared", "content_type", "demuxer"),
    [
        ("mp4", "h264", "aac", "video/mp4", "video/mp4", "mp4"),
        ("mp4", "hevc", None, None, "video/mp4", "mp4"),
        ("mov", "h264", "aac", "video/quicktime", "video/quicktime", "mov"),
        ("mov", "h264", None, "video/mp4", "video/quicktime", "mov"),  # phones mislabel MOV
        ("webm", "libvpx-vp9", "libopus", "video/webm", "video/webm", "webm"),
        ("webm", "libvpx", None, "application/octet-stream", "video/webm", "webm"),
    ],
)
def test_real_videos_are_accepted_in_their_own_container(
    container: str,
    codec: str,
    audio: str | None,
    declared: str | None,
    content_type: str,
    demuxer: str,
) -> None:
    media = process_upload(video(container, codec, audio=audio), declared, "clip.bin", LIMITS)

    assert media.kind is MediaKind.VIDEO
    assert (media.content_type, media.extension) == (content_type, container)
    assert (media.width, media.height) == (64, 48)
    assert media.size == len(media.data)
    with av.open(io.BytesIO(media.data)) as stored:
        assert demuxer in stored.format.name.split(",")
        assert [s.type for s in stored.streams] == ["video"] + (["audio"] if audio else [])
        assert 0.9 <= stored.duration / av.time_base <= 1.1
        assert len(list(stored.decode(video=0))) == 10  # every frame survived the copy
    assert media.thumbnail is not None and media.thumbnail_content_type == "image/jpeg"
    thumb = Image.open(io.BytesIO(media.thumbnail))
    assert (thumb.format, thumb.size) == ("JPEG", (64, 48))
    assert near(thumb.getpixel((5, 24)), RED) and near(thumb.getpixel((58, 24)), BLUE)


@pytest.mark.parametrize(
    ("container", "codec", "marker"),
    [("mp4", "h264", b"loci"), ("mov", "h264", b"\xa9xyz"), ("webm", "libvpx", b"LOCATION")],
)
def test_location_and_device_metadata_are_removed(
    container: str, codec: str, marker: bytes
) -> None:
    original = video(container, codec, gps=True)
    with av.open(io.BytesIO(original)) as source:
        assert HANOI in source.metadata.values()  # the clip really says where it was shot
    assert marker in original
    assert (b"SecretCam" in original) is (container != "mp4")  # MP4 keeps no device model

    media = process_upload(original, None, None, LIMITS)

    assert marker not in media.data and b"SecretCam" not in media.data
    assert HANOI.encode() not in media.data and b"PahtPhone" not in media.data
    with av.open(io.BytesIO(media.data)) as stored:
        tags = {k.lower() for k in stored.metadata} | {
            k.lower() for s in stored.streams for k in s.metadata
        }
        assert not tags & {"location", "location-eng", "make", "model", "creation_time"}


@pytest.mark.parametrize("container", ["mp4", "mov", "webm"])
def test_rotation_is_kept_and_the_thumbnail_is_upright(container: str) -> None:
    codec = "libvpx" if container == "webm" else "h264"
    # Recorded 64x48, shown turned a quarter counterclockwise, as a phone held upright does.
    media = process_upload(video(container, codec, rotation=90), None, None, LIMITS)

    assert (media.width, media.height) == (48, 64)
    with av.open(io.BytesIO(media.data)) as stored:
        assert next(stored.decode(video=0)).rotation == 90
    assert media.thumbnail is not None
    thumb = Image.open(io.BytesIO(media.thumbnail))
    assert thumb.size == (48, 64)
    # The red left half ends up at the bottom.
    assert near(thumb.getpixel((24, 5)), BLUE) and near(thumb.getpixel((24, 58)), RED)


HOSTILE = [
    ("ftyp-html-polyglot", ftyp_html_polyglot, "MEDIA_CORRUPT"),
    ("ftyp-without-moov", ftyp_without_moov, "MEDIA_CORRUPT"),
    ("audio-only-mp4", audio_only_mp4, "UNSUPPORTED_MEDIA_TYPE"),
    ("truncated", truncated_mp4, "MEDIA_CORRUPT"),
    ("webm-header-then-junk", webm_header_then_junk, "MEDIA_CORRUPT"),
    ("over-long", lambda: video(seconds=125, fps=1, size=(16, 16)), "VIDEO_TOO_LONG"),
    ("header-understates-length",
     lambda: with_understated_duration(video(seconds=125, fps=1, size=(16, 16))),
     "VIDEO_TOO_LONG"),
    ("picture-codec-track", lambda: video("mov", "png", pix_fmt="rgb24"),
     "UNSUPPORTED_MEDIA_TYPE"),
]  # fmt: skip


@pytest.mark.parametrize(("make", "code"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE])
def test_hostile_and_broken_videos_are_refused(make: object, code: str) -> None:
    refused(code, make())  # type: ignore[operator]


def test_the_html_polyglot_passes_the_sniffer_so_only_parsing_stops_it() -> None:
    data = ftyp_html_polyglot()
    assert sniff(data) is MP4 and int.from_bytes(data[:4], "big") == 84
    refused("MEDIA_CORRUPT", data)


def test_the_maximum_length_is_configurable() -> None:
    clip = video(seconds=3, fps=2, size=(16, 16))
    error = refused("VIDEO_TOO_LONG", clip, MediaLimits(max_video_seconds=2))
    assert "2 seconds" in error.details[0].message_en and "2 giây" in error.details[0].message_vi
    assert process_upload(clip, None, None, MediaLimits(max_video_seconds=4)).width == 16


def test_a_sample_table_bomb_is_stopped_by_the_childs_limits() -> None:
    """50 million declared samples: in-process this took 14 s and 3.5 GB inside av.open."""
    bomb = with_declared_samples(video(), 50_000_000)
    assert len(bomb) < 5000
    started = time.monotonic()
    refused("MEDIA_CORRUPT", bomb)
    assert time.monotonic() - started < 10


def test_a_check_over_its_time_budget_is_refused() -> None:
    refused("MEDIA_CORRUPT", video(), MediaLimits(video_probe_seconds=0))


def test_a_child_out_of_memory_is_a_refusal_not_a_server_error() -> None:
    # Less address space than the child already uses with FFmpeg loaded: it dies reading input.
    refused("MEDIA_CORRUPT", video(), MediaLimits(video_memory_bytes=64 * 1024 * 1024))
