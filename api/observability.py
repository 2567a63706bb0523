"""Structured JSON logs carrying the request id, tenant and user; Prometheus metrics.

Every log line emitted while a request is handled gets its ``request_id`` (from the client's
``X-Request-Id`` or a new one, echoed back in the response), ``tenant_id`` and ``user_id``."""

from __future__ import annotations

import json
import logging
import time
import uuid
from contextvars import ContextVar
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.requests import Request
from starlette.responses import Response

_request: ContextVar[dict[str, str] | None] = ContextVar("paht_request", default=None)

REQUESTS = Counter("paht_http_requests_total", "HTTP requests", ["path", "status"])
LATENCY = Histogram(
    "paht_http_request_seconds",
    "HTTP request latency",
    ["path"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


def bind(**fields: str) -> None:
    """Add fields (tenant_id, user_id) to the current request's log context."""
    current = _request.get()
    if current is not None:
        current.update({k: v for k, v in fields.items() if v})


class RequestContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_request.get() or {}).items():
            setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    _fields = ("request_id", "tenant_id", "user_id", "tenants", "username", "client", "tenant_code")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in self._fields:
            if (value := getattr(record, key, None)) is not None:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(debug: bool) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(
        logging.Formatter("%(levelname)s %(name)s: %(message)s") if debug else JsonFormatter()
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True


class RequestContextMiddleware:
    """Pure ASGI: request id in and out, log context, metrics. Secrets are never logged."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw = dict(scope.get("headers") or []).get(b"x-request-id", b"")[:64]
        incoming = raw.decode("ascii", errors="replace")
        ok = incoming and all(c.isalnum() or c in "-_.:" for c in incoming)
        request_id = incoming if ok else uuid.uuid4().hex
        token = _request.set({"request_id": request_id})
        path = scope.get("path", "")
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _request.reset(token)
            if scope["type"] == "http" and path != "/metrics":
                label = path if path in ("/graphql", "/healthz", "/readyz") else "other"
                REQUESTS.labels(label, str(status)).inc()
                LATENCY.labels(label).observe(time.perf_counter() - started)


async def metrics(_: Request) -> Response:
    """Per process; with several workers scrape each (or run one process per container)."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
