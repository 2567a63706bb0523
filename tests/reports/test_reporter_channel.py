"""Who reports and through which channel (issue 12, item 7): enums on the report, defaulted from
how it was entered, refused when unknown, and filterable over GraphQL."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from core.errors import DomainError
from permissions.session import scoped_transaction
from reports.models import Report
from reports.service import ContactInput, submit_report
from tests.conftest import GraphQLClient
from tests.factories import gid
from tests.support.services import new_input, submit


async def on_behalf(sapa: dict[str, Any], **overrides: Any) -> Report:
    operator = sapa["operator"]
    data = new_input(
        sapa, on_behalf=True, contact=ContactInput("Công ty Hoàng Liên", "0912345678"), **overrides
    )
    async with scoped_transaction(operator):
        return (await submit_report(operator, data)).report


async def test_kind_and_channel_are_recorded_with_defaults(sapa: dict[str, Any]) -> None:
    own = await submit(sapa)
    assert (own.reporter_kind, own.channel) == ("person", "app")
    called = await on_behalf(sapa, reporter_kind="business")
    assert (called.reporter_kind, called.channel) == ("business", "hotline")
    walked = await on_behalf(sapa, reporter_kind="organisation", channel="walk_in")
    assert (walked.reporter_kind, walked.channel) == ("organisation", "walk_in")
    with pytest.raises(DomainError) as refused:
        await submit(sapa, reporter_kind="company", channel="fax")
    assert {d.field for d in refused.value.details} == {"reporterKind", "channel"}


async def test_reports_filter_by_channel_and_kind(
    gql: GraphQLClient,
    sapa: dict[str, Any],
    pilot: dict[str, Any],
) -> None:
    marker = uuid.uuid4().hex[:8]
    zalo = await submit(sapa, channel="zalo", title=f"Zalo {marker} báo")
    business = await on_behalf(sapa, reporter_kind="business", title=f"Hotline {marker} báo")
    token = await gql.login("sapa.intake-operator", pilot["password"])
    query = """query($f: ReportFilter) { reports(filter: $f, first: 50) {
      edges { node { id channel reporterKind } } } }"""

    async def found(**f: Any) -> list[dict[str, Any]]:
        data = await gql.ok(query, {"f": {"text": marker, **f}}, token=token)
        return [e["node"] for e in data["reports"]["edges"]]

    assert await found(channels=["ZALO"]) == [
        {"id": gid("Report", zalo.id), "channel": "ZALO", "reporterKind": "PERSON"}
    ]
    assert await found(reporterKinds=["BUSINESS"]) == [
        {"id": gid("Report", business.id), "channel": "HOTLINE", "reporterKind": "BUSINESS"}
    ]
    assert len(await found()) == 2
    assert await found(channels=["EMAIL"]) == []
