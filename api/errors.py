"""How errors look to clients and in the logs, the same on every transport.

Every GraphQL error leaves with ``extensions.code`` (stable), ``messageVi`` and ``messageEn``,
and a ``message`` in the request's language. Client errors are logged at INFO on one line;
only unexpected errors are logged at ERROR, with their traceback."""

from __future__ import annotations

import logging
import re
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from starlette.responses import JSONResponse
from strawberry.relay.types import GlobalIDValueError

from core.errors import (
    DomainError,
    ServiceUnavailable,
    is_database_unavailable,
    read_only_tenant,
)

log = logging.getLogger("paht.errors")

_INVALID_ID = DomainError("INVALID_ID", "Mã định danh không hợp lệ.", "Invalid ID.")


_VARIABLE = re.compile(r"Variable '\$(\w+)'(?:.*? at '([^']+)')?")


def _client_error(error: GraphQLError) -> tuple[str, str, str]:
    """Code and messages for errors raised by graphql-core itself (syntax, validation,
    variable coercion): the English text is graphql-core's, precise enough for developers."""
    text = error.message
    where = ""
    if error.locations:
        where = f" (dòng {error.locations[0].line}, cột {error.locations[0].column})"
    if isinstance(error, GraphQLSyntaxError):
        if "more than" in text and "tokens" in text:
            return "TOO_MANY_TOKENS", "Truy vấn có quá nhiều ký hiệu.", text
        return "GRAPHQL_PARSE_FAILED", f"Truy vấn sai cú pháp{where}.", text
    if variable := _VARIABLE.match(text):
        at = f" tại «{variable.group(2)}»" if variable.group(2) else ""
        return "BAD_USER_INPUT", f"Giá trị của biến «${variable.group(1)}» không hợp lệ{at}.", text
    return "GRAPHQL_VALIDATION_FAILED", f"Truy vấn không khớp với lược đồ{where}.", text


def classify(error: GraphQLError) -> DomainError | None:
    """The domain error an error stands for; None when it is unexpected (to be masked)."""
    original = error.original_error
    if isinstance(original, DomainError):
        return original
    if isinstance(original, GlobalIDValueError):
        return _INVALID_ID
    if original is not None and is_database_unavailable(original):
        return ServiceUnavailable()
    if original is not None and (refused := read_only_tenant(original)) is not None:
        return refused
    if original is None or isinstance(original, GraphQLError):
        # Our own limit errors carry both messages; graphql-core's are described by the outer
        # error, whose text names the variable path (and has had its suggestions removed).
        for source in (error, original):
            extensions = (source.extensions or {}) if source is not None else {}
            if "messageVi" in extensions and "messageEn" in extensions:
                return DomainError(
                    str(extensions.get("code") or "BAD_REQUEST"),
                    str(extensions["messageVi"]),
                    str(extensions["messageEn"]),
                )
        code, vi, en = _client_error(error)
        return DomainError(code, vi, en)
    return None


def present(error: GraphQLError, lang: str) -> GraphQLError:
    """Give ``error`` its code and both messages, with ``message`` in ``lang`` (in place).

    Unexpected errors arrive already masked (see api.extensions.CodedMaskErrors)."""
    extensions = dict(error.extensions or {})
    if extensions.get("code") == "INTERNAL_ERROR":
        return error
    domain = classify(error)
    if domain is None:
        return error
    detail = domain.details[0]
    extensions.update(domain.extensions)
    error.message = detail.message(lang)
    error.extensions = extensions
    return error


def log_error(error: GraphQLError) -> None:
    """One line for what the client did wrong; a traceback only for our own faults."""
    domain = classify(error)
    if domain is None:
        log.error("unexpected error: %s", error.message, exc_info=error.original_error)
    elif isinstance(domain, ServiceUnavailable):
        log.warning("database unavailable: %s", error.original_error)
    else:
        log.info("client error %s: %s", domain.code, domain.details[0].message_en)


def error_body(error: DomainError, lang: str) -> dict[str, Any]:
    """A GraphQL-shaped response body for errors refused before GraphQL runs."""
    extensions: dict[str, Any] = {k: v for k, v in error.extensions.items() if v is not None}
    return {"errors": [{"message": error.details[0].message(lang), "extensions": extensions}]}


def error_response(
    error: DomainError, lang: str, status: int, headers: dict[str, str] | None = None
) -> JSONResponse:
    headers = dict(headers or {})
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    return JSONResponse(error_body(error, lang), status_code=status, headers=headers)


def request_language(header: str | None) -> str:
    return "en" if header and header.strip().lower().startswith("en") else "vi"
