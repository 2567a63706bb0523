"""``/media`` from the object store: what StaticFiles does for a folder, for S3Storage.

Wrapped by api/media_files.MediaHeaders like the local mount, so a file from the store carries
the same nosniff, CSP and Content-Disposition headers. GET and HEAD; a single ``Range`` is
passed to the store (video players seek with it)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import get_route_path
from starlette.types import Receive, Scope, Send

from reports.storage import validate_key
from reports.storage_s3 import RangeNotSatisfiable, S3Storage


class S3MediaFiles:
    def __init__(self, storage: S3Storage) -> None:
        self.storage = storage

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self._response(Request(scope, receive))
        await response(scope, receive, send)

    async def _response(self, request: Request) -> Response:
        if request.method not in ("GET", "HEAD"):
            return PlainTextResponse("Method Not Allowed", 405, headers={"Allow": "GET, HEAD"})
        key = get_route_path(request.scope).lstrip("/")
        try:
            validate_key(key)
        except ValueError:
            return PlainTextResponse("Not Found", 404)
        byte_range = request.headers.get("range")
        if byte_range and "," in byte_range:
            byte_range = None  # several ranges: answer with the whole file, as allowed
        try:
            stored = await self.storage.open(
                key, byte_range, if_none_match=request.headers.get("if-none-match")
            )
        except RangeNotSatisfiable:
            return PlainTextResponse("Range Not Satisfiable", 416)
        if stored is None:
            return PlainTextResponse("Not Found", 404)
        if stored.status == 304:
            return Response(status_code=304, headers=stored.headers)
        if request.method == "HEAD":
            await asyncio.to_thread(stored.body.close)
            return Response(status_code=stored.status, headers=stored.headers)
        return StreamingResponse(stored.chunks(), stored.status, headers=stored.headers)
