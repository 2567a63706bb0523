"""Known operations run from compiled plans (api/plans.py) instead of through strawberry.

A document is compiled after strawberry has run it once without errors: it then parsed and
passed validation (the limits included), which do not depend on the variables. From then on a
request with that (query text, operation name) runs its plan: variables coerced by
graphql-core, the size and complexity limits checked (they do depend on the variables), one
transaction with the Scope applied for row-level security, exactly as ``ScopedTransaction``
does. Anything the plan does not decide (variable errors, a limit, a refusal, an exception)
rolls that transaction back and answers through strawberry, unchanged.

Only the read-only root fields named in ``COMPILED_ROOTS`` are compiled: a fallback re-runs
the operation, which must then have had no effect."""

from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    parse,
)
from graphql.execution.values import VariableValues, get_variable_values
from graphql.utilities import get_operation_ast
from tortoise.transactions import in_transaction

from api.limits import GraphQLLimits, operation_complexity, request_size_errors
from api.plans import Compiler, Completer, Run
from permissions.session import apply_scope

log = logging.getLogger("paht.compiled")

# Read-only root fields whose resolvers have no side effect (a fallback runs them again), and
# only those the differential test covers (tests/api/test_compiled_operations.py).
COMPILED_ROOTS = frozenset(
    {"reports", "report", "node", "myReports", "reportStats", "statistics", "provinceStatistics"}
)


_PLANS_PER_DOCUMENT = 64  # one per combination of @skip/@include variables met, bounded


class _Rolled(Exception):
    pass


@dataclass
class _Document:
    document: DocumentNode
    operation: OperationDefinitionNode
    fragments: dict[str, FragmentDefinitionNode]
    conditions: tuple[str, ...]  # variables read by @skip/@include
    plans: dict[tuple[Any, ...], Completer | None] = field(default_factory=dict)


@dataclass
class Stats:
    compiled: int = 0
    fallbacks: int = 0
    unsupported: int = 0


class CompiledOperations:
    """Per process (per ASGI app): plans by (query, operation name), bounded."""

    def __init__(self, strawberry_schema: Any, limits: GraphQLLimits, maxsize: int = 512) -> None:
        self.compiler = Compiler(strawberry_schema, COMPILED_ROOTS)
        self.strawberry_schema = strawberry_schema
        self.limits = limits
        self.maxsize = maxsize
        self.documents: OrderedDict[tuple[str, str | None], _Document | None] = OrderedDict()
        self.stats = Stats()

    def known(self, query: str, operation_name: str | None) -> bool:
        return (query, operation_name) in self.documents

    def learn(self, query: str, operation_name: str | None) -> None:
        """After strawberry ran the document without errors: remember it (None when the
        compiler does not cover it, so it is not tried again)."""
        key = (query, operation_name)
        if key in self.documents:
            return
        self.documents[key] = self._document(query, operation_name)
        if len(self.documents) > self.maxsize:
            self.documents.popitem(last=False)

    def _document(self, query: str, operation_name: str | None) -> _Document | None:
        try:
            document = parse(query)
        except GraphQLError:
            return None
        operation = get_operation_ast(document, operation_name)
        if operation is None or operation.operation is not OperationType.QUERY:
            return None
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        conditions = sorted(
            {
                argument.value.name.value
                for node in _directive_nodes(document)
                for argument in node.arguments or ()
                if getattr(argument.value, "kind", "") == "variable"
            }
        )
        return _Document(document, operation, fragments, tuple(conditions))

    async def execute(
        self, query: str, operation_name: str | None, variables: Any, context: Any
    ) -> dict[str, Any] | None:
        """The response's ``data``, or None: strawberry must answer."""
        doc = self.documents.get((query, operation_name))
        if doc is None:
            return None
        if variables is not None and not isinstance(variables, dict):
            return None
        if request_size_errors(query, variables, self.limits):
            return None
        coerced = get_variable_values(
            self.compiler.schema, doc.operation.variable_definitions or (), variables or {}
        )
        if isinstance(coerced, list):  # variable errors: strawberry words them
            return None
        plan = self._plan(doc, coerced)
        if plan is None:
            return None
        cost = operation_complexity(
            self.compiler.schema, doc.document, operation_name, variables, self.limits
        )
        if cost > self.limits.max_complexity:
            return None
        run = Run(context, coerced, self.strawberry_schema)
        data: dict[str, Any] | None = None
        try:
            async with in_transaction() as conn:
                await apply_scope(conn, context.scope)
                try:
                    value = plan(None, run)
                    data = await value if not isinstance(value, dict) else value
                except Exception as error:  # any doubt: strawberry answers instead
                    log.debug("fallback: %r", error)
                    raise _Rolled from error
        except _Rolled:
            self.stats.fallbacks += 1
            context.loaders = {}  # nothing cached by the attempt leaks into the re-run
            return None
        self.stats.compiled += 1
        return data

    def _plan(self, doc: _Document, coerced: VariableValues) -> Completer | None:
        key = tuple(coerced.coerced.get(name) for name in doc.conditions)
        if key in doc.plans:
            return doc.plans[key]
        try:
            plan: Completer | None = self.compiler.compile_root(
                doc.operation.selection_set, doc.fragments, coerced
            )
        except Exception as error:  # Unsupported, Fallback, or a literal the resolver refuses
            log.debug("not compiled: %r", error)
            self.stats.unsupported += 1
            plan = None
        if len(doc.plans) < _PLANS_PER_DOCUMENT:
            doc.plans[key] = plan
        return plan


def _directive_nodes(document: DocumentNode) -> list[Any]:
    found: list[Any] = []

    def walk(node: Any) -> None:
        found.extend(getattr(node, "directives", None) or ())
        selection_set = getattr(node, "selection_set", None)
        for child in getattr(selection_set, "selections", None) or ():
            walk(child)

    for definition in document.definitions:
        walk(definition)
    return found
