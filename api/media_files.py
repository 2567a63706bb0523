"""Serving stored attachments so that no file can ever act as a web page of our origin.

Uploads are checked, but a file that slipped through (or was put into the media folder some other
way) must still not render as HTML or run script under the API's origin. Every response of the
``/media`` mount therefore carries ``X-Content-Type-Options: nosniff`` (the browser keeps the
declared type), a ``Content-Security-Policy`` that forbids every resource and sandboxes the
document, and a ``Content-Disposition``: ``inline`` with the stored name for the image and video
types uploads are stored as, with that exact type; ``attachment`` and
``application/octet-stream`` for anything else.

Who may fetch a file is decided by ``MediaAccess`` (see reports/media_links.py): a valid signed
link, or none at all for a photo the public feed shows right now.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse
from starlette.routing import get_route_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core import clock
from reports.media_links import MediaLinks
from reports.public import is_public_media
from reports.storage import validate_key

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


# The public feed's photos may be unpublished at any time: caches keep them a few minutes only.
PUBLIC_CACHE = "public, max-age=300"


class MediaAccess:
    """Serves a file to the holder of a valid signed link (``expires`` and ``signature``), or
    to anyone when it is one of the public feed's photos; otherwise 403 (a link that is forged,
    altered or expired) or 404. Sets ``Cache-Control`` to match; the file apps set ``ETag`` and
    answer ``If-None-Match`` with 304."""

    def __init__(self, app: ASGIApp, links: MediaLinks) -> None:
        self.app = app
        self.links = links

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        key = get_route_path(scope).lstrip("/")
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        expires = (query.get("expires") or [""])[0]
        signature = (query.get("signature") or [""])[0]
        try:
            validate_key(key)
        except ValueError:
            await PlainTextResponse("Not Found", 404)(scope, receive, send)
            return
        if expires or signature:
            left = self.links.verify(key, expires, signature, clock.now())
            if left is None:
                refused = PlainTextResponse("Liên kết không hợp lệ hoặc đã hết hạn.", 403)
                await refused(scope, receive, send)
                return
            cache = f"private, max-age={left}"
        elif await is_public_media(key):
            cache = PUBLIC_CACHE
        else:
            await PlainTextResponse("Not Found", 404)(scope, receive, send)
            return

        async def send_with_cache(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] in (200, 206, 304):
                MutableHeaders(scope=message)["Cache-Control"] = cache
            await send(message)

        await self.app(scope, receive, send_with_cache)
