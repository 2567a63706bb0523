"""Video checks run in a throwaway child process with hard CPU, memory and wall-clock limits.

FFmpeg is C code parsing untrusted bytes, and deadlines checked from Python cannot interrupt it
inside one call: while opening a file it expands the sample tables in a single step that neither
reads input nor checks its interrupt callback (a 3 KB MP4 declaring 50 million samples measured
14 s and 3.5 GB there). In a child, the kernel enforces the bounds (``RLIMIT_CPU``,
``RLIMIT_AS``), the parent kills it at the deadline, and a crash in FFmpeg ends the child, not
the API server. The child is a fresh interpreter (``python -I -m reports.media_sandbox``, about
0.25 s to start) rather than a fork of a threaded server.

The child's answer is parsed as untrusted data (a JSON line, then raw bytes; never pickle), so a
child subverted by a hostile file can at worst hand back bytes, which are served like any other
upload. Blocking: call it from a worker thread.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import math
import resource
import subprocess
import sys
from typing import Any

from core.errors import DomainError, ErrorDetail
from reports.media_formats import (
    FIELD,
    MOV,
    MP4,
    WEBM,
    MediaFormat,
    MediaKind,
    MediaLimits,
    ProcessedMedia,
    corrupt_video,
)

log = logging.getLogger("paht.media")

_FORMATS = {f.extension: f for f in (MP4, MOV, WEBM)}
_WORKER = [sys.executable, "-I", "-m", "reports.media_sandbox"]
# Interpreter start-up and moving the file through the pipes, on top of the check's own budget.
_STARTUP_SECONDS = 10
# Codes the child may answer with; anything else from it is treated as a failed check.
_CHILD_CODES = frozenset(
    {"MEDIA_CORRUPT", "MEDIA_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE", "VIDEO_TOO_LONG"}
)
_MAX_HEADER = 64 * 1024


def _answer(stdout: bytes, fmt: MediaFormat) -> ProcessedMedia:
    """Turn the child's output into a result or a refusal; raises ``ValueError`` if malformed."""
    header, _, body = stdout.partition(b"\n")
    answer: dict[str, Any] = json.loads(header[:_MAX_HEADER])
    if answer.get("status") == "refused":
        details = [
            ErrorDetail(str(d["code"]), str(d["message_vi"])[:500], str(d["message_en"])[:500])
            for d in answer["details"]
        ]
        if not details or any(d.code not in _CHILD_CODES for d in details):
            raise ValueError("unexpected refusal")
        first = details[0]
        raise DomainError(
            first.code,
            first.message_vi,
            first.message_en,
            FIELD,
            details=[dataclasses.replace(d, field=FIELD) for d in details],
        )
    if answer.get("status") != "ok":
        raise ValueError("unexpected status")
    sizes = (answer["data"], answer["thumbnail"])
    width, height = answer["width"], answer["height"]
    if not all(isinstance(n, int) and n > 0 for n in (*sizes, width, height)):
        raise ValueError("bad sizes")
    if sum(sizes) != len(body):
        raise ValueError("body does not match the announced sizes")
    data, thumbnail = body[: sizes[0]], body[sizes[0] :]
    return ProcessedMedia(
        kind=MediaKind.VIDEO,
        content_type=fmt.content_type,
        data=data,
        thumbnail=thumbnail,
        thumbnail_content_type="image/jpeg",
        width=width,
        height=height,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        extension=fmt.extension,
    )


def process_video_isolated(data: bytes, fmt: MediaFormat, limits: MediaLimits) -> ProcessedMedia:
    """``reports.media_video.process_video`` in a child process: same result, same refusals.

    A child that overruns a limit, crashes or answers nonsense counts as a corrupt video."""
    request = json.dumps({"format": fmt.extension, "limits": dataclasses.asdict(limits)})
    try:
        done = subprocess.run(
            _WORKER,
            input=request.encode() + b"\n" + data,
            capture_output=True,
            timeout=limits.video_probe_seconds + _STARTUP_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:  # subprocess.run has killed it
        raise corrupt_video() from exc
    if done.returncode == 0:
        try:
            return _answer(done.stdout, fmt)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("video check answered nonsense: %r", done.stdout[:200])
            raise corrupt_video() from exc
    # Killed by a limit (negative: the signal), or an exception such as MemoryError.
    stderr = done.stderr[-2000:].decode(errors="replace")
    log.warning("video check exited %s: %s", done.returncode, stderr)
    raise corrupt_video()


def _limit(kind: int, value: int) -> None:
    _soft, hard = resource.getrlimit(kind)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(kind, (value, value))


def _serve() -> None:
    """The child: request line and file on stdin, answer line and bytes on stdout."""
    from reports.media_video import process_video  # PyAV is loaded in the child only

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    request = json.loads(stdin.readline())
    limits = MediaLimits(**request["limits"])
    _limit(resource.RLIMIT_CPU, math.ceil(limits.video_probe_seconds) + 2)
    _limit(resource.RLIMIT_AS, limits.video_memory_bytes)
    _limit(resource.RLIMIT_CORE, 0)  # a crash or SIGXCPU must not dump the upload to disk
    data = stdin.read()
    try:
        media = process_video(data, _FORMATS[request["format"]], limits)
    except DomainError as error:
        details = [dataclasses.asdict(d) for d in error.details]
        stdout.write(json.dumps({"status": "refused", "details": details}).encode() + b"\n")
        return
    thumbnail = media.thumbnail or b""
    answer = {
        "status": "ok",
        "width": media.width,
        "height": media.height,
        "data": len(media.data),
        "thumbnail": len(thumbnail),
    }
    stdout.write(json.dumps(answer).encode() + b"\n")
    stdout.write(media.data)
    stdout.write(thumbnail)


if __name__ == "__main__":
    _serve()
