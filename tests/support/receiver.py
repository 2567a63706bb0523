"""A real HTTP receiver (Starlette under uvicorn) for webhooks and gateways: it records every
request, verifies webhook signatures with an independent implementation (the
``standardwebhooks`` package) and fails on demand."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool | None  # None: no secret registered for the path

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    hits: list[Hit] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)  # path -> whsec_…
    failing: dict[str, int] = field(default_factory=dict)  # path -> status to answer
    answers: dict[str, Any] = field(default_factory=dict)  # path -> JSON to answer

    def at(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    async def handle(self, request: Request) -> JSONResponse:
        path = request.url.path
        body = await request.body()
        verified = None
        if path in self.secrets:
            try:
                Webhook(self.secrets[path]).verify(body, dict(request.headers))
                verified = True
            except WebhookVerificationError:
                verified = False
        self.hits.append(Hit(path, dict(request.headers), body, verified))
        if path in self.failing:
            return JSONResponse({"error": "failing on demand"}, status_code=self.failing[path])
        if verified is False:
            return JSONResponse({"error": "bad signature"}, status_code=401)
        return JSONResponse(self.answers.get(path, {"ok": True}))

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/{rest:path}", self.handle, methods=["POST"])])
