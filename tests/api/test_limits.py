"""The operation limits, rule by rule, on the real schema: depth, aliases and complexity are
measured through fragments once each, with variables, page sizes and @skip/@include."""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import parse, specified_rules, validate

from api.limits import GraphQLLimits, operation_complexity, validation_rules
from api.schema import schema

LIMITS = GraphQLLimits()
OPERATIONS = Path(__file__).resolve().parents[2] / "graphql" / "operations"


def errors(document: str, limits: GraphQLLimits = LIMITS) -> list[str]:
    found = validate(schema._schema, parse(document), (*specified_rules, *validation_rules(limits)))
    return [str((e.extensions or {}).get("code", "GRAPHQL_VALIDATION_FAILED")) for e in found]


def cost(document: str, variables: dict[str, object] | None = None) -> int:
    return operation_complexity(schema._schema, parse(document), None, variables, LIMITS)


def test_depth_counts_levels_and_fragments_do_not_hide_them() -> None:
    deep = "{ reports { edges { node { field { defaultAgency { code } } } } } }"  # 5 levels
    assert errors(deep, GraphQLLimits(max_depth=5)) == []
    assert errors(deep, GraphQLLimits(max_depth=4)) == ["QUERY_TOO_DEEP"]
    through_fragments = """
      { reports { edges { ...E } } }
      fragment E on ReportEdge { node { ...N } }
      fragment N on Report { field { defaultAgency { code } } }"""
    assert errors(through_fragments, GraphQLLimits(max_depth=4)) == ["QUERY_TOO_DEEP"]
    assert errors(through_fragments, GraphQLLimits(max_depth=5)) == []


def test_aliases_count_every_spread() -> None:
    five = "fragment A on Query { " + " ".join(f"a{i}: __typename" for i in range(5)) + " }"
    assert errors("{ ...A }" + five, GraphQLLimits(max_aliases=5)) == []
    assert errors("{ ...A ...A }" + five, GraphQLLimits(max_aliases=9)) == ["TOO_MANY_ALIASES"]
    assert errors("{ ...A ...A }" + five, GraphQLLimits(max_aliases=10)) == []


def test_fragment_cycles_are_reported_not_followed() -> None:
    document = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
    assert "GRAPHQL_VALIDATION_FAILED" in errors(document)  # "Cannot spread fragment A …"


def test_introspection_is_refused_unless_allowed() -> None:
    document = "{ __schema { queryType { name } } }"
    assert set(errors(document)) == {"GRAPHQL_VALIDATION_FAILED"}
    assert errors(document, GraphQLLimits(introspection=True)) == []
    assert errors("{ __typename }") == []


def test_complexity_multiplies_page_sizes_through_nested_lists() -> None:
    page = "{ reports(first: 20) { edges { node { code title events { action comment } } } } }"
    # reports: 1 + 20 × (edges: 1 + 1 × (node: 1 + code + title + events: 1 + 10 × 2)) = 501
    assert cost(page) == 1 + 20 * (1 + 1 * (1 + 1 + 1 + (1 + 10 * 2)))
    # The page size comes from the variable, or the cap when none is asked for.
    by_variable = "query($n: Int) { reports(first: $n) { nodes { code } } }"
    assert cost(by_variable, {"n": 5}) == 1 + 5 * (1 + 1)
    assert cost(by_variable, {}) == 1 + LIMITS.max_page_size * 2
    # A variable's default stands in when the request leaves it out (found by mypy: the default
    # was read from a field that does not exist, so such a query failed to be costed at all).
    by_default = "query($n: Int = 3) { reports(first: $n) { nodes { code } } }"
    assert cost(by_default, {}) == 1 + 3 * (1 + 1)
    assert cost(by_default, {"n": 7}) == 1 + 7 * (1 + 1)
    assert cost("{ reports(first: 1000) { nodes { code } } }") == 1 + LIMITS.max_page_size * 2
    # Skipped selections cost nothing.
    skipped = "query($s: Boolean!) { reports(first: 10) { nodes { code title @skip(if: $s) } } }"
    assert cost(skipped, {"s": True}) < cost(skipped, {"s": False})


def test_every_documented_operation_is_within_the_limits() -> None:
    documents = sorted(OPERATIONS.glob("*.graphql"))
    assert documents
    for path in documents:
        document = parse(path.read_text())
        rules = (*specified_rules, *validation_rules(LIMITS))
        assert validate(schema._schema, document, rules) == [], path.name
        for definition in document.definitions:
            name = getattr(getattr(definition, "name", None), "value", None)
            if getattr(definition, "operation", None) is None:
                continue
            spent = operation_complexity(schema._schema, document, name, {}, LIMITS)
            assert spent <= LIMITS.max_complexity / 2, (path.name, name, spent)


@pytest.mark.parametrize("n", [10, 40, 150])
def test_fan_out_is_measured_in_linear_steps(n: int) -> None:
    """The measures reach numbers far beyond the limits without expanding anything (deeper
    fragment chains than 200 are refused by graphql-core's own nesting guard)."""
    fragments = " ".join(
        f"fragment F{i} on Query {{ a{i}: __typename ...F{i + 1} ...F{i + 1} }}" for i in range(n)
    )
    document = f"{{ ...F0 }} {fragments} fragment F{n} on Query {{ __typename }}"
    assert errors(document) == ["TOO_MANY_ALIASES"]
    assert cost(document) == 2 ** (n + 1) - 1
