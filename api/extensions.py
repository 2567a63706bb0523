"""Schema extensions: one transaction per operation with the Scope applied for RLS."""

from __future__ import annotations

from collections.abc import AsyncIterator

from graphql import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.types.graphql import OperationType
from tortoise.transactions import in_transaction

from accounts.revocations import still_valid
from api.errors import classify
from core import rollback
from core.graphql import Context
from permissions.scope import ANONYMOUS
from permissions.session import apply_scope
from permissions.store import store


class ScopedTransaction(SchemaExtension):
    """Runs each query or mutation in one transaction whose first statement sets the tenant
    settings row-level security reads. Rolls back when the result carries errors, since
    graphql-core turns resolver exceptions into errors that would otherwise commit."""

    async def on_execute(self) -> AsyncIterator[None]:
        ec = self.execution_context
        if ec.operation_type is OperationType.SUBSCRIPTION:
            yield  # subscriptions open a short transaction per event instead
            return
        if ec.context.connection_params is not None:
            await refresh_websocket_context(ec.context)
        committed = False
        with rollback.collect() as undo:
            try:
                async with in_transaction() as conn:
                    await apply_scope(conn, ec.context.scope)
                    yield
                    failed = bool(ec.result is not None and ec.result.errors)
                    if failed:
                        await conn.rollback()
                committed = not failed
            finally:
                if not committed:
                    await rollback.run(undo)  # files stored by steps that were rolled back


async def refresh_websocket_context(ctx: Context) -> None:
    """Queries and mutations sent over a long-lived WebSocket get the caller's current Scope (a
    revoke or deactivation applies at once), run as anonymous once the token has expired or its
    session was revoked, and start with empty DataLoader caches."""
    ctx.loaders = {}
    scope = ctx.scope
    if scope.user_id is None:
        return
    current = None
    if await still_valid(ctx.caller):
        current = await store.scope_for(scope.user_id, scope.tenant_id)
    ctx.scope = current if current is not None and current.active else ANONYMOUS


def should_mask(error: GraphQLError) -> bool:
    """Mask only unexpected exceptions; validation, limit, ID and domain errors are for
    clients, and so is an unreachable database (SERVICE_UNAVAILABLE: retry later)."""
    return classify(error) is None


class CodedMaskErrors(MaskErrors):
    """Masked errors keep a stable code (the schema logged them with their cause)."""

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        context = self.execution_context.context
        lang = getattr(context, "lang", "vi")
        return GraphQLError(
            message=INTERNAL_VI if lang == "vi" else INTERNAL_EN,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            extensions={
                "code": "INTERNAL_ERROR",
                "messageVi": INTERNAL_VI,
                "messageEn": INTERNAL_EN,
            },
        )


INTERNAL_VI = "Lỗi hệ thống. Vui lòng thử lại sau."
INTERNAL_EN = "Internal error."
