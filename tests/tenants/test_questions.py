"""Per-field questions: configured by the tenant admin, answered on submission, validated."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from core.errors import DomainError
from tenants.questions import parse_questions, validate_answers
from tests.conftest import GraphQLClient
from tests.factories import onboard_locality, user_with_grants

LANDSLIDE = [
    {
        "key": "road_cut",
        "label_vi": "Đường có bị chia cắt không?",
        "label_en": "Is the road cut off?",
        "kind": "boolean",
        "required": True,
    },
    {
        "key": "size",
        "label_vi": "Quy mô",
        "label_en": "Size",
        "kind": "choice",
        "choices": ["nhỏ", "vừa", "lớn"],
    },
    {
        "key": "households",
        "label_vi": "Số hộ bị ảnh hưởng",
        "label_en": "Households affected",
        "kind": "number",
        "private": True,
    },
    {"key": "since", "label_vi": "Từ ngày", "label_en": "Since", "kind": "date"},
]


def codes(error: DomainError) -> list[tuple[str, str | None]]:
    return [(d.code, d.field) for d in error.details]


def test_answers_are_validated_against_the_questions() -> None:
    questions = parse_questions(LANDSLIDE)
    assert validate_answers(
        questions, {"road_cut": True, "size": "lớn", "households": 12, "since": "2026-11-27"}
    ) == {"road_cut": True, "size": "lớn", "households": 12, "since": "2026-11-27"}
    with pytest.raises(DomainError) as error:
        validate_answers(
            questions,
            {"size": "khổng lồ", "households": "mười", "since": "hôm qua", "colour": "đỏ"},
        )
    assert sorted(codes(error.value)) == sorted(
        [
            ("UNKNOWN_QUESTION", "answers.colour"),
            ("REQUIRED", "answers.road_cut"),
            ("INVALID_ANSWER", "answers.size"),
            ("INVALID_ANSWER", "answers.households"),
            ("INVALID_ANSWER", "answers.since"),
        ]
    )
    assert validate_answers([], None) == {}
    for number in (float("inf"), float("nan"), 1e300, True):
        with pytest.raises(DomainError) as error:
            validate_answers(questions, {"road_cut": False, "households": number})
        assert codes(error.value) == [("INVALID_ANSWER", "answers.households")]


def test_bad_question_configuration_is_refused() -> None:
    bad = [
        {"key": "Road Cut", "label_vi": "x", "label_en": "x", "kind": "boolean"},
        {"key": "size", "label_vi": "x", "label_en": "x", "kind": "choice", "choices": ["a"]},
        {"key": "size", "label_vi": "", "label_en": "x", "kind": "colour"},
    ]
    with pytest.raises(DomainError) as error:
        parse_questions(bad)
    assert ("INVALID_KEY", "questions[0].key") in codes(error.value)
    assert ("CHOICES_REQUIRED", "questions[1].choices") in codes(error.value)
    assert ("INVALID_KEY", "questions[2].key") in codes(error.value)  # duplicate
    assert ("REQUIRED", "questions[2].labelVi") in codes(error.value)
    assert ("INVALID_KIND", "questions[2].kind") in codes(error.value)


def as_input(question: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": question["key"],
        "labelVi": question["label_vi"],
        "labelEn": question["label_en"],
        "kind": question["kind"].upper(),  # the GraphQL enum QuestionKind
        "required": question.get("required", False),
        "choices": question.get("choices", []),
        "private": question.get("private", False),
    }


async def test_the_admin_configures_and_the_citizen_answers(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    # A locality of its own: a new field in a demo tenant would change what other tests list.
    locality = await onboard_locality(gql, pilot, prefix="hoi")
    admin = locality["admin"]
    citizen = await user_with_grants(gql, locality, "dan", {"role": "citizen"})
    code = f"sat-lo-{uuid.uuid4().hex[:6]}"
    created = await gql.ok(
        """mutation($i: CreateFieldInput!) { createField(input: $i) {
             field { id questions { key label kind required choices private } }
             errors { code field } } }""",
        {
            "i": {
                "code": code,
                "nameVi": "Sạt lở",
                "nameEn": "Landslide",
                "questions": [as_input(q) for q in LANDSLIDE],
            }
        },
        token=admin,
    )
    field = created["createField"]["field"]
    assert created["createField"]["errors"] == []
    assert [q["key"] for q in field["questions"]] == ["road_cut", "size", "households", "since"]
    assert field["questions"][0]["label"] == "Is the road cut off?"  # Accept-Language: en

    submit = """mutation($i: SubmitReportInput!) { submitReport(input: $i) {
        report { answers } errors { code field } } }"""
    base = {
        "title": "Sạt lở taluy đường Tả Van",
        "description": "Đất đá tràn ra đường.",
        "fieldId": field["id"],
        "latitude": 10.0,
        "longitude": 106.0,
    }
    missing = await gql.ok(submit, {"i": {**base, "answers": {"size": "lớn"}}}, token=citizen)
    assert missing["submitReport"]["report"] is None
    assert missing["submitReport"]["errors"] == [{"code": "REQUIRED", "field": "answers.road_cut"}]
    good = await gql.ok(
        submit, {"i": {**base, "answers": {"road_cut": True, "size": "lớn"}}}, token=citizen
    )
    assert good["submitReport"]["errors"] == []
    assert good["submitReport"]["report"]["answers"] == {"road_cut": True, "size": "lớn"}

    broken = await gql.ok(
        """mutation($i: UpdateFieldInput!) { updateField(input: $i) {
             field { id } errors { code field } } }""",
        {"i": {"id": field["id"], "questions": [{**as_input(LANDSLIDE[1]), "choices": []}]}},
        token=admin,
    )
    assert broken["updateField"]["errors"] == [
        {"code": "CHOICES_REQUIRED", "field": "questions[0].choices"}
    ]
    still = await gql.ok("{ fields { id questions { key } } }", token=admin)
    mine = next(f for f in still["fields"] if f["id"] == field["id"])
    assert len(mine["questions"]) == 4  # unchanged by the refused update


def test_a_multiple_choice_answer_is_a_list_of_distinct_listed_choices() -> None:
    (q,) = parse_questions(
        [{"key": "kinds", "label_vi": "Loại rác", "label_en": "Kinds", "kind": "multi_choice",
          "choices": ["nhựa", "giấy", "kim loại"], "required": True}]
    )  # fmt: skip
    assert validate_answers([q], {"kinds": ["nhựa", "giấy"]}) == {"kinds": ["nhựa", "giấy"]}
    for wrong in (["nhựa", "nhựa"], ["gỗ"], "nhựa", [1]):
        with pytest.raises(DomainError) as refused:
            validate_answers([q], {"kinds": wrong})
        assert refused.value.code == "INVALID_ANSWER", wrong
    with pytest.raises(DomainError) as missing:
        validate_answers([q], {"kinds": []})  # an empty list is no answer
    assert missing.value.code == "REQUIRED"
    with pytest.raises(DomainError):  # like a single choice, it needs two choices
        parse_questions([{"key": "k", "label_vi": "x", "label_en": "x", "kind": "multi_choice",
                          "choices": ["a"]}])  # fmt: skip
