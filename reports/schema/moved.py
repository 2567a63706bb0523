"""Following a report that moved to another tenant in a split (tenants/split.py), for the
callers that name it by its tracking code in the locality they know: ``trackReport``, the
answer to an agency's question, the erasure of the contact."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from core.errors import DomainError
from core.graphql import Info
from permissions.scope import Scope, anonymous_in
from permissions.session import rescope
from reports.queries import ReportMoved

T = TypeVar("T")


async def following_moves(info: Info, call: Callable[[Scope], Awaitable[T]]) -> T:
    """Run ``call`` with the request's scope; when its tracking code names a report that moved,
    an anonymous caller goes on in the tenant holding it, as if its app had named that tenant
    (the same anonymous scope, nothing more), for the rest of the request. A signed-in
    caller's grants are of its own tenant: it gets NOT_FOUND, as before. The second lookup
    counts against the same limit: a moved code costs two."""
    try:
        return await call(info.context.scope)
    except ReportMoved as moved:
        previous = info.context.scope
        if previous.user_id is not None:
            raise
        info.context.scope = anonymous_in(moved.tenant_id)
        info.context.loaders = {}  # nothing read in the old tenant is reused
        await rescope(info.context.scope)
        try:
            return await call(info.context.scope)
        except DomainError:
            info.context.scope = previous
            info.context.loaders = {}
            await rescope(previous)
            raise
