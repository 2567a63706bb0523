"""A small webhook receiver for development: prints each delivery and whether its signature
verifies (Standard Webhooks, checked with the ``standardwebhooks`` package, independently of
PAHT's own signing code).

    .venv/bin/python tools/webhook_receiver.py --secret whsec_… [--port 8090] [--fail]

Register ``http://127.0.0.1:8090/hook`` with createWebhookEndpoint and pass the secret it
answered. ``--fail`` answers 503 to everything (to watch retries, back-off and disabling)."""

from __future__ import annotations

import argparse
import json

import uvicorn
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


def build(secret: str | None, fail: bool) -> Starlette:
    seen: set[str] = set()

    async def hook(request: Request) -> JSONResponse:
        body = await request.body()
        message_id = request.headers.get("webhook-id", "?")
        verdict = "unsigned check skipped (no --secret)"
        if secret:
            try:
                Webhook(secret).verify(body, dict(request.headers))
                verdict = "signature OK"
            except WebhookVerificationError as exc:
                verdict = f"signature REFUSED ({exc})"
        repeat = " (a repeat: same id as before)" if message_id in seen else ""
        seen.add(message_id)
        print(f"--- {message_id}{repeat}: {verdict}")
        try:
            print(json.dumps(json.loads(body), ensure_ascii=False, indent=2))
        except ValueError:
            print(body[:2000])
        if fail:
            return JSONResponse({"error": "failing on purpose (--fail)"}, status_code=503)
        if secret and verdict != "signature OK":
            return JSONResponse({"error": "bad signature"}, status_code=401)
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route("/{path:path}", hook, methods=["POST"])])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--secret", default=None, help="the whsec_… createWebhookEndpoint answered")
    parser.add_argument("--fail", action="store_true")
    args = parser.parse_args()
    uvicorn.run(build(args.secret, args.fail), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
