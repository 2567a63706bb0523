"""submitReport sends a handful of statements (issue 11): everything is read before any lock,
the rows go in one statement, and that statement, the last, allocates the code (the tenant's
counter row is locked from there to the commit, not across the submission)."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Any

from outbox.models import OutboxMessage
from permissions.session import scoped_transaction, tenant_transaction
from reports.models import Report, ReporterContact, ReportEvent
from reports.service import submit_report
from tests.conftest import GraphQLClient
from tests.statements import count_statements
from tests.support.citizens import call
from tests.support.services import new_input, submit
from tests.support.workflow import SAPA_POINT

SUBMIT = """mutation($i: SubmitReportInput!) { submitReport(input: $i) {
  report { id code } trackingCode possibleDuplicates { distanceM } errors { code } } }"""


async def _submit(gql: GraphQLClient, token: str | None, field_id: str, **extra: Any) -> Any:
    variables = {
        "i": {
            "title": "Rác thải trước chợ",
            "description": "Rác để qua đêm trước cổng chợ.",
            "fieldId": field_id,
            "latitude": SAPA_POINT[0],
            "longitude": SAPA_POINT[1],
            "idempotencyKey": uuid.uuid4().hex,
            **extra,
        }
    }
    payload = (await call(gql, SUBMIT, variables, token=token))["submitReport"]
    assert payload["errors"] == [], payload
    return payload


async def _counted(
    gql: GraphQLClient, token: str | None, **extra: Any
) -> tuple[dict[str, Any], list[str]]:
    fields = await call(gql, "{ fields { id code } }", token=token)
    field_id = next(f["id"] for f in fields["fields"] if f["code"] == "ve-sinh-attp")
    await _submit(gql, token, field_id, **extra)  # warm: policies and the tenant catalog cached
    with count_statements() as statements:
        payload = await _submit(gql, token, field_id, **extra)
    # The one after it was near the first: a duplicate suggestion was looked for and found.
    assert payload["possibleDuplicates"], payload
    return payload, statements


def _shape(statements: list[str]) -> None:
    """The counter is touched once, by the last statement, which writes every row."""
    assert sum("report_counter" in s for s in statements) == 1, statements
    last = statements[-1]
    assert "report_counter" in last
    for table in ("report", "report_event", "outbox_message"):
        assert f'INSERT INTO "{table}"' in last, table
    assert not any(s.lstrip().upper().startswith("INSERT") for s in statements[:-1]), statements


async def _rows(pilot: dict[str, Any], code: str) -> tuple[Report, list[Any]]:
    async with tenant_transaction(pilot["tenants"]["sa-pa"].id):
        report = await Report.get(code=code)
        events = await ReportEvent.filter(report_id=report.id)
        contact = await ReporterContact.get_or_none(report_id=report.id)
        messages = await OutboxMessage.filter(subject__contains=code)
        return report, [events, contact, messages]


async def test_anonymous_submission_sends_seven_statements(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    payload, statements = await _counted(
        gql, None, contact={"name": "An", "email": "an@example.vn"}
    )
    # set_config, the idempotency key, the tenant with its rules, the locator's signature,
    # nearby open reports, webhook endpoints with the template, then the one write (was 21)
    assert len(statements) == 7, statements
    _shape(statements)
    code = payload["report"]["code"]
    assert re.fullmatch(r"SP-20\d\d-\d{6}", code), code
    report, (events, contact, messages) = await _rows(pilot, code)
    assert report.tracking_code == payload["trackingCode"] and report.anonymous
    assert report.screen_due_at is not None
    assert [e.action for e in events] == ["SUBMIT"]
    assert contact is not None and contact.email == "an@example.vn"
    [message] = messages  # the receipt names the allocated code, never the marker
    assert message.recipient == "an@example.vn" and "PAHT" not in message.body
    assert code in message.body and payload["trackingCode"] in message.body


async def test_citizen_submission_sends_eight_statements(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    token = await gql.login("sapa.citizen", pilot["password"])
    payload, statements = await _counted(gql, token)
    # as the anonymous one, plus the citizen's account with their profile (was 22)
    assert len(statements) == 8, statements
    _shape(statements)
    report, (events, contact, messages) = await _rows(pilot, payload["report"]["code"])
    assert report.reporter_user_id is not None and not report.anonymous
    assert [e.action for e in events] == ["SUBMIT"] and contact is None
    assert len(messages) == 1 and "PAHT" not in messages[0].subject


async def test_a_lost_idempotency_race_takes_its_number_back(sapa: dict[str, Any]) -> None:
    """The losers of a race allocate a number in the statement that fails on the key: their
    savepoint undoes it, so the next report's number follows the winner's."""
    data = new_input(sapa)

    async def once() -> Any:
        async with scoped_transaction(sapa["citizen"]):
            return await submit_report(sapa["citizen"], data)

    results = await asyncio.gather(once(), once(), once())
    assert sum(r.created for r in results) == 1
    after = await submit(sapa)
    prefix, year, number = results[0].report.code.rsplit("-", 2)
    assert after.code == f"{prefix}-{year}-{int(number) + 1:06d}"


async def test_hotline_entry_sends_seven_statements(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    token = await gql.login("sapa.intake-operator", pilot["password"])
    contact = {"name": "Bình", "phone": "0912345678", "notifyBy": "SMS"}
    payload, statements = await _counted(gql, token, onBehalf=True, contact=contact)
    # as the anonymous one: the coordination centre it acts for comes from the tenant catalog
    assert len(statements) == 7, statements
    _shape(statements)
    report, (events, contact_row, messages) = await _rows(pilot, payload["report"]["code"])
    assert report.channel == "hotline" and report.tracking_code == payload["trackingCode"]
    [event] = events
    assert event.actor_role != "reporter" and event.actor_agency_id is not None  # the centre
    assert contact_row is not None and contact_row.phone == "0912345678"
    assert [m.recipient for m in messages] == ["0912345678"]
