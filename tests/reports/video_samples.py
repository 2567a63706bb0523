"""Real videos encoded with PyAV inside the tests (no binary fixtures), and hostile look-alikes."""

from __future__ import annotations

import io
import struct

import av
from PIL import Image

# A phone's position as QuickTime (``©xyz``) and 3GPP (``loci``) location metadata carry it.
HANOI = "+21.0285+105.8542/"
RED, BLUE = (220, 20, 20), (20, 20, 220)


def two_tone(size: tuple[int, int]) -> Image.Image:
    """Left half red, right half blue, so rotations are observable."""
    img = Image.new("RGB", size, BLUE)
    img.paste(RED, (0, 0, size[0] // 2, size[1]))
    return img


def video(
    container: str = "mp4",
    codec: str = "h264",
    *,
    seconds: float = 1.0,
    fps: int = 10,
    size: tuple[int, int] = (64, 48),
    audio: str | None = None,
    rotation: int = 0,
    gps: bool = True,
    pix_fmt: str = "yuv420p",
) -> bytes:
    """A short clip; with the recording phone's position and model in its metadata."""
    out = io.BytesIO()
    with av.open(out, "w", format=container) as file:
        if gps:
            file.metadata.update({"location": HANOI, "make": "PahtPhone", "model": "SecretCam"})
        track = file.add_stream(codec, rate=fps)
        track.width, track.height = size
        track.pix_fmt = pix_fmt
        if rotation:
            track.set_display_rotation(rotation)
        sound = file.add_stream(audio, rate=48000) if audio else None
        picture = av.VideoFrame.from_image(two_tone(size))
        for n in range(round(seconds * fps)):
            picture.pts = n
            file.mux(track.encode(picture))
        file.mux(track.encode(None))
        if sound is not None:
            _silence(file, sound, seconds)
    return out.getvalue()


def _silence(file: av.container.OutputContainer, sound: av.AudioStream, seconds: float) -> None:
    samples = sound.codec_context.frame_size or 1024
    for n in range(int(seconds * 48000 / samples)):
        frame = av.AudioFrame(format=sound.format.name, layout=sound.layout.name, samples=samples)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        frame.sample_rate, frame.pts = 48000, n * samples
        file.mux(sound.encode(frame))
    file.mux(sound.encode(None))


def audio_only_mp4() -> bytes:
    """An M4A-style file (AAC only) under the ordinary ``isom`` brand that the sniffer accepts."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as file:
        _silence(file, file.add_stream("aac", rate=48000), 1.0)
    return out.getvalue()


def _ftyp(brand: bytes = b"isom", size: int = 32) -> bytes:
    compatible = b"isomiso2avc1mp41" + b"\0" * (size - 32)
    return struct.pack(">I", size) + b"ftyp" + brand + b"\0\0\2\0" + compatible


def ftyp_html_polyglot() -> bytes:
    """The reported attack: an 84-byte ``ftyp`` box, then a page that a browser would run."""
    return _ftyp(size=84) + b"<html><body><script>alert(document.domain)</script></body></html>"


def ftyp_without_moov() -> bytes:
    """A valid brand and some media data, but no movie box describing any track."""
    return _ftyp() + struct.pack(">I", 16) + b"mdat" + b"\0" * 8 + b"free" * 10


def truncated_mp4() -> bytes:
    """The first half of a real clip, as a dropped mobile connection leaves it."""
    whole = video(seconds=2)
    return whole[: len(whole) // 2]


def webm_header_then_junk() -> bytes:
    """A real WebM's EBML header followed by bytes that are not a Segment."""
    whole = video("webm", "libvpx")
    segment = whole.find(b"\x18\x53\x80\x67")
    return whole[:segment] + b"<script>alert(1)</script>" * 40


def with_understated_duration(clip: bytes) -> bytes:
    """``clip`` with its movie and track headers claiming one time unit: only the sample tables
    still tell the truth."""
    data = bytearray(clip)
    for box, offset in ((b"mvhd", 16), (b"mdhd", 16), (b"tkhd", 20)):
        start = 0
        while (at := data.find(box, start)) >= 0:
            if data[at + 4] == 0:  # version 0: 32-bit fields
                struct.pack_into(">I", data, at + 4 + offset, 1)
            start = at + 4
    return bytes(data)


def with_declared_samples(clip: bytes, count: int) -> bytes:
    """``clip`` whose sample tables declare ``count`` tiny samples in a few bytes: expanding
    them cost FFmpeg 14 s and 3.5 GB for 50 million."""
    data = bytearray(clip)
    at = data.find(b"stsz")
    struct.pack_into(">II", data, at + 8, 1, count)  # one fixed sample size, ``count`` samples
    at = data.find(b"stts")
    struct.pack_into(">III", data, at + 8, 1, count, 1)
    at = data.find(b"stsc")
    struct.pack_into(">IIII", data, at + 8, 1, 1, count, 1)
    return bytes(data)
