"""Citizens told by e-mail, through the outbox, against a real SMTP server (aiosmtpd): written
in the step's transaction (a rolled-back step sends nothing), delivered by the runner's pass,
in the reporter's language; nothing for an anonymous reporter who left no contact; no address
in the logs."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from outbox.models import OutboxMessage
from outbox.runner import Outbox
from permissions.scope import anonymous_in
from permissions.session import scoped_transaction, tenant_transaction
from reports.jobs import deliver_once
from reports.service import AssignInput, ContactInput, publish, submit_report
from reports.workflow import WorkflowAction as A
from tests.support.mail import MailSink
from tests.support.services import new_input, step, submit


class Rollback(Exception):
    pass


def address() -> str:
    return f"citizen-{uuid.uuid4().hex[:8]}@example.vn"


async def messages_for(tenant_id: uuid.UUID, recipient: str) -> list[OutboxMessage]:
    async with tenant_transaction(tenant_id):
        return await OutboxMessage.filter(tenant_id=tenant_id, recipient=recipient).order_by(
            "created_at", "id"
        )


async def test_a_rolled_back_submission_leaves_nothing_in_the_outbox(
    sapa: dict[str, Any],
) -> None:
    to = address()
    scope = sapa["citizen"]
    with pytest.raises(Rollback):
        async with scoped_transaction(scope):
            await submit_report(scope, new_input(sapa, contact=ContactInput("An", None, to)))
            assert len(await OutboxMessage.filter(recipient=to)) == 1  # written in the step
            raise Rollback
    assert await messages_for(sapa["tenant"].id, to) == []


async def test_each_public_step_is_mailed_in_the_reporters_language(
    sapa: dict[str, Any],
    mail: MailSink,
    outbox: Outbox,
) -> None:
    to = address()
    report = await submit(sapa, contact=ContactInput("Anna", None, to, "en"))
    report = await step(sapa["operator"], report, A.REQUEST_INFO, comment="Which house number?")
    report = await step(sapa["citizen"], report, A.PROVIDE_INFO, comment="Number 12.")
    report = await step(sapa["operator"], report, A.ASSIGN, assign=AssignInput(sapa["health"].id))
    report = await step(sapa["contact"], report, A.ACCEPT)
    report = await step(sapa["handler"], report, A.SUBMIT_RESULT, comment="Cleaned.")
    report = await step(sapa["supervisor"], report, A.APPROVE_RESULT)
    async with scoped_transaction(sapa["supervisor"]):
        report = await publish(sapa["supervisor"], report.id, True)
    await step(sapa["citizen"], report, A.REOPEN, reason_code="NOT_FIXED", comment="Still dirty.")

    stats = await deliver_once(outbox, tenant_codes=["sa-pa"])
    assert stats.sent >= 7 and stats.errors == []
    subjects = [m["Subject"] for m in mail.to(to)]
    code = report.code
    assert subjects == [
        f"Report {code} received",
        f"Report {code} needs more information",
        f"Report {code} was passed to an agency",
        f"Report {code} is being handled",
        f"Report {code} has a result",
        f"The result of report {code} is public",
        f"Report {code} was reopened",
    ]
    needs_info = mail.to(to)[1]
    assert "Which house number?" in needs_info.get_content()
    assert "Cleaned." not in "".join(m.get_content() for m in mail.to(to))  # internal step
    assert sapa["health"].name_en in mail.to(to)[2].get_content()
    # The outbox row is the idempotency id each delivery carries, and it is now SENT.
    rows = await messages_for(sapa["tenant"].id, to)
    assert [f"<{r.id}@paht>" for r in rows] == [m["Message-ID"] for m in mail.to(to)]
    assert {r.status for r in rows} == {"SENT"} and all(r.sent_at for r in rows)
    assert all(m["Content-Language"] == "en" for m in mail.to(to))


async def test_a_reroute_tells_the_reporter_the_new_agency_but_not_the_reason(
    sapa: dict[str, Any],
    mail: MailSink,
    outbox: Outbox,
) -> None:
    to = address()
    report = await submit(sapa, contact=ContactInput("Anna", None, to, "en"))
    report = await step(sapa["operator"], report, A.ASSIGN, assign=AssignInput(sapa["health"].id))
    await step(
        sapa["operator"], report, A.REROUTE, comment="Internal: wrong office.",
        assign=AssignInput(sapa["urban"].id),
    )  # fmt: skip
    await deliver_once(outbox, tenant_codes=["sa-pa"])
    passed = [m for m in mail.to(to) if m["Subject"].endswith("was passed to an agency")]
    assert len(passed) == 2
    assert sapa["urban"].name_en in passed[1].get_content()
    assert "wrong office" not in "".join(m.get_content() for m in mail.to(to))


async def test_vietnamese_by_default_with_the_code(
    sapa: dict[str, Any],
    mail: MailSink,
    outbox: Outbox,
) -> None:
    to = address()
    report = await submit(sapa, contact=ContactInput("Bình", "0912345678", to))
    await deliver_once(outbox, tenant_codes=["sa-pa"])
    (received,) = mail.to(to)
    assert received["Subject"] == f"Đã tiếp nhận phản ánh {report.code}"
    assert f"với mã {report.code}" in received.get_content()
    assert sapa["tenant"].name_vi in received.get_content()


async def test_an_anonymous_reporter_without_contact_gets_nothing(
    sapa: dict[str, Any],
) -> None:
    scope = anonymous_in(sapa["tenant"].id)
    async with scoped_transaction(scope):
        result = await submit_report(scope, new_input(sapa, anonymous=True))
    report = result.report
    await step(sapa["operator"], report, A.ASSIGN, assign=AssignInput(sapa["health"].id))
    async with tenant_transaction(sapa["tenant"].id):
        personal = await OutboxMessage.filter(
            tenant_id=sapa["tenant"].id, channel__in=["EMAIL", "SMS", "ZALO"]
        ).filter(subject__contains=report.code)
    assert personal == []


async def test_an_anonymous_reporter_who_left_an_address_is_told_with_the_tracking_code(
    sapa: dict[str, Any],
    mail: MailSink,
    outbox: Outbox,
) -> None:
    to = address()
    scope = anonymous_in(sapa["tenant"].id)
    async with scoped_transaction(scope):
        result = await submit_report(
            scope, new_input(sapa, anonymous=True, contact=ContactInput("", None, to))
        )
    await deliver_once(outbox, tenant_codes=["sa-pa"])
    (received,) = mail.to(to)
    assert f"Mã tra cứu: {result.tracking_code}." in received.get_content()


async def test_no_address_goes_into_the_logs(
    sapa: dict[str, Any],
    mail: MailSink,
    outbox: Outbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    to = address()
    await submit(sapa, contact=ContactInput("Chi", "0987654321", to))
    mail.refuse = True  # a failure, with its error recorded
    with caplog.at_level(logging.INFO):
        stats = await deliver_once(outbox, tenant_codes=["sa-pa"])
    assert stats.retried >= 1
    (row,) = await messages_for(sapa["tenant"].id, to)
    assert row.status == "PENDING" and row.attempts == 1 and "451" in (row.last_error or "")
    assert to not in (row.last_error or "")
    ours = [r for r in caplog.records if r.name.split(".")[0] in ("outbox", "reports", "paht")]
    assert ours and not any(to in r.getMessage() or "0987654321" in r.getMessage() for r in ours)
