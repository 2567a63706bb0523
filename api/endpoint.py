"""The /graphql endpoint: body limits, the bearer token, the strawberry view.

Whatever is refused before GraphQL runs (an oversized or malformed body, a batch, a bad token,
an unreachable database) still answers in GraphQL's shape: JSON ``errors`` with a stable
``extensions.code`` and both messages."""

from __future__ import annotations

import json
import logging
from typing import Any

from cross_web import HTTPException as StrawberryHTTPException
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.file_uploads.utils import replace_placeholders_with_files
from strawberry.http import GraphQLHTTPResponse
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET

from api.auth import TENANT_HEADER, anonymous_scope, bearer, scope_from_token
from api.compiled import CompiledOperations
from api.errors import error_response, present, request_language
from api.limits import vi_number
from api.observability import bind
from api.schema import schema
from api.services import Services
from api.websocket import SessionBoundTransportWS
from core.errors import DomainError, ServiceUnavailable, is_database_unavailable
from core.graphql import Context
from permissions.scope import ANONYMOUS

log = logging.getLogger("paht.errors")


class RequestRefused(DomainError):
    """A request refused before GraphQL runs, with the HTTP status to answer."""

    def __init__(self, status: int, code: str, message_vi: str, message_en: str) -> None:
        super().__init__(code, message_vi, message_en)
        self.status = status


# What strawberry's own refusals say, in Vietnamese (the English is strawberry's text).
_BAD_REQUEST_VI = {
    "GraphQL only supports GET and POST requests.": "GraphQL chỉ nhận yêu cầu GET và POST.",
    "Not Found": "Không tìm thấy.",
    "Unable to parse request body as JSON": "Nội dung yêu cầu không phải JSON hợp lệ.",
    "No GraphQL query found in the request": "Yêu cầu không có truy vấn GraphQL.",
    "File(s) missing in form data": "Thiếu tệp trong dữ liệu gửi lên.",
    "Unable to parse the multipart body": "Không đọc được nội dung multipart.",
    "Unsupported content type": "Kiểu nội dung (Content-Type) không được hỗ trợ.",
    "Batching is not enabled": "Mỗi yêu cầu chỉ gửi một thao tác GraphQL.",
    "Too many operations": "Mỗi yêu cầu chỉ gửi một thao tác GraphQL.",
}


def _bad_request(message_en: str) -> RequestRefused:
    message_vi = _BAD_REQUEST_VI.get(message_en)
    if message_vi is None and message_en.startswith("The GraphQL operation's"):
        message_vi = "Yêu cầu GraphQL sai định dạng (query, variables hoặc extensions)."
    return RequestRefused(
        400, "BAD_REQUEST", message_vi or "Yêu cầu không hợp lệ.", message_en or "Bad request."
    )


def _invalid_multipart() -> RequestRefused:
    return RequestRefused(
        400,
        "INVALID_MULTIPART",
        "Yêu cầu tải tệp không hợp lệ: bảng map trỏ tới tệp hoặc biến không có trong yêu cầu.",
        "Invalid multipart request: `map` names a file or a variable path that is not in the "
        "request.",
    )


def _valid_map(files_map: Any, files: Any, operations: dict[str, Any]) -> bool:
    """Every entry names a file that was sent and paths that exist in the operation."""
    if not isinstance(files_map, dict):
        return False
    for name, paths in files_map.items():
        if name not in files or not isinstance(paths, list) or not paths:
            return False
        for path in paths:
            if not isinstance(path, str) or not _path_exists(operations, path.split(".")):
                return False
    return True


def _path_exists(target: Any, keys: list[str]) -> bool:
    for key in keys:
        if isinstance(target, list):
            if not key.isdigit() or int(key) >= len(target):
                return False
            target = target[int(key)]
        elif isinstance(target, dict):
            if key not in target:
                return False
            target = target[key]
        else:
            return False
    return True


def _unparsable() -> RequestRefused:
    return RequestRefused(
        400,
        "INVALID_JSON",
        "Nội dung yêu cầu không phải JSON hợp lệ.",
        "The request body is not valid JSON.",
    )


class PahtGraphQL(GraphQL[Context, None]):
    graphql_transport_ws_handler_class = SessionBoundTransportWS

    def __init__(self, services: Services) -> None:
        settings = services.settings
        super().__init__(
            schema,
            graphql_ide="graphiql" if settings.debug else None,
            allow_queries_via_get=True,
            multipart_uploads_enabled=True,
            allowed_origins=tuple(settings.allowed_origins),
        )
        self.services = services
        self.compiled = (
            CompiledOperations(schema, settings.graphql_limits())
            if settings.compiled_operations
            else None
        )

    async def execute_single(
        self,
        request: Any,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: Any,
        request_data: Any,
    ) -> ExecutionResult:
        """A known query runs its compiled plan (api/compiled.py); the first run of a
        document, and whatever the plan leaves to strawberry, runs through strawberry."""
        compiled, query = self.compiled, request_data.query
        name = request_data.operation_name
        if compiled is not None and isinstance(query, str) and request_data.protocol == "http":
            if compiled.known(query, name):
                data = await compiled.execute(query, name, request_data.variables, context)
                if data is not None:
                    return ExecutionResult(data=data, errors=None)
            result = await super().execute_single(
                request, request_adapter, sub_response, context, root_value, request_data
            )
            if not result.errors and not compiled.known(query, name):
                compiled.learn(query, name)
            return result
        return await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        lang = request_language(Headers(scope=scope).get("accept-language"))
        try:
            response = await self.run(Request(scope=scope, receive=receive))
        except RequestRefused as refused:
            response = error_response(refused, lang, refused.status)
        except (StrawberryHTTPException, StarletteHTTPException) as error:
            status = getattr(error, "status_code", 400)
            reason = getattr(error, "reason", None) or getattr(error, "detail", "")
            response = error_response(_bad_request(str(reason)), lang, status)
        await response(scope, receive, send)

    # --- parsing: typed refusals instead of plain-text 400s and 500s --------------------------

    def decode_json(self, data: str | bytes) -> object:
        """WebSocket messages: too deep a nesting is just invalid JSON (the protocol closes the
        connection with 4400)."""
        try:
            return json.loads(data)
        except RecursionError as error:
            raise json.JSONDecodeError("nesting too deep", "", 0) from error

    def parse_json(self, data: str | bytes) -> Any:
        """HTTP bodies, multipart `operations` and `map`, GET variables."""
        try:
            decoded = json.loads(data)
        except RecursionError as error:  # nesting deeper than the interpreter's stack
            raise RequestRefused(
                400,
                "VARIABLES_TOO_DEEP",
                "Dữ liệu JSON lồng quá sâu.",
                "The JSON data nests too deeply.",
            ) from error
        except ValueError as error:
            raise _unparsable() from error
        if isinstance(decoded, list):
            raise RequestRefused(
                400,
                "BATCH_NOT_SUPPORTED",
                "Mỗi yêu cầu chỉ gửi một thao tác GraphQL.",
                "Send one GraphQL operation per request; batches are not supported.",
            )
        return decoded

    async def parse_multipart(self, request: Any) -> dict[str, str]:
        """The GraphQL multipart request: `operations`, a `map` of file fields to variable
        paths, and the files. A map naming a missing file or path is the client's error."""
        try:
            form = await request.get_form_data()
        except StarletteHTTPException as error:  # python-multipart's refusals, as plain text
            if "maximum size" in str(error.detail):
                raise RequestRefused(
                    413,
                    "REQUEST_TOO_LARGE",
                    "Một phần của yêu cầu (operations hoặc map) vượt quá 1 MB.",
                    "A part of the request (operations or map) is larger than 1 MB.",
                ) from error
            raise _invalid_multipart() from error
        operations = self.parse_json(form.form.get("operations") or "{}")
        files_map = self.parse_json(form.form.get("map") or "{}")
        if not isinstance(operations, dict) or not _valid_map(files_map, form.files, operations):
            raise _invalid_multipart()
        return replace_placeholders_with_files(operations, files_map, form.files)

    # --- context and results ------------------------------------------------------------------

    def public_origin(self, request: Any) -> str:
        """Where clients reach the API: the configured public URL, else the origin this request
        came to (for a WebSocket, its HTTP counterpart)."""
        if self.services.settings.public_url:
            return str(self.services.settings.public_url)
        url = request.base_url
        scheme = {"ws": "http", "wss": "https"}.get(url.scheme, url.scheme)
        return f"{scheme}://{url.netloc}"

    async def get_context(self, request: Any, response: Any) -> Context:
        state = request.scope.get("state") or {}
        client = request.scope.get("client")
        return Context(
            scope=state.get("paht_scope", ANONYMOUS),
            lang=request_language(request.headers.get("accept-language")),
            request=request,
            services=self.services,
            media=self.services.media_links.at(self.public_origin(request)),
            caller=state.get("paht_caller"),
            client_address=str(client[0]) if client else "",
        )

    async def on_ws_connect(self, context: Context) -> Any:
        """Browsers cannot set WebSocket headers: the token (and, for anonymous clients, the
        tenant) come in the connection_init payload."""
        params = context.connection_params or {}
        if isinstance(params.get("lang"), str):
            context.lang = request_language(params["lang"])
        token = bearer(str(params.get("Authorization") or params.get("authorization") or ""))
        token = token or (str(params["token"]) if params.get("token") else None)
        try:
            tenant = params.get("tenant")
            tenant = str(tenant) if tenant else None
            if token is None:
                context.scope = await anonymous_scope(tenant)
            else:
                caller = await scope_from_token(token, self.services.tokens, tenant)
                context.scope = caller.scope
                context.caller = caller
        except DomainError as error:
            raise ConnectionRejectionError(
                {"code": error.code, "message": error.details[0].message(context.lang)}
            ) from error
        return UNSET

    async def process_result(self, request: Any, result: ExecutionResult) -> GraphQLHTTPResponse:
        data: GraphQLHTTPResponse = {"data": result.data}
        lang = request_language(request.headers.get("accept-language"))
        if result.errors:
            data["errors"] = [present(e, lang).formatted for e in result.errors]
        if result.extensions:
            data["extensions"] = result.extensions
        return data

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        response = super().create_response(response_data, sub_response)
        errors = response_data.get("errors") if isinstance(response_data, dict) else None
        for error in errors or ():
            extensions = error.get("extensions") or {}
            status = _STATUS_OF.get(str(extensions.get("code")))
            if status is not None:
                # The operation did not run: proxies and clients may retry after a while.
                response.status_code = status
                response.headers["Retry-After"] = str(extensions.get("retryAfter") or 5)
                break
        return response


_STATUS_OF = {"SERVICE_UNAVAILABLE": 503, "TOO_MANY_ATTEMPTS": 429}


class AuthenticatedEndpoint:
    """Verifies the bearer token before GraphQL runs. A bad token is refused with HTTP 401 and
    a typed error (never downgraded to anonymous: the client must learn to refresh)."""

    def __init__(self, app: PahtGraphQL) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = Headers(scope=scope)
            lang = request_language(headers.get("accept-language"))
            caller = None
            try:
                token = bearer(headers.get("authorization"))
                if token is None:
                    paht_scope = await anonymous_scope(headers.get(TENANT_HEADER))
                else:
                    caller = await scope_from_token(
                        token, self.app.services.tokens, headers.get(TENANT_HEADER)
                    )
                    paht_scope = caller.scope
            except DomainError as error:
                response = error_response(error, lang, 401, {"WWW-Authenticate": "Bearer"})
                await response(scope, receive, send)
                return
            except Exception as error:
                if not is_database_unavailable(error):
                    raise
                log.warning("database unavailable: %s", error)
                await error_response(ServiceUnavailable(), lang, 503)(scope, receive, send)
                return
            state = scope.setdefault("state", {})
            state["paht_scope"] = paht_scope
            state["paht_caller"] = caller
            bind(tenant_id=str(paht_scope.tenant_id or ""), user_id=str(paht_scope.user_id or ""))
        await self.app(scope, receive, send)


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Caps request bodies by kind: a JSON operation needs little, a multipart upload of
    photos or a video needs more. Counted as the body streams in, so an oversized upload is
    refused without being buffered; the refusal is a typed JSON error (HTTP 413)."""

    def __init__(self, app: Any, *, json_bytes: int, multipart_bytes: int) -> None:
        self.app = app
        self.json_bytes = json_bytes
        self.multipart_bytes = multipart_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        multipart = headers.get("content-type", "").lower().startswith("multipart/")
        limit = self.multipart_bytes if multipart else self.json_bytes
        lang = request_language(headers.get("accept-language"))
        refusal = RequestRefused(
            413,
            "REQUEST_TOO_LARGE",
            f"Yêu cầu vượt quá {vi_number(limit // 1024)} KB.",
            f"The request is larger than {limit // 1024:,} KB.",
        )
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await error_response(refusal, lang, 413)(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if started:
                raise
            await error_response(refusal, lang, 413)(scope, receive, send)
