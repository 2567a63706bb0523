"""Request limits that hold whatever the shape of a document: size, tokens, depth, aliases and
complexity.

Every limit is computed in time linear in the document. Fragments are measured once each and
their measure is reused at every spread, so a document whose fragments each spread the next one
twice (2^n expansions) costs n steps, not 2^n (strawberry's own depth and alias limiters expand
every spread, exponentially). The query text is measured before it is parsed, so a huge comment
or string literal never reaches the parser."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    ASTValidationRule,
    BooleanValueNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
)
from graphql.utilities import get_operation_ast
from strawberry.extensions import SchemaExtension


@dataclass(frozen=True)
class GraphQLLimits:
    """Defaults sized so every documented operation (graphql/operations/) fits with room to
    spare, while a hostile document is refused in microseconds."""

    max_query_bytes: int = 100_000
    """Query text, before parsing. The largest documented operation is under 3 KB."""
    max_tokens: int = 2_000
    max_depth: int = 10
    max_aliases: int = 15
    max_complexity: int = 20_000
    """Estimated values in the response: each field counts 1, times the rows of every list
    around it (``first``/``last`` or the page-size cap; plain lists count ``list_estimate``)."""
    list_estimate: int = 10
    max_page_size: int = 100
    max_variables_depth: int = 16
    """Nesting of JSON variables: the deepest input type (onboarding) needs 5."""
    introspection: bool = False
    suggestions: bool = False
    """"Did you mean …" hints in errors: they map the schema for anyone who asks."""


def vi_number(n: int) -> str:
    """Vietnamese groups thousands with dots: 10.000."""
    return f"{n:,}".replace(",", ".")


def limit_error(code: str, message_vi: str, message_en: str, node: Any = None) -> GraphQLError:
    return GraphQLError(
        message_en,
        node,
        extensions={"code": code, "messageVi": message_vi, "messageEn": message_en},
    )


# --- depth and aliases: validation rules, cached with the document ------------------------------


def _is_introspection(node: FieldNode) -> bool:
    return node.name.value.startswith("__")


class _FragmentMeasure:
    """A measure of selection sets in which each fragment is measured once."""

    def __init__(
        self,
        fragments: Mapping[str, FragmentDefinitionNode],
        field: Callable[[FieldNode, int], int],
        combine: Callable[[Iterator[int]], int],
    ) -> None:
        self.fragments = fragments
        self.field = field  # the measure of a field, given the measure of its selections
        self.combine = combine
        self.memo: dict[str, int] = {}
        self.active: set[str] = set()  # cycles are reported by NoFragmentCyclesRule

    def selections(self, selection_set: SelectionSetNode | None) -> int:
        if selection_set is None:
            return 0
        return self.combine(self._each(selection_set))

    def _each(self, selection_set: SelectionSetNode) -> Iterator[int]:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield self.field(selection, self.selections(selection.selection_set))
            elif isinstance(selection, InlineFragmentNode):
                yield self.selections(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                yield self.fragment(selection.name.value)

    def fragment(self, name: str) -> int:
        if name in self.memo:
            return self.memo[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.active:
            return 0
        self.active.add(name)
        self.memo[name] = self.selections(definition.selection_set)
        self.active.discard(name)
        return self.memo[name]


def _depth_of_field(node: FieldNode, below: int) -> int:
    # Leaves and introspection fields add no depth (as strawberry's QueryDepthLimiter counts).
    return 0 if _is_introspection(node) or node.selection_set is None else 1 + below


def _aliases_of_field(node: FieldNode, below: int) -> int:
    return below + (1 if node.alias else 0)


def _document_rule(
    name: str,
    measure: Callable[[dict[str, FragmentDefinitionNode]], _FragmentMeasure],
    check: Callable[[OperationDefinitionNode, int], GraphQLError | None],
) -> type[ASTValidationRule]:
    class Rule(ASTValidationRule):
        def enter_document(self, node: DocumentNode, *_args: Any) -> Any:
            fragments = {
                d.name.value: d for d in node.definitions if isinstance(d, FragmentDefinitionNode)
            }
            measured = measure(fragments)
            for definition in node.definitions:
                if isinstance(definition, OperationDefinitionNode):
                    error = check(definition, measured.selections(definition.selection_set))
                    if error is not None:
                        self.report_error(error)
            return self.SKIP  # everything was measured here; no need to visit the nodes

    Rule.__name__ = Rule.__qualname__ = name
    return Rule


def _operation_label(node: OperationDefinitionNode) -> str:
    return node.name.value if node.name else "anonymous"


def validation_rules(limits: GraphQLLimits) -> list[type[ASTValidationRule]]:
    """Build the rule classes once per schema: the validation cache keys on them."""

    def depth(op: OperationDefinitionNode, value: int) -> GraphQLError | None:
        if value <= limits.max_depth:
            return None
        return limit_error(
            "QUERY_TOO_DEEP",
            f"Truy vấn '{_operation_label(op)}' lồng quá {limits.max_depth} cấp.",
            f"'{_operation_label(op)}' exceeds the maximum operation depth of {limits.max_depth}.",
            op,
        )

    def aliases(op: OperationDefinitionNode, value: int) -> GraphQLError | None:
        if value <= limits.max_aliases:
            return None
        shown = vi_number(value) if value < 10**9 else "hơn một tỉ"
        shown_en = f"{value:,}" if value < 10**9 else "over a billion"
        return limit_error(
            "TOO_MANY_ALIASES",
            f"Truy vấn có {shown} bí danh (alias); tối đa {limits.max_aliases}.",
            f"{shown_en} aliases found; at most {limits.max_aliases} are allowed.",
            op,
        )

    rules: list[type[ASTValidationRule]] = [
        _document_rule(
            "DepthLimitRule", lambda f: _FragmentMeasure(f, _depth_of_field, _max), depth
        ),
        _document_rule(
            "AliasLimitRule", lambda f: _FragmentMeasure(f, _aliases_of_field, sum), aliases
        ),
    ]
    if not limits.introspection:
        from graphql.validation import NoSchemaIntrospectionCustomRule

        rules.append(NoSchemaIntrospectionCustomRule)
    return rules


def _max(values: Iterator[int]) -> int:
    return max(values, default=0)


# --- complexity: needs the variables, so it runs after validation --------------------------------


class _Complexity:
    """Estimated number of values an operation produces: a field is 1, plus its selections
    times the rows it returns. Fragments are costed once each (variables are fixed for one
    request, so a fragment's cost is the same at every spread)."""

    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        defaults: Mapping[str, Any],
        limits: GraphQLLimits,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.defaults = defaults
        self.limits = limits
        self.memo: dict[str, int] = {}
        self.active: set[str] = set()

    def selections(self, selection_set: SelectionSetNode | None, parent: Any) -> int:
        if selection_set is None or parent is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if not self._included(selection):
                continue
            if isinstance(selection, FieldNode):
                total += self._field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                scope = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, scope)
            elif isinstance(selection, FragmentSpreadNode):
                total += self._fragment(selection.name.value)
        return total

    def _fragment(self, name: str) -> int:
        if name in self.memo:
            return self.memo[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.active:
            return 0
        self.active.add(name)
        scope = self.schema.get_type(definition.type_condition.name.value)
        self.memo[name] = self.selections(definition.selection_set, scope)
        self.active.discard(name)
        return self.memo[name]

    def _field(self, node: FieldNode, parent: GraphQLNamedType) -> int:
        if _is_introspection(node):
            return 1
        fields = getattr(parent, "fields", None) or {}
        definition = fields.get(node.name.value)
        if definition is None:
            return 1
        if node.selection_set is None:
            return 1
        child = get_named_type(definition.type)
        below = self.selections(node.selection_set, child)
        return 1 + self._rows(node, definition, parent) * below

    def _rows(self, node: FieldNode, definition: Any, parent: GraphQLNamedType) -> int:
        args = {a.name.value: a.value for a in node.arguments or ()}
        for name in ("first", "last"):
            if name in definition.args:
                value = self._value(args.get(name), definition.args[name].default_value)
                if value is not None:
                    return max(0, min(int(value), self.limits.max_page_size))
        if "first" in definition.args or "last" in definition.args:
            return self.limits.max_page_size  # no size asked: the page-size cap applies
        if is_list_type(get_nullable_type(definition.type)):
            # The rows of a Relay page are already counted at the connection field.
            if parent.name.endswith("Connection"):
                return 1
            return self.limits.list_estimate
        return 1

    def _value(self, node: Any, default: Any) -> Any:
        if isinstance(node, IntValueNode):
            return int(node.value)
        if isinstance(node, VariableNode):
            name = node.name.value
            value = self.variables.get(name, self.defaults.get(name))
            return value if isinstance(value, int) else None
        return default if isinstance(default, int) else None

    def _included(self, node: Any) -> bool:
        """@skip and @include, read from the literal or the variable."""
        for directive in node.directives or ():
            name = directive.name.value
            if name not in ("skip", "include"):
                continue
            condition = next((a.value for a in directive.arguments if a.name.value == "if"), None)
            if isinstance(condition, VariableNode):
                value = self.variables.get(condition.name.value)
            else:
                value = isinstance(condition, BooleanValueNode) and condition.value
            if (name == "skip") == bool(value):
                return False
        return True


def operation_complexity(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    limits: GraphQLLimits,
) -> int:
    operation = get_operation_ast(document, operation_name)
    if operation is None:
        return 0
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    defaults: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        if isinstance(definition.default_value, IntValueNode):
            defaults[definition.variable.name.value] = int(definition.default_value.value)
    costing = _Complexity(schema, fragments, variables or {}, defaults, limits)
    root = schema.get_root_type(operation.operation)
    return costing.selections(operation.selection_set, root)


# --- the extension: size before parsing, complexity after validation -----------------------------


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether JSON-like data nests deeper than ``limit`` (stops as soon as it does)."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def request_size_errors(
    query: str | None, variables: Any, limits: GraphQLLimits
) -> GraphQLError | None:
    """The checks every transport runs before a document is parsed."""
    if query is not None and len(query) > limits.max_query_bytes:
        return limit_error(
            "QUERY_TOO_LARGE",
            f"Truy vấn dài quá {vi_number(limits.max_query_bytes)} ký tự.",
            f"The query is longer than {limits.max_query_bytes:,} characters.",
        )
    if variables is not None and _depth_exceeds(variables, limits.max_variables_depth):
        return limit_error(
            "VARIABLES_TOO_DEEP",
            f"Biến (variables) lồng quá {limits.max_variables_depth} cấp.",
            f"The variables nest deeper than {limits.max_variables_depth} levels.",
        )
    return None


def size_limits(limits: GraphQLLimits) -> type[SchemaExtension]:
    """First among the extensions: refuses before the parser cache parses."""

    class SizeLimits(SchemaExtension):
        def on_parse(self) -> Iterator[None]:
            ec = self.execution_context
            error = request_size_errors(ec.query, ec.variables, limits)
            if error is not None:
                raise error  # strawberry reports a parse-time GraphQLError as the result
            ec.parse_options["max_tokens"] = limits.max_tokens
            yield

    return SizeLimits


def complexity_limit(limits: GraphQLLimits) -> type[SchemaExtension]:
    """After the validation cache among the extensions: by then the document is validated
    (its errors are set before the validation hooks yield), and an error set here is reported
    instead of executing."""

    class ComplexityLimit(SchemaExtension):
        def on_validate(self) -> Iterator[None]:
            ec = self.execution_context
            if not ec.pre_execution_errors and ec.graphql_document is not None:
                cost = operation_complexity(
                    ec.schema._schema, ec.graphql_document, ec.operation_name, ec.variables, limits
                )
                if cost > limits.max_complexity:
                    ec.pre_execution_errors = [_too_complex(cost, limits)]
            yield

    return ComplexityLimit


def _too_complex(cost: int, limits: GraphQLLimits) -> GraphQLError:
    shown_vi = vi_number(cost) if cost < 10**9 else "hơn một tỉ"
    shown_en = f"{cost:,}" if cost < 10**9 else "over a billion"
    return limit_error(
        "QUERY_TOO_COMPLEX",
        f"Truy vấn quá phức tạp (ước tính {shown_vi} giá trị; tối đa "
        f"{vi_number(limits.max_complexity)}). Hãy giảm first/last hoặc bớt trường lồng nhau.",
        f"The query is too complex (an estimated {shown_en} values; at most "
        f"{limits.max_complexity:,}). Ask for smaller pages or fewer nested fields.",
    )
