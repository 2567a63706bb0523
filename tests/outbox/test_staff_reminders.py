"""Staff who opt in get their own deadline reminders by e-mail too, in their language; those
who did not, or whose grant does not reach the report, get none."""

from __future__ import annotations

import uuid
from typing import Any

from outbox.models import OutboxMessage
from outbox.runner import Outbox
from permissions.session import scoped_transaction, tenant_transaction
from reports.jobs import deliver_once, run_once
from reports.models import Report, ReportEvent
from reports.workflow import WorkflowAction as A
from tenants.calendar import WorkingCalendar
from tests.conftest import GraphQLClient
from tests.support.mail import MailSink
from tests.support.services import step, submit

OPT_IN = """mutation($i: SetReminderEmailsInput!) { setReminderEmails(input: $i) {
  enabled errors { code } } }"""


async def test_an_opted_in_handler_is_mailed_the_reminder_in_english(
    gql: GraphQLClient,
    pilot: dict[str, Any],
    sapa: dict[str, Any],
    mail: MailSink,
    outbox: Outbox,
) -> None:
    handler = await gql.login("sapa.handler", pilot["password"])
    data = await gql.ok(OPT_IN, {"i": {"enabled": True, "language": "EN"}}, handler)
    assert data["setReminderEmails"] == {"enabled": True, "errors": []}
    report = await submit(sapa, title=f"Nhắc hạn {uuid.uuid4().hex[:6]}")
    report = await step(sapa["operator"], report, A.ASSIGN, assign=_assign(sapa))
    report = await step(sapa["contact"], report, A.ACCEPT)
    async with scoped_transaction(sapa["contact"]):
        report = await Report.get(id=report.id)
        accepted = await ReportEvent.filter(report_id=report.id, action="ACCEPT").first()
    assert accepted is not None and report.resolve_due_at is not None
    calendar = WorkingCalendar()
    total = calendar.working_time_between(accepted.created_at, report.resolve_due_at)
    halfway = calendar.add_working_time(accepted.created_at, total * 0.6)
    assert (await run_once(halfway, tenant_codes=["sa-pa"])).reminded >= 1

    async with tenant_transaction(sapa["tenant"].id):
        rows = await OutboxMessage.filter(
            tenant_id=sapa["tenant"].id, event_type="deadline.reminder",
            subject__contains=report.code,
        )  # fmt: skip
    # The handler chose e-mails; the agency leader (not reached at 50 %) and others did not.
    assert [r.recipient for r in rows] == ["sapa.handler@sa-pa.example.vn"]
    await deliver_once(outbox, now=halfway, tenant_codes=["sa-pa"])
    (received,) = [
        m for m in mail.to("sapa.handler@sa-pa.example.vn") if report.code in m["Subject"]
    ]
    assert received["Subject"] == f"Deadline reminder for report {report.code}"
    assert "half of the time is used" in received.get_content()


def _assign(sapa: dict[str, Any]) -> Any:
    from reports.service import AssignInput

    return AssignInput(sapa["health"].id)
