"""The ASGI application: Starlette routes, the GraphQL endpoint, health checks, lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import jwt
from graphql import GraphQLError
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.relay.types import GlobalIDValueError
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET
from tortoise import Tortoise, connections

from api.auth import TENANT_HEADER, anonymous_scope, bearer, scope_from_token
from api.database import tortoise_config
from api.media_files import MediaHeaders
from api.observability import RequestContextMiddleware, bind, metrics
from api.schema import schema
from api.services import Services
from api.settings import Settings
from core.errors import DomainError
from core.graphql import Context
from permissions.scope import ANONYMOUS
from permissions.store import store
from reports.jobs import run_forever
from reports.live import bus as report_events

log = logging.getLogger("paht")


def request_language(header: str | None) -> str:
    return "en" if header and header.strip().lower().startswith("en") else "vi"


class PahtGraphQL(GraphQL[Context, None]):
    def __init__(self, services: Services) -> None:
        super().__init__(
            schema,
            graphql_ide="graphiql" if services.settings.debug else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=True,
            allowed_origins=tuple(services.settings.allowed_origins),
        )
        self.services = services

    async def get_context(self, request: Any, response: Any) -> Context:
        state = request.scope.get("state") or {}
        return Context(
            scope=state.get("paht_scope", ANONYMOUS),
            lang=request_language(request.headers.get("accept-language")),
            request=request,
            services=self.services,
        )

    async def on_ws_connect(self, context: Context) -> Any:
        """Browsers cannot set WebSocket headers: the token (and, for anonymous clients, the
        tenant) come in the connection_init payload."""
        params = context.connection_params or {}
        token = bearer(str(params.get("Authorization") or params.get("authorization") or ""))
        token = token or (str(params["token"]) if params.get("token") else None)
        try:
            tenant = params.get("tenant")
            tenant = str(tenant) if tenant else None
            if token is None:
                context.scope = await anonymous_scope(tenant)
            else:
                context.scope = await scope_from_token(token, self.services.tokens, tenant)
                claims = jwt.decode(token, options={"verify_signature": False})
                context.token_expires_at = float(claims.get("exp", 0)) or None
        except DomainError as error:
            raise ConnectionRejectionError({"code": error.code}) from error
        return UNSET

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        data: GraphQLHTTPResponse = {"data": result.data}
        lang = request_language(request.headers.get("accept-language"))
        if result.errors:
            data["errors"] = [_format_error(e, lang) for e in result.errors]
        if result.extensions:
            data["extensions"] = result.extensions
        return data


def _format_error(error: GraphQLError, lang: str) -> dict[str, Any]:
    formatted = error.formatted
    original = error.original_error
    extensions = dict(formatted.get("extensions") or {})
    if isinstance(original, DomainError):
        detail = original.details[0]
        formatted["message"] = detail.message(lang)
        extensions.update(
            code=detail.code,
            field=detail.field,
            messageVi=detail.message_vi,
            messageEn=detail.message_en,
        )
    elif isinstance(original, GlobalIDValueError):
        extensions.setdefault("code", "INVALID_ID")
    elif original is None:
        extensions.setdefault("code", "GRAPHQL_VALIDATION_FAILED")
    else:
        extensions.setdefault("code", "INTERNAL_ERROR")
    formatted["extensions"] = extensions
    return formatted


class AuthenticatedEndpoint:
    """Verifies the bearer token before GraphQL runs. A bad token is refused with HTTP 401 and
    a typed error (never downgraded to anonymous: the client must learn to refresh)."""

    def __init__(self, app: PahtGraphQL) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = Headers(scope=scope)
            try:
                token = bearer(headers.get("authorization"))
                if token is None:
                    paht_scope = await anonymous_scope(headers.get(TENANT_HEADER))
                else:
                    paht_scope = await scope_from_token(
                        token, self.app.services.tokens, headers.get(TENANT_HEADER)
                    )
            except DomainError as error:
                lang = request_language(headers.get("accept-language"))
                detail = error.details[0]
                body = {
                    "errors": [
                        {
                            "message": detail.message(lang),
                            "extensions": {
                                "code": detail.code,
                                "messageVi": detail.message_vi,
                                "messageEn": detail.message_en,
                            },
                        }
                    ]
                }
                await JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})(
                    scope, receive, send
                )
                return
            scope.setdefault("state", {})["paht_scope"] = paht_scope
            bind(tenant_id=str(paht_scope.tenant_id or ""), user_id=str(paht_scope.user_id or ""))
        await self.app(scope, receive, send)


async def healthz(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(_: Request) -> Response:
    try:
        await connections.get("default").execute_query("SELECT 1")
    except Exception:  # any database failure means not ready
        return JSONResponse({"status": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ready"})


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
    graphql_app = AuthenticatedEndpoint(PahtGraphQL(services))

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        if manage_db and database_url:
            await Tortoise.init(
                config=tortoise_config(database_url, pool_max=settings.db_pool_max),
                _enable_global_fallback=True,
            )
        if database_url:
            dsn = database_url.replace("asyncpg://", "postgresql://", 1)
            await store.start_listening(lambda: asyncpg.connect(dsn))
            await report_events.start(lambda: asyncpg.connect(dsn))
        jobs = (
            asyncio.create_task(run_forever(settings.jobs_interval_seconds))
            if database_url and settings.jobs_interval_seconds > 0
            else None
        )
        try:
            yield
        finally:
            if jobs is not None:
                jobs.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await jobs
            await store.stop_listening()
            await report_events.stop()
            if manage_db and database_url:
                await Tortoise.close_connections()
            if on_shutdown is not None:
                on_shutdown()

    return Starlette(
        debug=settings.debug,
        routes=[
            Route(
                "/graphql",
                graphql_app,
                methods=["GET", "POST"],
                max_body_size=settings.max_body_bytes,
            ),
            WebSocketRoute("/graphql", graphql_app),
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            # Local media storage; production serves these from a web server or object store,
            # which must send the same headers (api/media_files.py).
            Mount(
                "/media",
                MediaHeaders(StaticFiles(directory=settings.media_dir(), check_dir=False)),
            ),
        ],
        middleware=[Middleware(RequestContextMiddleware)],
        lifespan=lifespan,
    )
