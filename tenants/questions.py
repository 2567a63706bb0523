"""Per-field questions (câu hỏi theo lĩnh vực): what a tenant asks the reporter besides the
description, e.g. "Đường có bị chia cắt không?" for landslides. Configuration is JSON on the
field; answers are JSON on the report, validated against the field's questions on submission."""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import Validator
from core.labels import Labelled

KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_QUESTIONS = 20
MAX_TEXT = 1000


class QuestionKind(Labelled):
    TEXT = "text", "văn bản", "text"
    NUMBER = "number", "số", "number"
    BOOLEAN = "boolean", "có / không", "yes or no"
    CHOICE = "choice", "chọn một", "one of a list"
    MULTI_CHOICE = "multi_choice", "chọn nhiều", "several of a list"
    DATE = "date", "ngày", "date"


@dataclass(frozen=True)
class Question:
    key: str
    label_vi: str
    label_en: str
    kind: QuestionKind
    required: bool = False
    choices: tuple[str, ...] = ()
    private: bool = False  # the answer is for staff only (never in public views)

    def to_config(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label_vi": self.label_vi,
            "label_en": self.label_en,
            "kind": self.kind.value,
            "required": self.required,
            "choices": list(self.choices),
            "private": self.private,
        }


def parse_questions(
    config: Sequence[Mapping[str, Any]] | None, prefix: str = "questions"
) -> list[Question]:
    """Validate a field's question list (typed error per offending entry)."""
    v = Validator()
    questions: list[Question] = []
    items = list(config or [])
    if len(items) > MAX_QUESTIONS:
        v.add(
            "TOO_MANY",
            prefix,
            f"Tối đa {MAX_QUESTIONS} câu hỏi.",
            f"At most {MAX_QUESTIONS} questions.",
        )
    seen: set[str] = set()
    for i, item in enumerate(items[:MAX_QUESTIONS]):
        name = f"{prefix}[{i}]"
        key = str(item.get("key", ""))
        if not KEY_RE.match(key) or key in seen:
            v.add(
                "INVALID_KEY",
                f"{name}.key",
                "Mã câu hỏi gồm chữ thường, số, gạch dưới và không trùng.",
                "A question key has lowercase letters, digits, underscores and is unique.",
            )
        seen.add(key)
        label_vi = v.text(f"{name}.labelVi", item.get("label_vi"), max_len=300) or ""
        label_en = v.text(f"{name}.labelEn", item.get("label_en"), max_len=300) or ""
        try:
            kind = QuestionKind(str(item.get("kind")))
        except ValueError:
            v.add(
                "INVALID_KIND",
                f"{name}.kind",
                "Loại câu hỏi không hợp lệ.",
                "Unknown question kind.",
            )
            continue
        choices = tuple(str(c).strip() for c in item.get("choices") or () if str(c).strip())
        if kind in (QuestionKind.CHOICE, QuestionKind.MULTI_CHOICE) and len(choices) < 2:
            v.add(
                "CHOICES_REQUIRED",
                f"{name}.choices",
                "Cần ít nhất hai lựa chọn.",
                "A choice question needs at least two choices.",
            )
        questions.append(
            Question(
                key,
                label_vi,
                label_en,
                kind,
                bool(item.get("required")),
                choices,
                bool(item.get("private")),
            )
        )
    v.check()
    return questions


def validate_answers(
    questions: Sequence[Question], answers: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The cleaned answers; every problem is reported at once with its field."""
    answers = dict(answers or {})
    v = Validator()
    by_key = {q.key: q for q in questions}
    for key in answers:
        if key not in by_key:
            v.add(
                "UNKNOWN_QUESTION",
                f"answers.{key}",
                "Câu hỏi không tồn tại.",
                "No such question for this field.",
            )
    cleaned: dict[str, Any] = {}
    for q in questions:
        value = answers.get(q.key)
        name = f"answers.{q.key}"
        if value is None or value == "" or value == []:
            if q.required:
                v.add(
                    "REQUIRED", name, f"Cần trả lời: {q.label_vi}", f"Please answer: {q.label_en}"
                )
            continue
        ok, cleaned_value = _coerce(q, value)
        if not ok:
            v.add(
                "INVALID_ANSWER",
                name,
                f"Câu trả lời không hợp lệ: {q.label_vi}",
                f"Invalid answer: {q.label_en}",
            )
            continue
        cleaned[q.key] = cleaned_value
    v.check()
    return cleaned


def _coerce(q: Question, value: Any) -> tuple[bool, Any]:
    if q.kind is QuestionKind.TEXT:
        return isinstance(value, str) and len(value) <= MAX_TEXT, str(value).strip()
    if q.kind is QuestionKind.NUMBER:
        valid = (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and abs(value) < 1e15
        )
        return valid, value
    if q.kind is QuestionKind.BOOLEAN:
        return isinstance(value, bool), value
    if q.kind is QuestionKind.CHOICE:
        return isinstance(value, str) and value in q.choices, value
    if q.kind is QuestionKind.MULTI_CHOICE:
        valid = (
            isinstance(value, list)
            and all(isinstance(v, str) and v in q.choices for v in value)
            and len(set(value)) == len(value)
        )
        return valid, value
    try:
        return True, datetime.date.fromisoformat(str(value)).isoformat()
    except ValueError:
        return False, None


def public_answers(
    questions: Sequence[Question], answers: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Answers without the private ones."""
    private = {q.key for q in questions if q.private}
    return {k: v for k, v in (answers or {}).items() if k not in private}
