"""Serving stored attachments so that no file can ever act as a web page of our origin.

Uploads are checked, but a file that slipped through (or was put into the media folder some other
way) must still not render as HTML or run script under the API's origin. Every response of the
``/media`` mount therefore carries ``X-Content-Type-Options: nosniff`` (the browser keeps the
declared type), a ``Content-Security-Policy`` that forbids every resource and sandboxes the
document, and a ``Content-Disposition``: ``inline`` with the stored name for the image and video
types uploads are stored as, with that exact type; ``attachment`` and
``application/octet-stream`` for anything else.
"""

from __future__ import annotations

import re

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Extensions written by reports.storage.make_key for accepted media and their thumbnails.
INLINE_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
}
MEDIA_CSP = "default-src 'none'; sandbox"
# A stored file's name (see reports.storage); anything else is not echoed into a header.
_STORED_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\.([a-z0-9]+)")


class MediaHeaders:
    """ASGI wrapper for the media ``StaticFiles`` app that adds the headers above."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        name = scope["path"].rsplit("/", 1)[-1]
        match = _STORED_NAME.fullmatch(name)
        inline_type = INLINE_TYPES.get(match.group(1)) if match else None

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Content-Security-Policy"] = MEDIA_CSP
                headers["Content-Disposition"] = (
                    f'inline; filename="{name}"' if inline_type else "attachment"
                )
                # Only file bodies get our type; multi-range answers must stay
                # multipart/byteranges for players to parse them.
                current = headers.get("content-type", "")
                if message["status"] in (200, 206) and not current.startswith("multipart/"):
                    headers["Content-Type"] = inline_type or "application/octet-stream"
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except HTTPException as exc:  # StaticFiles' 404/405: answer here, with the headers too
            response = PlainTextResponse(exc.detail, exc.status_code, headers=exc.headers)
            await response(scope, receive, send_with_headers)
