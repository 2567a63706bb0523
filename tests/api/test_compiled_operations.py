"""Compiled plans answer byte for byte what strawberry answers (api/compiled.py).

Two applications over the same database: one with compiled operations, one without. Every
documented query (graphql/operations/) and every benchmark query (bench/ops/), and variants of
each (aliases, @include/@skip both ways, inline and named fragments, __typename everywhere), is
sent as every demo role, the province's administrator and an anonymous caller, with ids of
reports each may and may not see: the bodies and statuses must be identical, and the plans must
actually have answered (a fallback everywhere would prove nothing)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import time_machine
from graphql import (
    ArgumentNode,
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    NamedTypeNode,
    NameNode,
    NonNullTypeNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
    parse,
    print_ast,
)
from strawberry.relay import to_base64

from api.app import create_app
from api.compiled import COMPILED_ROOTS
from api.settings import Settings
from permissions.session import tenant_transaction
from reports.models import Report
from tests.conftest import another_client, with_client_address
from tests.support.databases import DatabaseUrls
from tests.support.frontend import documented_operations

BENCH_OPS = Path(__file__).resolve().parents[2] / "bench" / "ops"


async def _app(settings: Settings, url: str, compiled: bool) -> Any:
    return create_app(
        settings.model_copy(update={"compiled_operations": compiled}), url, manage_db=False
    )


@pytest.fixture(scope="module")
async def pair(
    settings: Settings, database: DatabaseUrls
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient, Any]]:
    compiled_app = await _app(settings, database.app, True)
    plain_app = await _app(settings, database.app, False)
    async with (
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=with_client_address(compiled_app)),
            base_url="http://paht.test",
        ) as compiled,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=with_client_address(plain_app)),
            base_url="http://paht.test",
        ) as plain,
    ):
        yield compiled, plain, compiled_app.state.compiled_operations


# --- variants of a document ------------------------------------------------------------------


def _rebuild(
    document: DocumentNode,
    on_field: Callable[[FieldNode, int], FieldNode] = lambda f, i: f,
    on_set: Callable[[SelectionSetNode], SelectionSetNode] = lambda s: s,
) -> DocumentNode:
    """The document with every field and selection set passed through the functions (the
    AST is frozen: nodes are replaced, bottom up); fields are numbered as they are met."""
    counter = itertools.count()

    def walk(node: Any) -> Any:
        selection_set = getattr(node, "selection_set", None)
        if selection_set is not None:
            children = tuple(walk(c) for c in selection_set.selections)
            node = replace(node, selection_set=on_set(replace(selection_set, selections=children)))
        if isinstance(node, FieldNode):
            node = on_field(node, next(counter))
        return node

    return replace(document, definitions=tuple(walk(d) for d in document.definitions))


def with_typename(document: DocumentNode) -> DocumentNode:
    typename = FieldNode(name=NameNode(value="__typename"))
    return _rebuild(document, on_set=lambda s: replace(s, selections=(typename, *s.selections)))


def with_aliases(document: DocumentNode) -> DocumentNode:
    def alias(f: FieldNode, _: int) -> FieldNode:
        return f if f.alias else replace(f, alias=NameNode(value=f"the_{f.name.value}"))

    return _rebuild(document, on_field=alias)


def with_inline_fragments(document: DocumentNode) -> DocumentNode:
    def wrap(s: SelectionSetNode) -> SelectionSetNode:
        return SelectionSetNode(selections=(InlineFragmentNode(selection_set=s),))

    return _rebuild(document, on_set=wrap)


def with_named_fragment(document: DocumentNode) -> DocumentNode:
    """The root field's selection set moved into a fragment on its type (when it names one)."""
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    root = next((s for s in operation.selection_set.selections if isinstance(s, FieldNode)), None)
    if root is None or root.selection_set is None or root.name.value not in ROOT_TYPES:
        return document
    fragment = FragmentDefinitionNode(
        name=NameNode(value="Moved"),
        type_condition=NamedTypeNode(name=NameNode(value=ROOT_TYPES[root.name.value])),
        selection_set=root.selection_set,
    )
    spread = SelectionSetNode(selections=(FragmentSpreadNode(name=NameNode(value="Moved")),))
    moved = replace(root, selection_set=spread)
    selections = tuple(moved if s is root else s for s in operation.selection_set.selections)
    operation = replace(
        operation, selection_set=replace(operation.selection_set, selections=selections)
    )
    definitions = tuple(
        operation if isinstance(d, OperationDefinitionNode) else d for d in document.definitions
    )
    return replace(document, definitions=(*definitions, fragment))


ROOT_TYPES = {"reports": "ReportConnection", "report": "Report", "myReports": "ReportConnection"}


def _condition(directive: str, value: Any) -> DirectiveNode:
    return DirectiveNode(
        name=NameNode(value=directive),
        arguments=(ArgumentNode(name=NameNode(value="if"), value=value),),
    )


def with_condition(directive: str) -> Callable[[DocumentNode], DocumentNode]:
    """Every other field under a condition on the variable ``$flag``."""
    flag = VariableNode(name=NameNode(value="flag"))

    def conditioned(f: FieldNode, i: int) -> FieldNode:
        if i % 2 == 0:
            return f
        return replace(f, directives=(*(f.directives or ()), _condition(directive, flag)))

    def change(document: DocumentNode) -> DocumentNode:
        document = _rebuild(document, on_field=conditioned)
        definition = VariableDefinitionNode(
            variable=flag, type=NonNullTypeNode(type=NamedTypeNode(name=NameNode(value="Boolean")))
        )
        return replace(
            document,
            definitions=tuple(
                replace(d, variable_definitions=(*(d.variable_definitions or ()), definition))
                if isinstance(d, OperationDefinitionNode)
                else d
                for d in document.definitions
            ),
        )

    return change


def with_literal_skip(document: DocumentNode) -> DocumentNode:
    def skipped(f: FieldNode, i: int) -> FieldNode:
        if i % 3 != 2:
            return f
        return replace(f, directives=(_condition("skip", BooleanValueNode(value=True)),))

    return _rebuild(document, on_field=skipped)


VARIANTS: dict[str, Callable[[DocumentNode], DocumentNode]] = {
    "as documented": lambda d: d,
    "aliases": with_aliases,
    "__typename": with_typename,
    "inline fragments": with_inline_fragments,
    "named fragment": with_named_fragment,
    "@include": with_condition("include"),
    "@skip": with_condition("skip"),
    "literal @skip": with_literal_skip,
}


def variants(query: str) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for name, change in VARIANTS.items():
        text = print_ast(change(parse(query)))
        flags = [{"flag": True}, {"flag": False}] if name.startswith("@") else [{}]
        found += [(name, text, f) for f in flags]
    return found


# --- the operations and their variables ---------------------------------------------------------


def queries() -> dict[str, str]:
    """Every query document: the documented ones and the benchmark's."""
    found = {}
    for name, (_, text) in documented_operations().items():
        if parse(text).definitions[0].operation.value == "query":  # type: ignore[attr-defined]
            found[name] = text
    for path in sorted(BENCH_OPS.glob("*.graphql")):
        text = path.read_text(encoding="utf-8")
        if parse(text).definitions[0].operation.value == "query":  # type: ignore[attr-defined]
            found[f"bench/{path.stem}"] = text
    return found


def compilable(query: str) -> bool:
    """Its root fields are among those compiled (the others run through strawberry twice)."""
    operation = parse(query).definitions[0]
    return any(
        isinstance(s, FieldNode) and s.name.value in COMPILED_ROOTS
        for s in operation.selection_set.selections  # type: ignore[attr-defined]
    )


def variable_sets(name: str, ids: list[str], codes: list[str]) -> list[dict[str, Any]]:
    if name in ("ReportDetail", "MyReport", "bench/b_detail"):
        return [{"id": i} for i in ids]
    if name == "Track":
        return [{"trackingCode": c} for c in codes] + [{"trackingCode": "NOPE"}]
    if name == "bench/a_list":
        return [{"states": ["SUBMITTED"]}, {"states": None}, {}]
    if name == "Queue":
        return [{}, {"filter": {"openOnly": True}}, {"filter": {"states": ["SCREENING"]}}]
    if name == "OutboxMessages":
        return [{}]
    if name == "Users":
        return [{"search": "sapa"}]
    if name in ("Evaluation", "ProvinceComparison"):
        return [{"period": p, **g} for p, g in zip(PERIODS, GROUPINGS, strict=True)]
    return [{}]


# This month (its end still ahead), the month before (from the month roll-ups) and a week.
_TODAY = datetime.now(UTC).date()
_MONTH = _TODAY.replace(day=1)
_BEFORE = (_MONTH - timedelta(days=1)).replace(day=1)
PERIODS = [
    {
        "first": str(_MONTH),
        "last": str((_MONTH + timedelta(days=31)).replace(day=1) - timedelta(days=1)),
    },
    {"first": str(_BEFORE), "last": str(_MONTH - timedelta(days=1))},
    {"first": str(_TODAY - timedelta(days=6)), "last": str(_TODAY)},
]
GROUPINGS: list[dict[str, Any]] = [{"groupBy": "AGENCY"}, {}, {"groupBy": "DAY"}]


async def token(client: httpx.AsyncClient, username: str, password: str, tenant: str | None) -> str:
    response = await client.post(
        "/graphql",
        json={
            "query": "mutation($i: LoginInput!) "
            "{ login(input: $i) { accessToken errors { code } } }",
            "variables": {"i": {"username": username, "password": password, "tenantCode": tenant}},
        },
    )
    data = response.json()["data"]["login"]
    assert data["errors"] == [], data
    return str(data["accessToken"])


async def same_answer(
    compiled: httpx.AsyncClient,
    plain: httpx.AsyncClient,
    body: dict[str, Any],
    headers: dict[str, str],
    where: str,
) -> None:
    expected = await plain.post("/graphql", json=body, headers=headers)
    for _ in range(2):  # the first run teaches the compiled app, the second runs the plan
        got = await compiled.post("/graphql", json=body, headers=headers)
        assert got.status_code == expected.status_code, where
        assert got.content == expected.content, where


async def ask_everything(
    compiled: httpx.AsyncClient,
    plain: httpx.AsyncClient,
    role: str,
    headers: dict[str, str],
    ids: list[str],
    codes: list[str],
) -> None:
    """Every query, in every variant and language, with each of its variable sets."""
    for name, query in queries().items():
        plain_only = [("as documented", query, {})]
        for variant, text, flags in variants(query) if compilable(query) else plain_only:
            for lang in ("vi", "en") if variant == "as documented" else ("vi",):
                sets = variable_sets(name, ids, codes)
                if variant != "as documented":  # the cases, once each; variants: two
                    sets = sets[:1] + sets[-4:-3]
                for variables in sets:
                    body = {"query": text, "variables": {**variables, **flags}}
                    sent = {**headers, "Accept-Language": lang}
                    where = f"{name} ({variant}, {variables}) as {role}, {lang}"
                    await same_answer(compiled, plain, body, sent, where)


async def test_compiled_plans_answer_what_strawberry_answers(
    pair: tuple[httpx.AsyncClient, httpx.AsyncClient, Any], pilot: dict[str, Any]
) -> None:
    compiled, plain, stats = pair
    sapa = pilot["tenants"]["sa-pa"]
    laocai = pilot["tenants"]["lao-cai"]
    async with tenant_transaction(sapa.id):
        own = await Report.filter(tenant_id=sapa.id).order_by("created_at").limit(6)
    async with tenant_transaction(laocai.id):
        other = await Report.filter(tenant_id=laocai.id).first()
    assert own and other is not None
    ids = [to_base64("Report", str(r.id)) for r in own[::2]]
    ids += [to_base64("Report", str(other.id)), to_base64("Field", str(own[0].field_id))]
    ids += ["not-an-id", to_base64("Report", "00000000-0000-0000-0000-000000000000")]
    codes = [r.tracking_code for r in own if r.tracking_code][:1]
    before = (stats.stats.compiled, stats.stats.fallbacks)

    with time_machine.travel(datetime.now(UTC), tick=False):  # dueIn, overdue: one instant
        callers: list[tuple[str, dict[str, str]]] = [("anonymous", {"X-Paht-Tenant": "sa-pa"})]
        for account in pilot["accounts"]:
            tenant = None if account.tenant == "*" else account.tenant
            if tenant not in (None, "sa-pa"):
                continue
            bearer = await token(plain, account.username, account.password, tenant)
            callers.insert(0, (account.role, {"Authorization": f"Bearer {bearer}"}))
        for role, headers in callers:
            with another_client():  # each caller is its own client, under the per-address limits
                await ask_everything(compiled, plain, role, headers, ids, codes)

    for name in ("bench/a_list", "bench/b_detail", "bench/c_dashboard", "Queue", "AgencyQueue",
                 "ReportDetail", "MyReports", "MyReport", "Dashboard", "Evaluation",
                 "ProvinceComparison"):  # fmt: skip
        document = stats.documents[(print_ast(parse(queries()[name])), None)]
        assert document is not None and all(document.plans.values()), name
    compiled_runs = stats.stats.compiled - before[0]
    fallbacks = stats.stats.fallbacks - before[1]
    assert compiled_runs > 1000, stats.stats  # the plans answered most of these
    assert fallbacks > 0, stats.stats  # and left refusals and errors to strawberry


async def test_mutations_are_never_compiled(
    pair: tuple[httpx.AsyncClient, httpx.AsyncClient, Any],
) -> None:
    _, _, stats = pair
    mutation = 'mutation { logout(input: {refreshToken: "x"}) { ok } }'
    stats.learn(mutation, None)
    assert stats.documents[(mutation, None)] is None
