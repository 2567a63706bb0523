"""Request ids, structured logs and metrics."""

from __future__ import annotations

import json
import logging

import httpx

from api.observability import JsonFormatter, RequestContextFilter, _request, bind


async def test_request_id_is_echoed_or_made(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-Id": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = await client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    assert made.headers["x-request-id"] != given.headers["x-request-id"]
    odd = await client.get("/healthz", headers={"X-Request-Id": b"\xff\xfe<script>"})
    assert odd.status_code == 200 and len(odd.headers["x-request-id"]) == 32  # replaced


async def test_metrics_count_requests(client: httpx.AsyncClient) -> None:
    # The counter is process-global (other tests count too): compare before and after.
    series = 'paht_http_requests_total{path="/graphql",status="200"}'
    before = _sample((await client.get("/metrics")).text, series)
    await client.post("/graphql", json={"query": "{ __typename }"})
    body = (await client.get("/metrics")).text
    assert _sample(body, series) == before + 1
    assert "paht_http_request_seconds_bucket" in body


def _sample(body: str, series: str) -> float:
    """The value of one series in a Prometheus text exposition; 0 if not exported yet."""
    lines = [x for x in body.splitlines() if x.startswith(series + " ")]
    assert len(lines) <= 1, lines
    return float(lines[0].rsplit(" ", 1)[1]) if lines else 0.0


def test_log_lines_are_json_with_the_request_context() -> None:
    token = _request.set({"request_id": "r-1"})
    try:
        bind(tenant_id="t-1", user_id="")
        record = logging.LogRecord("paht", logging.WARNING, __file__, 1, "Lỗi %s", ("x",), None)
        assert RequestContextFilter().filter(record)
        entry = json.loads(JsonFormatter().format(record))
    finally:
        _request.reset(token)
    assert entry["message"] == "Lỗi x" and entry["level"] == "WARNING"
    assert entry["request_id"] == "r-1" and entry["tenant_id"] == "t-1"
    assert "user_id" not in entry  # empty values are not bound
