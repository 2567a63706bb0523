"""Grants narrowed by agency, by field and by both, against the unnarrowed truth: lists, single
reports (``report``, ``reportByCode``, ``node``) and the ``reportActivity`` subscription show
exactly the reports the narrowing covers.

A locality of its own: three agencies, three fields and one report for each field and routing
(unassigned, led by X, led by Y, led by Y with X coordinating, led by Z with Y coordinating).
The tenant admin, whose report:view is unnarrowed, lists the truth."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

import pytest

from tests.conftest import GraphQLClient
from tests.factories import (
    all_reports,
    assign_report_as,
    gid,
    involves,
    next_message,
    onboard_locality,
    submit_report_as,
    subscribers_registered,
    subscription,
    user_with_grants,
)

AGENCIES = [
    {"code": "phong-yte", "nameVi": "Phòng Y tế", "nameEn": "Health office"},
    {"code": "phong-qldt", "nameVi": "Phòng QLĐT", "nameEn": "Urban management"},
    {"code": "cong-an", "nameVi": "Công an", "nameEn": "Police", "kind": "POLICE"},
]
FIELDS = [
    {"code": "ve-sinh-attp", "nameVi": "ATTP", "nameEn": "Food", "defaultAgencyCode": "phong-yte"},
    {"code": "ha-tang", "nameVi": "Hạ tầng", "nameEn": "Roads", "defaultAgencyCode": "phong-qldt"},
    {"code": "trat-tu", "nameVi": "Trật tự", "nameEn": "Order", "defaultAgencyCode": "cong-an"},
]
# (lead, coordinating) by agency code; None: not assigned yet
ROUTINGS = [
    None,
    ("phong-yte", ()),
    ("phong-qldt", ()),
    ("phong-qldt", ("phong-yte",)),
    ("cong-an", ("phong-qldt",)),
]
COMMENT = """mutation($i: AddCommentInput!) { addComment(input: $i) {
  event { action } errors { code message } } }"""
SINGLE = """query($id: ID!, $code: String!) {
  report(id: $id) { id } reportByCode(code: $code) { id } node(id: $id) { id } }"""


@pytest.fixture(scope="module")
async def town(gql: GraphQLClient, pilot: dict[str, Any]) -> dict[str, Any]:
    town = await onboard_locality(gql, pilot, prefix="reach", agencies=AGENCIES, fields=FIELDS)
    agency = {code: gid("Agency", i) for code, i in town["agencies"].items()}
    field = {code: gid("Field", i) for code, i in town["fields"].items()}
    citizen = await user_with_grants(gql, town, "dan", {"role": "citizen"})
    operator = await user_with_grants(gql, town, "tiep-nhan", {"role": "intake_operator"})
    for field_code in field:
        for n, routing in enumerate(ROUTINGS):
            report = await submit_report_as(
                gql, citizen, field[field_code], f"Phản ánh {field_code} số {n}"
            )
            if routing is not None:
                lead, coordinating = routing
                await assign_report_as(
                    gql, operator, report, agency[lead], [agency[c] for c in coordinating]
                )
    truth = await all_reports(gql, town["admin"])
    assert len(truth) == len(FIELDS) * len(ROUTINGS)
    X, F1 = agency["phong-yte"], field["ve-sinh-attp"]

    def of_field(code: str) -> Callable[[dict[str, Any]], bool]:
        return lambda r: r["field"]["id"] == field[code]

    # Each viewer: its grants and, from the truth, which reports those grants cover.
    viewers: dict[str, tuple[list[dict[str, Any]], Callable[[dict[str, Any]], bool]]] = {
        "by-agency": ([{"role": "handler", "agencyId": X}], lambda r: involves(r, X)),
        "by-field": ([{"role": "locality_leader", "fieldId": F1}], of_field("ve-sinh-attp")),
        "by-both": (
            [{"role": "handler", "agencyId": X, "fieldId": F1}],
            lambda r: involves(r, X) and r["field"]["id"] == F1,
        ),
        "two-grants": (
            [
                {"role": "locality_leader", "fieldId": field["ha-tang"]},
                {"role": "coordinating_unit", "agencyId": X},
            ],
            lambda r: of_field("ha-tang")(r) or involves(r, X),
        ),
    }
    tokens, expected = {}, {}
    for name, (grants, covers) in viewers.items():
        tokens[name] = await user_with_grants(gql, town, name, *grants)
        expected[name] = {rid for rid, report in truth.items() if covers(report)}
        assert set() < expected[name] < set(truth), name  # each narrowing really narrows
    # One report every viewer sees: food safety, led by the health office.
    sentinel = next(rid for rid, r in truth.items() if r["field"]["id"] == F1 and involves(r, X))
    assert all(sentinel in e for e in expected.values())
    return {
        **town,
        "truth": truth,
        "tokens": tokens,
        "expected": expected,
        "operator": operator,
        "sentinel": sentinel,
    }


VIEWERS = ["by-agency", "by-field", "by-both", "two-grants"]


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_lists_show_exactly_what_the_narrowing_covers(
    gql: GraphQLClient, town: dict[str, Any], viewer: str
) -> None:
    listed = await all_reports(gql, town["tokens"][viewer])
    assert set(listed) == town["expected"][viewer]


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_single_reports_follow_the_narrowing(
    gql: GraphQLClient, town: dict[str, Any], viewer: str
) -> None:
    for rid, report in town["truth"].items():
        data = await gql.ok(
            SINGLE, {"id": rid, "code": report["code"]}, token=town["tokens"][viewer]
        )
        found = {key: (value or {}).get("id") for key, value in data.items()}
        if rid in town["expected"][viewer]:
            assert found == {"report": rid, "reportByCode": rid, "node": rid}, report
        else:  # "not found", never "forbidden"
            assert found == {"report": None, "reportByCode": None, "node": None}, report


async def test_activity_reaches_exactly_the_covered_viewers(
    ws_server: str, gql: GraphQLClient, town: dict[str, Any]
) -> None:
    async with contextlib.AsyncExitStack() as stack:
        sockets = {
            viewer: await stack.enter_async_context(
                subscription(ws_server, {"Authorization": f"Bearer {town['tokens'][viewer]}"})
            )
            for viewer in VIEWERS
        }
        await subscribers_registered(town["tenant_id"], len(VIEWERS))
        # One internal note on every report, the sentinel's last: each viewer hears of exactly
        # its reports, in commit order, and knows it has heard everything at the sentinel.
        order = [rid for rid in town["truth"] if rid != town["sentinel"]] + [town["sentinel"]]
        for rid in order:
            noted = await gql.ok(
                COMMENT, {"i": {"id": rid, "text": "Đã xác minh."}}, token=town["operator"]
            )
            assert noted["addComment"]["errors"] == [], noted
        heard = await asyncio.gather(*(hear_until(ws, town["sentinel"]) for ws in sockets.values()))
    for viewer, ids in zip(sockets, heard, strict=True):
        assert len(ids) == len(set(ids)), viewer
        assert set(ids) == town["expected"][viewer], viewer


async def hear_until(ws: Any, last: str) -> list[str]:
    ids: list[str] = []
    while not ids or ids[-1] != last:
        message = await next_message(ws, seconds=10)
        assert message["type"] == "next", message
        activity = message["payload"]["data"]["reportActivity"]
        assert activity["action"] == "COMMENT", activity
        ids.append(activity["reportId"])
    return ids
