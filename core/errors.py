"""Typed, bilingual errors.

Every error that reaches a person carries a stable machine ``code``, a message in Vietnamese and
in English, and optionally the input ``field`` it concerns. Services raise ``DomainError``; the
GraphQL layer turns it into a payload error (mutations) or a GraphQL error with the same
extensions (queries). Anything that is not a ``DomainError`` is unexpected and gets masked.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import asyncpg
from tortoise.exceptions import DBConnectionError

from core.glossary import Term
from core.labels import Labelled


@dataclass(frozen=True)
class ErrorDetail:
    code: str
    message_vi: str
    message_en: str
    field: str | None = None

    def message(self, lang: str) -> str:
        return self.message_en if lang == "en" else self.message_vi


class DomainError(Exception):
    """An expected failure: bad input, a refused action, a missing object.

    It may carry several details (one per offending input field)."""

    def __init__(
        self,
        code: str,
        message_vi: str,
        message_en: str,
        field: str | None = None,
        *,
        details: list[ErrorDetail] | None = None,
        retry_after: int | None = None,
    ) -> None:
        first = ErrorDetail(code, message_vi, message_en, field)
        self.details: list[ErrorDetail] = details or [first]
        self.retry_after = retry_after  # seconds, for limits a client may wait out
        super().__init__(f"{code}: {message_en}")

    @property
    def code(self) -> str:
        return self.details[0].code

    @property
    def field(self) -> str | None:
        return self.details[0].field

    @property
    def extensions(self) -> dict[str, object]:
        """graphql-core copies an original error's ``extensions`` into the GraphQL error, so
        every transport (HTTP, WebSocket) carries the stable code and both messages."""
        first = self.details[0]
        extensions: dict[str, object] = {
            "code": first.code,
            "field": first.field,
            "messageVi": first.message_vi,
            "messageEn": first.message_en,
        }
        if self.retry_after is not None:
            extensions["retryAfter"] = self.retry_after
        return extensions

    @classmethod
    def many(cls, details: list[ErrorDetail]) -> DomainError:
        return cls(
            details[0].code,
            details[0].message_vi,
            details[0].message_en,
            details[0].field,
            details=details,
        )


class NotFound(DomainError):
    """The object does not exist *or* lies outside the caller's scope: never say which."""

    def __init__(self, what: Term = Term.OBJECT, field: str | None = None) -> None:
        super().__init__(
            "NOT_FOUND",
            f"Không tìm thấy {what.label_vi}.",
            f"The {what.label_en} was not found.",
            field,
        )


class PermissionDenied(DomainError):
    """``action``: the permission missing (a labelled action), named in the message."""

    def __init__(self, action: Labelled | None = None) -> None:
        vi = f" («{action.label_vi}»)" if action is not None else ""
        en = f" ({action.value}: {action.label_en})" if action is not None else ""
        super().__init__(
            "FORBIDDEN",
            f"Bạn không có quyền thực hiện thao tác này{vi}.",
            f"You are not allowed to do this{en}.",
        )


class Unauthenticated(DomainError):
    def __init__(self) -> None:
        super().__init__(
            "UNAUTHENTICATED",
            "Bạn cần đăng nhập.",
            "Authentication is required.",
        )


class TooManyAttempts(DomainError):
    """A rate limit or back-off: the client may try again after ``retry_after`` seconds."""

    def __init__(self, retry_after: int, field: str | None = None) -> None:
        super().__init__(
            "TOO_MANY_ATTEMPTS",
            f"Bạn đã thử quá nhiều lần. Vui lòng thử lại sau {retry_after} giây.",
            f"Too many attempts. Try again in {retry_after} seconds.",
            field,
            retry_after=retry_after,
        )


class ServiceUnavailable(DomainError):
    def __init__(self, retry_after: int = 5) -> None:
        super().__init__(
            "SERVICE_UNAVAILABLE",
            "Hệ thống tạm thời gián đoạn. Vui lòng thử lại sau ít phút.",
            "The service is temporarily unavailable. Please try again shortly.",
            retry_after=retry_after,
        )


_UNAVAILABLE = (
    DBConnectionError,
    asyncpg.PostgresConnectionError,  # SQLSTATE class 08
    asyncpg.CannotConnectNowError,  # starting up or shutting down
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.ConnectionDoesNotExistError,
)


def _raised_in_driver(error: BaseException) -> bool:
    """An OSError (refused, reset, no such socket) counts only when the driver raised it: a
    full disk under the media folder is our fault, not an outage."""
    tb = error.__traceback__
    while tb is not None:
        if str(tb.tb_frame.f_globals.get("__name__", "")).startswith("asyncpg"):
            return True
        tb = tb.tb_next
    return False


def is_database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) means the database cannot be reached now."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, _UNAVAILABLE):
            return True
        if isinstance(current, OSError) and _raised_in_driver(current):
            return True
        if isinstance(current, asyncpg.InterfaceError) and "closed" in str(current):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


@dataclass
class Validator:
    """Collects input errors so that one response names every bad field at once."""

    errors: list[ErrorDetail] = field(default_factory=list)

    def add(self, code: str, field_name: str, message_vi: str, message_en: str) -> None:
        self.errors.append(ErrorDetail(code, message_vi, message_en, field_name))

    def text(
        self,
        field_name: str,
        value: str | None,
        *,
        min_len: int = 1,
        max_len: int = 255,
        required: bool = True,
    ) -> str | None:
        """Validate and normalise (strip) a text input; returns the cleaned value."""
        if value is None:
            if required:
                self.add(
                    "REQUIRED", field_name, "Trường này là bắt buộc.", "This field is required."
                )
            return None
        cleaned = value.strip()
        if required and len(cleaned) < min_len:
            self.add(
                "REQUIRED",
                field_name,
                "Trường này không được để trống.",
                "This field must not be empty.",
            )
        elif len(cleaned) > max_len:
            self.add(
                "TOO_LONG",
                field_name,
                f"Tối đa {max_len} ký tự.",
                f"At most {max_len} characters.",
            )
        return cleaned

    def check(self) -> None:
        if self.errors:
            raise DomainError.many(self.errors)


# SQLSTATE of the read-only guard (migration 0023: a write to a tenant that is not active).
READ_ONLY_SQLSTATE = "PT423"


class TenantReadOnly(DomainError):
    """A write to a locality that is suspended, archived or merged: its data is kept and can
    be read, nothing can be changed."""

    def __init__(self) -> None:
        super().__init__(
            "TENANT_READ_ONLY",
            "Đơn vị triển khai đang tạm dừng, đã lưu trữ hoặc đã sáp nhập: dữ liệu chỉ được xem, "
            "không thay đổi được.",
            "This tenant is suspended, archived or merged: its data can be read, not changed.",
        )


def read_only_tenant(error: BaseException) -> TenantReadOnly | None:
    """The typed error for a write the read-only guard refused (anywhere in the cause chain)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if getattr(current, "sqlstate", None) == READ_ONLY_SQLSTATE:
            return TenantReadOnly()
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None
