"""A frontend that knows only the documented operations (graphql/operations/*.graphql): each one
is sent by name as its own document (the operation plus the fragments it spreads), the way
code generators and persisted-query clients send them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    OperationDefinitionNode,
    Visitor,
    parse,
    print_ast,
    visit,
)

OPERATIONS_DIR = Path(__file__).resolve().parents[2] / "graphql" / "operations"


class _Spreads(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_fragment_spread(self, node: FragmentSpreadNode, *_: Any) -> None:
        self.names.add(node.name.value)


def _spreads(node: Any) -> set[str]:
    found = _Spreads()
    visit(node, found)
    return found.names


def documented_operations() -> dict[str, tuple[str, str]]:
    """Every documented operation by name: (its screen file's stem, its standalone document)."""
    result: dict[str, tuple[str, str]] = {}
    for path in sorted(OPERATIONS_DIR.glob("*.graphql")):
        document = parse(path.read_text(encoding="utf-8"))
        fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            assert definition.name is not None, f"an unnamed operation in {path.name}"
            name = definition.name.value
            assert name not in result, f"{name} is documented twice"
            needed: dict[str, FragmentDefinitionNode] = {}
            pending = _spreads(definition)
            while pending:
                fragment = fragments[pending.pop()]
                needed[fragment.name.value] = fragment
                pending |= _spreads(fragment) - needed.keys()
            standalone = DocumentNode(definitions=(definition, *needed.values()))
            result[name] = (path.stem, print_ast(standalone))
    return result


def payload_errors(data: Any) -> Iterator[dict[str, Any]]:
    """Every typed error (``errors`` lists inside mutation payloads) anywhere in ``data``."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "errors" and isinstance(value, list):
                yield from value
            else:
                yield from payload_errors(value)
    elif isinstance(data, list):
        for item in data:
            yield from payload_errors(item)


class Frontend:
    """Runs documented operations by name and remembers which ran."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http
        self.operations = documented_operations()
        self.ran: set[str] = set()

    def document(self, name: str) -> str:
        return self.operations[name][1]

    async def run(
        self,
        name: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        tenant: str | None = None,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        refused: str | None = None,
    ) -> dict[str, Any]:
        """The operation's data. No GraphQL error, and no typed error in any payload unless
        ``refused`` names the one code expected. ``files`` maps variable paths (such as
        ``input.attachments.0``) to files: a GraphQL multipart request."""
        headers = {"Accept-Language": "vi"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if tenant:
            headers["X-Paht-Tenant"] = tenant
        body = {"query": self.document(name), "operationName": name, "variables": variables or {}}
        if files:
            paths = list(files)
            response = await self.http.post(
                "/graphql",
                data={
                    "operations": json.dumps(body),
                    "map": json.dumps({str(n): [f"variables.{p}"] for n, p in enumerate(paths)}),
                },
                files={str(n): files[p] for n, p in enumerate(paths)},
                headers=headers,
            )
        else:
            response = await self.http.post("/graphql", json=body, headers=headers)
        assert response.status_code == 200, (name, response.text)
        answer = response.json()
        assert "errors" not in answer, (name, answer)
        codes = [e["code"] for e in payload_errors(answer["data"])]
        assert codes == ([refused] if refused else []), (name, answer["data"])
        for error in payload_errors(answer["data"]):
            assert error["message"], (name, error)  # every refusal says why, in Vietnamese here
        self.ran.add(name)
        return answer["data"]


def answers_for(questions: list[dict[str, Any]]) -> dict[str, Any]:
    """An answer to each required question, of its kind."""
    sample = {"TEXT": "Có", "NUMBER": 2, "BOOLEAN": True, "DATE": "2026-11-30"}
    return {
        q["key"]: q["choices"][0] if q["kind"] == "CHOICE" else sample[q["kind"]]
        for q in questions
        if q["required"]
    }
