"""Open311 services: one per active field (lĩnh vực) of the tenant; its questions
(``tenants.questions``) are the service definition's attributes, and POSTed ``attribute[…]``
answers are read back into the answers the submission validates."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

from open311.formats import not_found
from permissions.scope import Scope
from tenants.models import Field
from tenants.questions import Question, QuestionKind, parse_questions

TYPE = "realtime"  # a report is created at once; its code is the service_request_id
PRIVATE = "private"  # the FixMyStreet keyword of a category that is never fully public

# Open311 datatype of each question kind. A yes/no question is a two-value list.
DATATYPE = {
    QuestionKind.TEXT: "text",
    QuestionKind.NUMBER: "number",
    QuestionKind.BOOLEAN: "singlevaluelist",
    QuestionKind.CHOICE: "singlevaluelist",
    QuestionKind.MULTI_CHOICE: "multivaluelist",
    QuestionKind.DATE: "datetime",
}
_YES_NO = (("true", "Có", "Yes"), ("false", "Không", "No"))
SENSITIVE_NOTICE = (
    "Lĩnh vực nhạy cảm: vị trí được làm mờ và ảnh không được công khai.",
    "A sensitive field: the location is blurred and photos are never public.",
)
NOTICE_CODE = "paht_sensitive_notice"


async def active_fields(scope: Scope) -> list[Field]:
    return await Field.filter(tenant_id=scope.require_tenant(), active=True).order_by(
        "sort_order", "code"
    )


async def service_fields(scope: Scope, codes: Iterable[str]) -> list[Field]:
    return await Field.filter(tenant_id=scope.require_tenant(), active=True, code__in=list(codes))


async def service_field(scope: Scope, code: str, lang: str) -> Field:
    found = await service_fields(scope, [code])
    if not found:
        raise not_found(
            f"service_code {code!r} was not found."
            if lang == "en"
            else "Không tìm thấy lĩnh vực có mã `service_code` này."
        )
    return found[0]


def _name(field: Field, lang: str) -> str:
    return field.name_en if lang == "en" else field.name_vi


def service(field: Field, lang: str) -> dict[str, Any]:
    return {
        "service_code": field.code,
        "service_name": _name(field, lang),
        "description": field.name_vi if lang == "en" else field.name_en,  # the other language
        "metadata": bool(field.questions) or field.sensitive,
        "type": TYPE,
        "keywords": PRIVATE if field.sensitive else "",
        "group": _name(field, lang),
    }


def _attribute(q: Question, order: int, lang: str) -> dict[str, Any]:
    values: list[dict[str, str]] = []
    if q.kind is QuestionKind.BOOLEAN:
        values = [{"key": k, "name": en if lang == "en" else vi} for k, vi, en in _YES_NO]
    elif q.kind in (QuestionKind.CHOICE, QuestionKind.MULTI_CHOICE):
        values = [{"key": c, "name": c} for c in q.choices]
    described = {
        QuestionKind.DATE: "YYYY-MM-DD",
        QuestionKind.NUMBER: "a number" if lang == "en" else "một số",
    }
    return {
        "variable": True,
        "code": q.key,
        "datatype": DATATYPE[q.kind],
        "required": q.required,
        "datatype_description": described.get(q.kind, ""),
        "order": order,
        "description": q.label_en if lang == "en" else q.label_vi,
        "values": values or None,
    }


def definition(field: Field, lang: str) -> dict[str, Any]:
    questions = parse_questions(field.questions)
    attributes = [_attribute(q, i + 1, lang) for i, q in enumerate(questions)]
    if field.sensitive:  # informational text, no input
        attributes.append(
            {
                "variable": False,
                "code": NOTICE_CODE,
                "datatype": "string",
                "required": False,
                "datatype_description": "",
                "order": len(attributes) + 1,
                "description": SENSITIVE_NOTICE[1] if lang == "en" else SENSITIVE_NOTICE[0],
            }
        )
    return {"service_code": field.code, "attributes": attributes}


# --- POSTed answers -------------------------------------------------------------------------
def _number(text: str) -> Any:
    try:
        value = float(text)
    except ValueError:
        return text  # refused by the answers' validation, as over GraphQL
    return int(value) if value.is_integer() and math.isfinite(value) else value


def _date(text: str) -> str:
    """A date, or a W3C date-time whose calendar date (in its own offset) is taken."""
    if "T" in text:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return text
        return moment.date().isoformat() if moment.tzinfo else text
    try:
        return date.fromisoformat(text).isoformat()
    except ValueError:
        return text


def answers(field: Field, form: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """``attribute[CODE]=v`` (``attribute[CODE][]=v`` repeated for a multivaluelist) as the
    answers ``tenants.questions.validate_answers`` checks; unknown codes pass through so the
    same validation refuses them."""
    by_key = {q.key: q for q in parse_questions(field.questions)}
    found: dict[str, Any] = {}
    for name, values in form.items():
        if not (name.startswith("attribute[") and name.endswith("]")):
            continue
        inner = name[len("attribute[") :]
        listed = inner.endswith("][]")
        code = inner[:-3] if listed else inner[:-1]
        q = by_key.get(code)
        texts = [v for v in values if v != ""]
        if q is not None and q.kind is QuestionKind.MULTI_CHOICE:
            found[code] = texts or None
            continue
        if not texts:
            continue  # an empty parameter is an absent one
        text = texts[0]
        if q is None:
            found[code] = text
        elif q.kind is QuestionKind.NUMBER:
            found[code] = _number(text)
        elif q.kind is QuestionKind.BOOLEAN:
            found[code] = {"true": True, "false": False}.get(text.lower(), text)
        elif q.kind is QuestionKind.DATE:
            found[code] = _date(text)
        else:
            found[code] = text
    return found
