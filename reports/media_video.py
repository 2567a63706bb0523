"""Videos: parsed with PyAV (FFmpeg's demuxers), checked, and remuxed without their metadata.

Why PyAV: magic bytes cannot tell a video from an ``ftyp`` box glued to HTML; only a real demuxer
can. PyAV is actively maintained, its wheels bundle FFmpeg (no system package), and one library
demuxes MP4/MOV *and* WebM, reports tracks, codecs and durations, decodes a first frame for the
thumbnail and copies packets into a fresh container without re-encoding. The pure-Python options
each cover a part: pymp4 parses ISO BMFF boxes only (no WebM; last release 2023), mutagen reads
tags of audio containers, hachoir parses both containers but can neither decode a frame nor write
a file, so dropping GPS atoms would mean editing boxes by hand. The price is a ~100 MB wheel and
FFmpeg's C attack surface, narrowed here: the demuxer is chosen from the sniffed type (FFmpeg never
probes formats), only allow-listed decoders may run, and at most a few packets are ever decoded.

This module runs inside the child process of ``reports.media_sandbox``, whose kernel limits are
the last line of defence. The first line is here: one wall-clock deadline and a read budget, checked
in our loops and whenever FFmpeg reads input, so a hostile file cannot make it spin or re-read
the input forever. Steps:

1. Require one video track of an allowed codec (cover art and still pictures do not count), a
   sane frame size, and a header duration within ``max_video_seconds``.
2. Copy that track and the first allowed audio track packet by packet into a new container of the
   same type. Nothing else is copied: no container or track tags (GPS ``©xyz``/``loci`` atoms,
   device make and model, creation time), no data, timecode, subtitle or attachment tracks. The
   rotation (display matrix) is a codec parameter and survives, so portrait clips stay upright.
   The packets' timestamps give the real duration, checked again; fewer packets than the index
   promises means a truncated upload.
3. Decode the first frame as the thumbnail; a video whose first frame does not decode is refused.

So stored videos are not byte-for-byte the upload, but their compressed pictures and sound are
(camera data that an encoder writes into the bitstream itself, such as H.264 SEI, is kept).
"""

from __future__ import annotations

import functools
import hashlib
import io
import time

import av
from av.codec.codec import Capabilities
from av.stream import Disposition

from core.errors import DomainError
from reports.media_formats import (
    MIB,
    MOV,
    MP4,
    WEBM,
    MediaFormat,
    MediaKind,
    MediaLimits,
    ProcessedMedia,
    corrupt_video,
    media_error,
)
from reports.media_images import thumbnail_jpeg

# Sniffed format -> (FFmpeg demuxer, FFmpeg muxer). The output keeps the upload's container.
_CONTAINERS = {MP4: ("mov", "mp4"), MOV: ("mov", "mov"), WEBM: ("matroska", "webm")}
_VIDEO_CODECS = frozenset({"h264", "hevc", "mpeg4", "vp8", "vp9", "av1"})
_AUDIO_CODECS = frozenset(
    {"aac", "mp3", "opus", "vorbis", "flac", "alac", "ac3", "eac3", "pcm_s16le", "pcm_s16be"}
)
# The muxer picks hev1 for HEVC unless told otherwise, and Safari plays HEVC only as hvc1.
_KEPT_CODEC_TAGS = frozenset({"avc1", "avc3", "hvc1", "hev1"})
_DEVICE_CODECS = Capabilities.hardware | Capabilities.hybrid | Capabilities.experimental
_NOT_FOOTAGE = Disposition.attached_pic | Disposition.still_image | Disposition.timed_thumbnails
# 240 fps slow motion for 120 s is 28,800 video packets; far more means a crafted index.
_MAX_PACKETS = 100_000
# Decoders hold back at most 16 frames (H.264 reordering) before the first picture comes out.
_THUMBNAIL_PACKETS = 48
# Audio priming and rounding make a clip recorded as 120 s a little longer.
_GRACE_SECONDS = 0.5
_READ_BUDGET_FACTOR = 4  # demuxers seek back (index, interleaving) but never need to read 4x


class _BudgetExceeded(Exception):
    """The deadline or the read budget of one video ran out."""


def _check_deadline(deadline: float) -> None:
    if time.monotonic() > deadline:
        raise _BudgetExceeded("video processing deadline passed")


class _BoundedReader(io.RawIOBase):
    """The upload as a seekable file for FFmpeg; every call checks the deadline and the budget.

    FFmpeg calls back into it from its demuxer loops, so raising here stops loops that no
    timestamp or packet count of ours would see."""

    def __init__(self, data: bytes, deadline: float) -> None:
        super().__init__()
        self._data = memoryview(data)
        self._pos = 0
        self._budget = _READ_BUDGET_FACTOR * len(data) + MIB
        self._deadline = deadline
        self.exhausted = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def _spent(self) -> bool:
        """Raise once when the budget runs out, then look like the end of the file: FFmpeg drops
        (and PyAV prints) errors raised while it is already unwinding from the first one."""
        if self.exhausted:
            return True
        if self._budget < 0 or time.monotonic() > self._deadline:
            self.exhausted = True
            raise _BudgetExceeded("video deadline or read budget exhausted")
        return False

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if not self._spent():
            bases = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: len(self._data)}
            self._pos = max(0, bases[whence] + offset)
        return self._pos

    def read(self, size: int = -1) -> bytes:
        if self._spent():
            return b""
        end = len(self._data) if size < 0 else min(len(self._data), self._pos + size)
        chunk = bytes(self._data[self._pos : end])
        self._pos += len(chunk)
        self._budget -= len(chunk)
        return chunk


# What FFmpeg and PyAV raise on hostile or damaged input (av.FFmpegError covers every AVERROR).
_FAILURES = (av.FFmpegError, _BudgetExceeded, OSError, ValueError, EOFError, OverflowError)


def _unsupported(vi: str, en: str) -> DomainError:
    return media_error("UNSUPPORTED_MEDIA_TYPE", vi, en)


def _too_long(limits: MediaLimits) -> DomainError:
    seconds = f"{limits.max_video_seconds:g}"
    return media_error(
        "VIDEO_TOO_LONG",
        f"Video dài quá {seconds} giây.",
        f"The video is longer than {seconds} seconds.",
    )


@functools.cache
def _allowed_decoders() -> str:
    """FFmpeg decoder names (e.g. ``vp9`` and ``libvpx-vp9``) of the allowed codecs, for the
    ``codec_whitelist`` that binds FFmpeg's own stream probing."""
    wanted = _VIDEO_CODECS | _AUDIO_CODECS
    names = []
    for name in sorted(av.codecs_available):
        try:
            codec = av.Codec(name, "r")
        except ValueError:  # an encoder only
            continue
        # Hardware wrappers (CUDA, QSV, V4L2 devices) are not for untrusted input on a server.
        if codec.canonical_name in wanted and not codec.capabilities & _DEVICE_CODECS:
            names.append(name)
    return ",".join(names)


def _codec_name(stream: av.stream.Stream) -> str:
    context = stream.codec_context
    return context.codec.canonical_name if context is not None else ""


def _pick_streams(
    src: av.container.InputContainer, limits: MediaLimits
) -> tuple[av.VideoStream, av.AudioStream | None]:
    if not src.streams:  # FFmpeg found no track description at all (e.g. no ``moov``)
        raise corrupt_video()
    footage = [s for s in src.streams.video if not s.disposition & _NOT_FOOTAGE]
    video = next((s for s in footage if _codec_name(s) in _VIDEO_CODECS), None)
    if video is None and footage:
        raise _unsupported(
            "Video dùng bộ mã hóa không được hỗ trợ (chỉ H.264, HEVC, MPEG-4, VP8, VP9, AV1).",
            "The video uses an unsupported codec (only H.264, HEVC, MPEG-4, VP8, VP9 and AV1).",
        )
    if video is None:
        raise _unsupported("Tệp không có hình ảnh video.", "The file has no video track.")
    width, height = video.codec_context.width, video.codec_context.height
    if width <= 0 or height <= 0:
        raise corrupt_video()
    if width * height > limits.max_pixels:
        raise media_error(
            "MEDIA_TOO_LARGE",
            "Video có độ phân giải quá lớn.",
            "The video resolution is too large.",
        )
    header_seconds = None
    if src.duration is not None and src.duration > 0:
        header_seconds = src.duration / av.time_base
    elif video.duration and video.time_base:
        header_seconds = float(video.duration * video.time_base)
    if header_seconds is not None and header_seconds > limits.max_video_seconds + _GRACE_SECONDS:
        raise _too_long(limits)
    if video.frames > _MAX_PACKETS:
        raise corrupt_video()
    audio = next((s for s in src.streams.audio if _codec_name(s) in _AUDIO_CODECS), None)
    return video, audio


def _copy_stream(
    dst: av.container.OutputContainer, template: av.stream.Stream, muxer: str
) -> av.stream.Stream:
    """A new track with the template's codec parameters (not its tags) for stream copy."""
    try:
        copy = dst.add_stream_from_template(template, opaque=True)
    except ValueError as exc:  # this container cannot carry the codec (e.g. H.264 in WebM)
        raise _unsupported(
            f"Bộ mã hóa {_codec_name(template)} không hợp lệ trong tệp {muxer.upper()}.",
            f"The {_codec_name(template)} codec is not valid in a {muxer.upper()} file.",
        ) from exc
    if muxer != "webm" and template.codec_context.codec_tag in _KEPT_CODEC_TAGS:
        copy.codec_context.codec_tag = template.codec_context.codec_tag
    return copy


def _remux(
    src: av.container.InputContainer,
    video: av.VideoStream,
    audio: av.AudioStream | None,
    muxer: str,
    limits: MediaLimits,
    deadline: float,
) -> tuple[bytes, av.VideoFrame]:
    """Copy the kept tracks into a clean container; returns it and the first decoded frame."""
    decoder = video.codec_context
    decoder.thread_count = 1  # one core per upload: the same machine serves requests
    # Packets the index holds (BMFF; Matroska's index lists keyframes only).
    expected = len(video.index_entries) if muxer != "webm" else 0
    kept = [video] if audio is None else [video, audio]
    first: av.VideoFrame | None = None
    fed = video_packets = 0
    start = end = None
    out = io.BytesIO()
    with av.open(out, "w", format=muxer, options={"fflags": "+bitexact"}) as dst:
        targets = {s.index: _copy_stream(dst, s, muxer) for s in kept}
        for count, packet in enumerate(src.demux(kept)):
            _check_deadline(deadline)
            if count > _MAX_PACKETS:
                raise corrupt_video()
            if packet.dts is None or packet.size == 0:  # PyAV's end-of-stream markers
                continue
            if packet.is_corrupt:
                raise corrupt_video()
            stamp = packet.pts if packet.pts is not None else packet.dts
            begins = float(stamp * packet.time_base)
            ends = float((stamp + (packet.duration or 0)) * packet.time_base)
            start = begins if start is None else min(start, begins)
            end = ends if end is None else max(end, ends)
            if end - start > limits.max_video_seconds + _GRACE_SECONDS:
                raise _too_long(limits)  # the header understated it
            if packet.stream_index == video.index:
                video_packets += 1
                if first is None and fed < _THUMBNAIL_PACKETS:
                    fed += 1
                    first = next(iter(decoder.decode(packet)), None)
            packet.stream = targets[packet.stream_index]
            dst.mux(packet)
        if first is None:
            first = next(iter(decoder.decode(None)), None)  # drain what the decoder holds
    if first is None or video_packets == 0 or video_packets < expected:
        raise corrupt_video()
    if start is None or end is None or end <= start:
        raise corrupt_video()
    return out.getvalue(), first


def _thumbnail(frame: av.VideoFrame, limits: MediaLimits) -> tuple[bytes, int, int]:
    """A JPEG of the first frame turned as the player will show it; and the displayed size."""
    quarter_turns = round(frame.rotation / 90) % 4  # counterclockwise, as PIL's rotate()
    width, height = frame.width, frame.height
    scale = min(1.0, limits.thumbnail_size / max(width, height))
    # Scale in FFmpeg first: a full-size RGB copy of a 4K frame would be 25 MB.
    image = frame.to_image(width=max(1, round(width * scale)), height=max(1, round(height * scale)))
    if quarter_turns:
        image = image.rotate(90 * quarter_turns, expand=True)
    if quarter_turns % 2:
        width, height = height, width
    return thumbnail_jpeg(image, limits.thumbnail_size), width, height


def process_video(data: bytes, fmt: MediaFormat, limits: MediaLimits) -> ProcessedMedia:
    """Validate a sniffed MP4/MOV/WebM upload; raises ``DomainError`` on any refusal."""
    demuxer, muxer = _CONTAINERS[fmt]
    deadline = time.monotonic() + limits.video_probe_seconds
    options = {"codec_whitelist": _allowed_decoders()}
    if demuxer == "mov":
        options["enable_drefs"] = "0"  # never open files that a track points to (FFmpeg default)
    reader = _BoundedReader(data, deadline)
    try:
        with av.open(
            reader,
            "r",
            format=demuxer,
            options=options,
            timeout=limits.video_probe_seconds,  # FFmpeg's interrupt callback, inside its loops
        ) as src:
            video, audio = _pick_streams(src, limits)
            clean, first_frame = _remux(src, video, audio, muxer, limits, deadline)
            thumbnail, width, height = _thumbnail(first_frame, limits)
    except _FAILURES as exc:
        raise corrupt_video() from exc
    if reader.exhausted:  # FFmpeg may have taken the early end of input for a short file
        raise corrupt_video() from _BudgetExceeded("video deadline or read budget exhausted")
    return ProcessedMedia(
        kind=MediaKind.VIDEO,
        content_type=fmt.content_type,
        data=clean,
        thumbnail=thumbnail,
        thumbnail_content_type="image/jpeg",
        width=width,
        height=height,
        size=len(clean),
        sha256=hashlib.sha256(clean).hexdigest(),
        extension=fmt.extension,
    )
