"""House rules the import-linter contracts cannot express: the RLS settings are written in one
place, GraphQL resolvers never test a role, and graphql/ stays a folder of documents."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = [
    "api",
    "core",
    "accounts",
    "permissions",
    "tenants",
    "outbox",
    "reports",
    "stats",
    "open311",
    "citizens",
]


def sources() -> list[Path]:
    return [p for package in PACKAGES for p in sorted((ROOT / package).rglob("*.py"))]


def test_the_rls_settings_are_written_only_by_the_session_glue() -> None:
    writers = [
        str(p.relative_to(ROOT))
        for p in sources()
        if re.search(r"set_config\(\s*'app\.", p.read_text(encoding="utf-8"))
    ]
    assert writers == ["permissions/session.py"]


def test_no_graphql_resolver_decides_by_role() -> None:
    """Permissions are declared (@requiresPermission) or checked against the Scope in services;
    a schema module comparing role names would be a second, invisible permission system."""
    offending = []
    for path in sources():
        if "schema" not in path.name and path.parent.name != "schema":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Compare):
                names = {ast.unparse(n) for n in (node.left, *node.comparators)}
                if any(re.search(r"\brole(s|_code)?\b", n) for n in names):
                    offending.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offending == []


def test_graphql_is_not_a_python_package() -> None:
    assert not (ROOT / "graphql" / "__init__.py").exists()  # it would shadow graphql-core
    assert not list((ROOT / "graphql").rglob("*.py"))


def test_test_modules_share_helpers_only_through_support() -> None:
    """A test module is run, never imported: what several tests need lives in tests/factories.py,
    tests/clock.py or tests/support/ (importing a test module also collects its tests twice)."""
    offenders = []
    for path in (ROOT / "tests").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            module = node.module if isinstance(node, ast.ImportFrom) else None
            if module and module.startswith("tests.") and module.split(".")[-1].startswith("test_"):
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert offenders == [], offenders
