"""Conventions shared by every domain's GraphQL schema: typed errors, the request context and
the mutation runner. (Declared permissions are in permissions/graphql.py.)"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry
from strawberry.types import Info as StrawberryInfo
from strawberry.types.enum import has_enum_definition
from tortoise.transactions import in_transaction

from core.errors import DomainError, ErrorDetail, read_only_tenant
from core.labels import Labelled

if TYPE_CHECKING:  # core names the shape of a request; permissions/ defines the Scope
    from permissions.scope import Scope

T = TypeVar("T")


@dataclass
class Context:
    """Built once per request (or per WebSocket subscription event)."""

    scope: Scope
    lang: str = "vi"
    request: Any = None
    services: Any = None  # api.services.Services: token service, storage, settings
    loaders: dict[str, Any] = field(default_factory=dict)
    connection_params: dict[str, Any] | None = None  # graphql-transport-ws connection_init
    caller: Any = None  # api.auth.Caller: the token's session and expiry (WebSocket watchdog)
    client_address: str = ""  # for per-address limits (behind a proxy: its forwarded address)
    media: Any = None  # reports.media_links.MediaLinker: this request's links to media
    # Reports whose reporter the caller proved to be, by their tracking code (trackReport).
    tracked_reports: set[Any] = field(default_factory=set)

    def loader(self, name: str, factory: Callable[[Context], Any]) -> Any:
        """One DataLoader per request and name: batches within a request, never across."""
        if name not in self.loaders:
            self.loaders[name] = factory(self)
        return self.loaders[name]


Info = StrawberryInfo[Context, None]


@strawberry.type(description="A typed, translated error. `code` is stable; show `message`.")
class UserError:
    code: str
    message: str = strawberry.field(description="In the request's language (Accept-Language).")
    field: str | None = strawberry.field(description="The input field concerned, if any.")
    retry_after: int | None = strawberry.field(
        default=None,
        description="With TOO_MANY_ATTEMPTS: seconds to wait before trying again.",
    )

    @classmethod
    def from_detail(
        cls, detail: ErrorDetail, lang: str, retry_after: int | None = None
    ) -> UserError:
        return cls(
            code=detail.code,
            message=detail.message(lang),
            field=detail.field,
            retry_after=retry_after,
        )


def user_errors(error: DomainError, lang: str) -> list[UserError]:
    return [UserError.from_detail(d, lang, error.retry_after) for d in error.details]


# --- mutations ------------------------------------------------------------------------------


async def run_mutation(
    info: Info,
    work: Callable[[], Awaitable[T]],
    payload: Callable[[T | None, list[UserError]], Any],
) -> Any:
    """Run a service call in a savepoint: a DomainError undoes its writes and becomes typed
    errors in the payload; any other exception propagates (masked, and the request rolls back)."""
    try:
        async with in_transaction():
            result = await work()
    except DomainError as error:
        return payload(None, user_errors(error, info.context.lang))
    except Exception as error:
        refused = read_only_tenant(error)  # the one write guard (migration 0023)
        if refused is None:
            raise
        return payload(None, user_errors(refused, info.context.lang))
    return payload(result, [])


E = TypeVar("E", bound=Labelled)


def labelled_enum(cls: type[E], name: str, description: str | None = None) -> type[E]:
    """Make a labelled set a GraphQL enum, each value documented in Vietnamese and English.
    strawberry marks the class itself, so modules annotate with the set (``X: TypeAlias = Set``)."""
    wrapped = strawberry.enum(cls, name=name, description=description)
    assert has_enum_definition(wrapped)
    for value in wrapped.__strawberry_definition__.values:
        member = cls(value.value)
        value.description = f"{member.label_vi} — {member.label_en}"
    return cls
