"""Compiled plans for known operations: a document's selection set turned, once, into closures
that build the response without graphql-core's per-field machinery.

A plan is built from the same schema strawberry serves, field by field: a field without a
resolver reads the attribute, a field with one calls it (with a small ``info`` carrying the
context), and every value is serialized by the GraphQL type's own ``serialize``, so the JSON is
the same as strawberry's. Whatever the compiler does not know (another field extension, field
arguments below the root, ``@defer``, …) makes it refuse the document (``Unsupported``): that
operation keeps running through strawberry. At run time anything unexpected (an exception, a
null where the schema says non-null, a denied permission) raises ``Fallback``: the caller
discards the attempt and runs strawberry, which produces the errors and the null propagation
the specification asks for."""

from __future__ import annotations

import asyncio
import inspect
import types
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLIncludeDirective,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLSkipDirective,
    InlineFragmentNode,
    SelectionSetNode,
    Undefined,
    is_abstract_type,
    is_leaf_type,
)
from graphql.execution.values import (
    VariableValues,
    get_argument_values,
    get_directive_values,
)
from strawberry.permission import PermissionExtension
from strawberry.relay.fields import NodeExtension
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

BACKREF = "strawberry-definition"
_CORO = types.CoroutineType
_KNOWN_DIRECTIVES = frozenset({"skip", "include"})


class Unsupported(Exception):
    """The compiler does not cover this document: strawberry runs it."""


class Fallback(Exception):
    """Something at run time the plan does not decide itself: strawberry answers instead."""


@dataclass(frozen=True)
class _Path:
    typename: str


class PlanInfo:
    """What resolvers read of ``info`` (the context; relay reads the schema and the parent type
    name). Anything else is an AttributeError, hence a fallback."""

    __slots__ = ("context", "path", "schema")

    def __init__(self, context: Any, schema: Any, typename: str) -> None:
        self.context = context
        self.schema = schema
        self.path = _Path(typename)


@dataclass
class Run:
    """One execution: the request's context and coerced variables."""

    context: Any
    variables: VariableValues
    strawberry_schema: Any
    infos: dict[str, PlanInfo] = field(default_factory=dict)

    def info(self, typename: str) -> PlanInfo:
        found = self.infos.get(typename)
        if found is None:
            found = self.infos[typename] = PlanInfo(self.context, self.strawberry_schema, typename)
        return found


Completer = Callable[[Any, Run], Any]  # a value, or a coroutine giving it


async def _gather_list(items: list[Any]) -> list[Any]:
    pending = [(i, v) for i, v in enumerate(items) if type(v) is _CORO]
    for (i, _), value in zip(pending, await asyncio.gather(*(v for _, v in pending)), strict=True):
        items[i] = value
    return items


async def _gather_object(out: dict[str, Any], pending: list[tuple[str, Any]]) -> dict[str, Any]:
    for (key, _), value in zip(
        pending, await asyncio.gather(*(v for _, v in pending)), strict=True
    ):
        out[key] = value
    return out


class Compiler:
    """Plans for one schema; ``compile_root`` is called once per (document, operation,
    directive variables)."""

    def __init__(self, strawberry_schema: Any, roots: frozenset[str]) -> None:
        self.strawberry_schema = strawberry_schema
        self.schema: GraphQLSchema = strawberry_schema._schema
        self.config = strawberry_schema.config
        self.scalars = strawberry_schema.schema_converter.scalar_registry
        self.roots = roots
        self.type_of_class: dict[type, str] = {}
        for name, t in self.schema.type_map.items():
            definition = t.extensions.get(BACKREF) if isinstance(t, GraphQLObjectType) else None
            origin = getattr(definition, "origin", None)
            if isinstance(origin, type):
                self.type_of_class[origin] = name

    # --- field collection (the specification's CollectFields, with fixed variables) ----------

    def collect(
        self,
        parent: GraphQLObjectType,
        selection_sets: list[SelectionSetNode],
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues,
    ) -> dict[str, list[FieldNode]]:
        fields: dict[str, list[FieldNode]] = {}
        visited: set[str] = set()

        def walk(selection_set: SelectionSetNode) -> None:
            for selection in selection_set.selections:
                if not self._included(selection, variables):
                    continue
                if isinstance(selection, FieldNode):
                    key = selection.alias.value if selection.alias else selection.name.value
                    fields.setdefault(key, []).append(selection)
                elif isinstance(selection, InlineFragmentNode):
                    if self._applies(selection.type_condition, parent):
                        walk(selection.selection_set)
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    if name in visited:
                        continue
                    visited.add(name)
                    fragment = fragments.get(name)
                    if fragment is None:
                        raise Unsupported(name)
                    if self._applies(fragment.type_condition, parent):
                        walk(fragment.selection_set)

        for s in selection_sets:
            walk(s)
        return fields

    def _included(self, node: Any, variables: VariableValues) -> bool:
        for directive in node.directives or ():
            if directive.name.value not in _KNOWN_DIRECTIVES:
                raise Unsupported(directive.name.value)
        skip = get_directive_values(GraphQLSkipDirective, node, variables)
        if skip and skip["if"] is True:
            return False
        include = get_directive_values(GraphQLIncludeDirective, node, variables)
        return not (include and include["if"] is False)

    def _applies(self, condition: Any, parent: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        target = self.schema.get_type(condition.name.value)
        if target is None:
            return False
        if target is parent:
            return True
        return is_abstract_type(target) and self.schema.is_sub_type(target, parent)

    # --- plans --------------------------------------------------------------------------------

    def compile_root(
        self,
        selection_set: SelectionSetNode,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues,
    ) -> Completer:
        root = self.schema.query_type
        assert root is not None
        fields = self.collect(root, [selection_set], fragments, variables)
        for nodes in fields.values():
            name = nodes[0].name.value
            if name != "__typename" and name not in self.roots:
                raise Unsupported(name)
        return self._object(root, fields, fragments, variables, root_args=True)

    def _object(
        self,
        parent: GraphQLObjectType,
        fields: dict[str, list[FieldNode]],
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues,
        *,
        root_args: bool = False,
    ) -> Completer:
        plans = [
            (key, self._field(parent, nodes, fragments, variables, root_args))
            for key, nodes in fields.items()
        ]

        def complete(source: Any, run: Run) -> Any:
            out: dict[str, Any] = {}
            pending = None
            for key, plan in plans:
                value = plan(source, run)
                if type(value) is _CORO:
                    if pending is None:
                        pending = []
                    pending.append((key, value))
                    out[key] = None
                else:
                    out[key] = value
            return out if pending is None else _gather_object(out, pending)

        return complete

    def _field(
        self,
        parent: GraphQLObjectType,
        nodes: list[FieldNode],
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues,
        root_args: bool,
    ) -> Completer:
        name = nodes[0].name.value
        if name == "__typename":
            typename = parent.name
            return lambda source, run: typename
        definition: GraphQLField | None = parent.fields.get(name)
        if definition is None or name.startswith("__"):
            raise Unsupported(name)
        sfield = definition.extensions.get(BACKREF)
        if not isinstance(sfield, StrawberryField):
            raise Unsupported(name)
        value_of = self._value_of(parent, definition, sfield, nodes[0], variables, root_args)
        complete = self._completer(definition.type, nodes, fragments, variables)

        async def later(pending: Any, run: Run) -> Any:
            value = complete(await pending, run)
            return await value if type(value) is _CORO else value

        def plan(source: Any, run: Run) -> Any:
            value = value_of(source, run)
            if inspect.isawaitable(value):
                return later(value, run)
            return complete(value, run)

        return plan

    def _value_of(
        self,
        parent: GraphQLObjectType,
        definition: GraphQLField,
        sfield: StrawberryField,
        node: FieldNode,
        variables: VariableValues,
        root_args: bool,
    ) -> Completer:
        """The resolver's value before completion: the attribute, or the resolver's result
        behind the declared permissions."""
        checks: list[tuple[Any, bool, Any]] = []
        for extension in sfield.extensions:
            if isinstance(extension, PermissionExtension):
                silent: list[Any] | None = [] if extension.return_empty_list else None
                checks += [(p, extension.fail_silently, silent) for p in extension.permissions]
            elif not isinstance(extension, NodeExtension):
                raise Unsupported(type(extension).__name__)
        typename = parent.name
        resolver = sfield.base_resolver
        if definition.args and not root_args:
            raise Unsupported(sfield.python_name)

        if resolver is None:
            attribute = sfield.python_name

            def read(source: Any, run: Run) -> Any:
                return getattr(source, attribute)

            call: Completer = read
        else:
            pass_self = resolver.self_parameter is not None
            names = [
                p.name
                for p in (resolver.parent_parameter, resolver.root_parameter)
                if p is not None
            ]
            info_name = resolver.info_parameter.name if resolver.info_parameter else None
            arguments = self._arguments(definition, sfield, node, variables)

            def call(source: Any, run: Run) -> Any:
                kwargs = arguments(run)
                for n in names:
                    kwargs[n] = source
                if info_name is not None:
                    kwargs[info_name] = run.info(typename)
                return resolver(source, **kwargs) if pass_self else resolver(**kwargs)

        if not checks:
            return call

        def guarded(source: Any, run: Run) -> Any:
            info = run.info(typename)
            for permission, silently, silent_value in checks:
                allowed = permission.has_permission(source, info)
                if allowed is not True:
                    if allowed is False and silently:
                        return silent_value
                    raise Fallback(permission)  # strawberry reports the refusal
            return call(source, run)

        return guarded

    def _arguments(
        self,
        definition: GraphQLField,
        sfield: StrawberryField,
        node: FieldNode,
        variables: VariableValues,
    ) -> Callable[[Run], dict[str, Any]]:
        if not definition.args:
            return lambda run: {}

        def convert(values: VariableValues) -> dict[str, Any]:
            raw = get_argument_values(definition, node, values)
            return convert_arguments(
                raw, sfield.arguments, scalar_registry=self.scalars, config=self.config
            )

        if not any(_uses_variables(a.value) for a in node.arguments or ()):
            fixed = convert(variables)  # literal arguments: converted once
            return lambda run: dict(fixed)
        return lambda run: convert(run.variables)

    def _completer(
        self,
        of: GraphQLOutputType,
        nodes: list[FieldNode],
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues,
    ) -> Completer:
        if isinstance(of, GraphQLNonNull):
            inner = self._completer(of.of_type, nodes, fragments, variables)

            def required(value: Any, run: Run) -> Any:
                if value is None:
                    raise Fallback("null in a non-null position")
                return inner(value, run)

            return required
        inner = self._nullable(of, nodes, fragments, variables)

        def nullable(value: Any, run: Run) -> Any:
            return None if value is None else inner(value, run)

        return nullable

    def _nullable(
        self,
        of: GraphQLOutputType,
        nodes: list[FieldNode],
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: VariableValues,
    ) -> Completer:
        if isinstance(of, GraphQLList):
            item = self._completer(of.of_type, nodes, fragments, variables)

            def many(value: Any, run: Run) -> Any:
                if isinstance(value, (str, bytes, Mapping)):
                    raise Fallback("not a list")
                items = [item(v, run) for v in value]
                if any(type(v) is _CORO for v in items):
                    return _gather_list(items)
                return items

            return many
        if is_leaf_type(of):
            serialize = of.serialize

            def leaf(value: Any, run: Run) -> Any:
                out = serialize(value)
                if out is Undefined or out is None:
                    raise Fallback("unserializable")
                return out

            return leaf
        selection_sets = [n.selection_set for n in nodes if n.selection_set]
        if isinstance(of, GraphQLObjectType):
            fields = self.collect(of, selection_sets, fragments, variables)
            complete = self._object(of, fields, fragments, variables)
            expected = of.name

            def exact(value: Any, run: Run) -> Any:
                if self.type_of_class.get(type(value)) != expected:
                    raise Fallback("unexpected type")
                return complete(value, run)

            return exact
        # An interface or a union: a plan per concrete type, built when first met.
        by_type: dict[str, Completer] = {}

        def abstract(value: Any, run: Run) -> Any:
            name = self.type_of_class.get(type(value))
            plan = by_type.get(name or "")
            if plan is None:
                concrete = self.schema.get_type(name or "")
                if not isinstance(concrete, GraphQLObjectType) or not self.schema.is_sub_type(
                    of,  # type: ignore[arg-type]  # an interface or a union here
                    concrete,
                ):
                    raise Fallback("unexpected type")
                try:
                    fields = self.collect(concrete, selection_sets, fragments, variables)
                    plan = self._object(concrete, fields, fragments, variables)
                except Unsupported as error:
                    raise Fallback(str(error)) from error
                by_type[concrete.name] = plan
            return plan(value, run)

        return abstract


def _uses_variables(value: Any) -> bool:
    kind = getattr(value, "kind", "")
    if kind == "variable":
        return True
    if kind == "list_value":
        return any(_uses_variables(v) for v in value.values)
    if kind == "object_value":
        return any(_uses_variables(f.value) for f in value.fields)
    return False
