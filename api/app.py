"""The ASGI application: Starlette routes, the GraphQL endpoint, health checks, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp
from tortoise import Tortoise, connections

from accounts.revocations import revocations
from api.auth import TENANT_HEADER
from api.database import tortoise_config
from api.db_connect import asyncpg_dsn
from api.endpoint import AuthenticatedEndpoint, BodyLimit, PahtGraphQL
from api.errors import request_language
from api.media_files import MediaAccess, MediaHeaders
from api.observability import RequestContextMiddleware, metrics
from api.services import Services
from api.settings import Settings
from citizens import codes as verification_codes
from core.db import close_side_pool, open_side_pool
from open311.routes import BASE_PATH, Open311
from open311.submit import MediaPolicy
from permissions.store import store
from reports.jobs import run_forever
from reports.live import bus as report_events
from reports.media_links import MEDIA_PATH, MediaLinks
from reports.storage import LocalStorage, Storage
from stats.maintain import run_forever as refresh_statistics

log = logging.getLogger("paht")


async def healthz(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(_: Request) -> Response:
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:  # any database failure means not ready
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ready"})


def media_files(storage: Storage, links: MediaLinks) -> ASGIApp:
    """Attachments under /media from whichever backend stores them, to those who may fetch
    them, always with the safe headers of api/media_files.py."""
    if isinstance(storage, LocalStorage):
        files: ASGIApp = StaticFiles(directory=storage.root, check_dir=False)
    else:
        from api.media_s3 import S3MediaFiles

        files = S3MediaFiles(storage)  # type: ignore[arg-type]
    return MediaHeaders(MediaAccess(files, links))


def create_app(
    settings: Settings,
    database_url: str | None,
    *,
    manage_db: bool = True,
    on_shutdown: Callable[[], None] | None = None,
) -> Starlette:
    """``database_url`` is the application-role DSN; ``manage_db=False`` when the caller has
    already initialised Tortoise (tests). ``on_shutdown`` runs last in the lifespan: uvicorn
    re-raises SIGINT/SIGTERM after shutdown, so code after ``uvicorn.run`` may never run."""
    services = Services.from_settings(settings)
    verification_codes.configure(settings.verification_code_key())
    graphql_view = PahtGraphQL(services)
    graphql_app = BodyLimit(
        AuthenticatedEndpoint(graphql_view),
        json_bytes=settings.max_request_bytes,
        multipart_bytes=settings.max_body_bytes,
    )

    open311 = Open311(
        MediaPolicy(services.storage, services.media_limits, settings.open311_media_private_hosts),
        services.media_links,
        str(settings.public_url) if settings.public_url else None,
        request_language,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if manage_db and database_url:
            await Tortoise.init(
                config=tortoise_config(database_url, pool_max=settings.db_pool_max),
                _enable_global_fallback=True,
            )
        side_pool = False
        if database_url:
            dsn = asyncpg_dsn(database_url)
            side_pool = await open_side_pool(dsn)

            def listen() -> Any:  # a dedicated connection per listener (core/listen.py)
                return asyncpg.connect(dsn, server_settings={"application_name": "paht-listen"})

            await store.start_listening(listen)
            await revocations.start_listening(listen)
            await report_events.start(listen)
        jobs = (
            asyncio.create_task(
                run_forever(
                    settings.jobs_interval_seconds,
                    services.outbox,
                    settings.outbox_interval_seconds,
                )
            )
            if database_url and settings.jobs_interval_seconds > 0
            else None
        )
        refresher = (
            asyncio.create_task(
                refresh_statistics(settings.jobs_interval_seconds, services.storage)
            )
            if database_url and settings.jobs_interval_seconds > 0
            else None
        )
        try:
            yield
        finally:
            for task in (jobs, refresher):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
            await store.stop_listening()
            await revocations.stop_listening()
            await report_events.stop()
            if side_pool:
                await close_side_pool()
            if manage_db and database_url:
                await Tortoise.close_connections()
            if on_shutdown is not None:
                on_shutdown()

    app = Starlette(
        debug=settings.debug,
        routes=[
            Route("/graphql", graphql_app, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql_app),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            Mount(MEDIA_PATH, media_files(services.storage, services.media_links)),
            Mount(BASE_PATH, routes=open311.routes()),
        ],
        middleware=[
            Middleware(RequestContextMiddleware),
            # Browser apps on other origins: the same list the WebSocket handshake checks.
            Middleware(
                CORSMiddleware,
                allow_origins=settings.allowed_origins,
                allow_methods=["GET", "POST", "OPTIONS"],
                allow_headers=CORS_REQUEST_HEADERS,
                expose_headers=CORS_EXPOSED_HEADERS,
                allow_credentials=False,  # bearer tokens, never cookies
                max_age=600,
            ),
        ],
        lifespan=lifespan,
    )
    app.state.compiled_operations = graphql_view.compiled  # its counters (tests, bench)
    return app


# Authorization and a JSON or multipart Content-Type make every API call a preflighted request,
# which is what keeps other sites from posting uploads in a user's name.
CORS_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "Accept-Language",
    TENANT_HEADER,
    "X-Request-Id",
]
CORS_EXPOSED_HEADERS = ["X-Request-Id", "Retry-After"]
