"""The documented operations in graphql/operations/ are valid against the schema: they are the
examples frontend teams copy and the allow-list for persisted queries."""

from pathlib import Path

import pytest
from graphql import parse, validate

from api.schema import schema

OPERATIONS = sorted(
    (Path(__file__).resolve().parents[2] / "graphql" / "operations").glob("*.graphql")
)


def test_every_screen_has_its_documented_operations() -> None:
    # One document per frontend screen; removing one breaks the persisted-query allow-list.
    assert [p.stem for p in OPERATIONS] == [
        "admin",
        "agency",
        "citizen",
        "console",
        "login",
        "notifications",
        "province",
        "routing",
    ]
    for path in OPERATIONS:
        names = [
            d.name.value for d in parse(path.read_text(encoding="utf-8")).definitions if d.name
        ]
        assert names and len(names) == len(set(names)), path.name  # named, no duplicates


@pytest.mark.parametrize("path", OPERATIONS, ids=lambda p: p.name)
def test_operation_is_valid(path: Path) -> None:
    document = parse(path.read_text(encoding="utf-8"))
    errors = validate(schema._schema, document)
    assert errors == [], [e.message for e in errors]
