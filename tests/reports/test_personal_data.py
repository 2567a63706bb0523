"""Personal data (Nghị định 13/2023/NĐ-CP): contacts anonymised after the tenant's retention
period by the background pass (the report stays), read-only tenants included; and the trail of
who saw a reporter's identity."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from core import clock
from permissions.scope import anonymous_in
from permissions.session import scoped_transaction, tenant_transaction
from reports.identity_audit import record_views
from reports.models import Report, ReporterContact, ReporterIdentityView
from reports.retention import anonymise_expired_contacts
from reports.service import submit_report
from reports.submission import ContactInput
from tenants.models import Tenant
from tests.factories import gid, user_named
from tests.support.services import new_input

REPORTER = """query($id: ID!) { report(id: $id) { id reporter { name phone email } } }"""


VIEWS = """query($id: ID!) { report(id: $id) { reporterViews { viewerId viewedAt } } }"""


class _Rollback(Exception):
    pass


async def _reported(sapa: dict[str, Any]) -> Report:
    scope = anonymous_in(sapa["tenant"].id)
    contact = ContactInput(name="Giàng A Páo", phone="0912345678", email="pao@example.vn")
    async with scoped_transaction(scope):
        result = await submit_report(scope, new_input(sapa, contact=contact))
    return result.report


async def _contact(report: Report) -> ReporterContact:
    async with tenant_transaction(report.tenant_id):
        return await ReporterContact.get(tenant_id=report.tenant_id, report_id=report.id)


@pytest.mark.parametrize("status", ["active", "archived"])
async def test_contacts_are_anonymised_after_the_retention_period(
    sapa: dict[str, Any], status: str
) -> None:
    report = await _reported(sapa)
    closed = clock.now()
    with pytest.raises(_Rollback):
        async with in_transaction():
            async with tenant_transaction(report.tenant_id):
                await Report.filter(id=report.id).update(state="CLOSED", closed_at=closed)
            await Tenant.filter(id=report.tenant_id).update(status=status)
            early = closed + timedelta(days=729)
            await anonymise_expired_contacts(early, ["sa-pa"])
            kept = await _contact(report)
            assert (kept.name, kept.phone, kept.anonymised_at) == (
                "Giàng A Páo",
                "0912345678",
                None,
            )

            late = closed + timedelta(days=731)
            assert await anonymise_expired_contacts(late, ["sa-pa"]) >= 1
            blank = await _contact(report)
            assert (blank.name, blank.phone, blank.email, blank.notify_by) == ("", None, None, None)
            assert blank.anonymised_at == late
            async with tenant_transaction(report.tenant_id):
                row = await Report.get(id=report.id)
            assert (row.title, row.state) == (report.title, "CLOSED")  # the report stays
            assert await anonymise_expired_contacts(late, ["sa-pa"]) == 0  # once
            raise _Rollback


async def test_open_reports_keep_their_contact(sapa: dict[str, Any]) -> None:
    report = await _reported(sapa)
    with pytest.raises(_Rollback):
        async with in_transaction():
            await anonymise_expired_contacts(clock.now() + timedelta(days=4000), ["sa-pa"])
            assert (await _contact(report)).phone == "0912345678"
            raise _Rollback


async def test_every_reveal_of_a_reporter_is_logged(
    gql: Any, pilot: dict[str, Any], sapa: dict[str, Any]
) -> None:
    report = await _reported(sapa)
    operator = await gql.login("sapa.intake-operator", pilot["password"])
    handler = await gql.login("sapa.handler", pilot["password"])

    async def trail() -> list[ReporterIdentityView]:
        async with tenant_transaction(report.tenant_id):
            return await ReporterIdentityView.filter(report_id=report.id).order_by("viewed_at")

    seen = await gql.ok(REPORTER, {"id": gid("Report", report.id)}, operator)
    assert seen["report"]["reporter"]["name"] == "Giàng A Páo"
    views = await trail()
    assert [v.viewer_user_id for v in views] == [(await user_named("sapa.intake-operator")).id]

    hidden = await gql(REPORTER, {"id": gid("Report", report.id)}, handler)
    assert (hidden.get("data") or {}).get("report") is None or hidden["data"]["report"][
        "reporter"
    ] is None
    assert len(await trail()) == 1  # nothing revealed, nothing logged

    await gql.ok(REPORTER, {"id": gid("Report", report.id)}, operator)
    assert len(await trail()) == 2
    # the trail itself, newest first, for those who may see the reporter
    listed = await gql.ok(VIEWS, {"id": gid("Report", report.id)}, operator)
    operator_gid = gid("User", (await user_named("sapa.intake-operator")).id)
    assert [v["viewerId"] for v in listed["report"]["reporterViews"]] == [operator_gid] * 2


async def test_a_reveal_of_a_report_made_in_the_same_request_is_logged(
    sapa: dict[str, Any],
) -> None:
    """The side connection cannot see an uncommitted report: the log falls back to the
    request's own transaction."""
    viewer = (await user_named("sapa.intake-operator")).id
    with pytest.raises(_Rollback):
        async with in_transaction():
            report = await _reported(sapa)
            await record_views(report.tenant_id, viewer, [report.id, report.id])
            async with tenant_transaction(report.tenant_id):
                views = await ReporterIdentityView.filter(report_id=report.id)
            assert [v.viewer_user_id for v in views] == [viewer]
            raise _Rollback
