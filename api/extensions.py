"""Schema extensions: one transaction per operation with the Scope applied for RLS."""

from __future__ import annotations

from collections.abc import AsyncIterator

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType
from tortoise.transactions import in_transaction

from core.errors import DomainError
from permissions.session import apply_scope


class ScopedTransaction(SchemaExtension):
    """Runs each query or mutation in one transaction whose first statement sets the tenant
    settings row-level security reads. Rolls back when the result carries errors, since
    graphql-core turns resolver exceptions into errors that would otherwise commit."""

    async def on_execute(self) -> AsyncIterator[None]:
        ec = self.execution_context
        if ec.operation_type is OperationType.SUBSCRIPTION:
            yield  # subscriptions open a short transaction per event instead
            return
        async with in_transaction() as conn:
            await apply_scope(conn, ec.context.scope)
            yield
            if ec.result is not None and ec.result.errors:
                await conn.rollback()


def should_mask(error: GraphQLError) -> bool:
    """Mask only unexpected exceptions; validation, limit and domain errors are for clients."""
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError | DomainError)
