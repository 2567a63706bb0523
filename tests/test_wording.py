"""Vietnamese that reads right: no message a person reads in Vietnamese carries an untranslated
identifier (a code name, an input key, a setting) unless it is quoted as one («…», `…`, '…');
every fixed set names its members in both languages; "not found" names what was not found."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

from core.errors import NotFound
from core.glossary import Term
from core.labels import Labelled

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
]
VIETNAMESE = re.compile(
    "[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]", re.IGNORECASE
)
# snake_case or SCREAMING_CASE, action codes such as report:assign, camelCase input keys.
IDENTIFIER = re.compile(
    r"\b[A-Za-z]+(?:_[A-Za-z0-9]+)+\b|\b[a-z]+:[a-z_]+\b|\b[a-z]+[A-Z][A-Za-z]+\b"
)
LOANWORDS = {"video"}  # written the same in Vietnamese
QUOTED = re.compile(r"«[^»]*»|`[^`]*`|'[^']*'|\{[^}]*\}")
# English words of the schema that once leaked into Vietnamese sentences.
ENGLISH = re.compile(
    r"\b(amount|unit|screen|urgent|normal|complex|stage|report|tenant|agency|field|null)\b"
)


def _documentation(tree: ast.AST) -> set[int]:
    """Docstrings and GraphQL/CLI descriptions: written for developers, in English."""
    ids: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = body[0] if body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
        if isinstance(node, ast.keyword) and node.arg in ("description", "help"):
            ids |= {id(n) for n in ast.walk(node.value)}
    return ids


def vietnamese_texts() -> list[tuple[str, str]]:
    """Every Vietnamese string of the application, with where it is (f-strings with their
    placeholders as ``{}``)."""
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            skip = _documentation(tree)
            for node in ast.walk(tree):
                if id(node) in skip:
                    continue
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    text = node.value
                elif isinstance(node, ast.JoinedStr):
                    text = "".join(
                        v.value if isinstance(v, ast.Constant) else "{}" for v in node.values
                    )
                else:
                    continue
                if VIETNAMESE.search(text):
                    found.append((f"{path.relative_to(ROOT)}:{node.lineno}", text))
    return found


def test_the_scan_sees_the_messages() -> None:
    texts = {text for _, text in vietnamese_texts()}
    assert "Bạn cần đăng nhập." in texts  # a plain message
    assert any(t.startswith("Không thể thực hiện thao tác «{}»") for t in texts)  # an f-string
    assert len(texts) > 300


def test_no_vietnamese_message_carries_an_untranslated_identifier() -> None:
    offending = []
    for where, text in vietnamese_texts():
        bare = QUOTED.sub("", text)
        if IDENTIFIER.search(bare) or ENGLISH.search(bare):
            offending.append(f"{where}: {text!r}")
    assert offending == []


def _labelled_sets() -> list[type[Labelled]]:
    for package in PACKAGES:
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            importlib.import_module(info.name)
    sets: list[type[Labelled]] = []
    pending = list(Labelled.__subclasses__())
    while pending:
        cls = pending.pop()
        sets.append(cls)
        pending.extend(cls.__subclasses__())
    return sets


@pytest.mark.parametrize("labelled", _labelled_sets(), ids=lambda c: c.__name__)
def test_every_member_of_a_fixed_set_is_named_in_both_languages(
    labelled: type[Labelled],
) -> None:
    for member in labelled:
        assert member.label_vi and member.label_en, member
        vietnamese = VIETNAMESE.search(member.label_vi) or member.label_vi in LOANWORDS
        assert vietnamese, f"{member!r} has no Vietnamese name"
        assert not IDENTIFIER.search(QUOTED.sub("", member.label_vi)), member.label_vi


def test_not_found_names_the_object_in_both_languages() -> None:
    for term in Term:
        error = NotFound(term)
        detail = error.details[0]
        assert detail.message_vi == f"Không tìm thấy {term.label_vi}."
        assert term.label_en in detail.message_en
    assert len({t.label_vi for t in Term}) == len(Term)  # one name per concept
