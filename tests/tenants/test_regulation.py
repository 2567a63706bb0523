"""The tenant's regulation: calendar and SLA table, edited by its admin, applied to reports."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
import time_machine

from tests.clock import MOMENTS, Moment, moment_id, stop_clock, vn
from tests.conftest import GraphQLClient
from tests.factories import PASSWORD, onboard_locality, user_with_grants

REGULATION = """{ regulation { slaVersion
  calendar { timezone officeHours { start end } workingWeekdays extraDaysOff extraWorkingDays
             publicHolidays }
  slaRules { stage urgency fieldCode amount unit } } }"""
UPDATE_CALENDAR = """mutation($i: CalendarInput!) { updateCalendar(input: $i) {
  regulation { calendar { officeHours { start end } extraDaysOff extraWorkingDays } }
  errors { code field message } } }"""
UPDATE_SLA = """mutation($i: UpdateSlaRulesInput!) { updateSlaRules(input: $i) {
  regulation { slaVersion slaRules { stage urgency fieldCode amount unit } }
  errors { code field message } } }"""


@pytest.fixture
async def locality(gql: GraphQLClient, pilot: dict[str, Any]) -> dict[str, Any]:
    """A fresh tenant for each test: editing its regulation disturbs no other test, and every
    test starts from the onboarding defaults whatever ran before it."""
    locality = await onboard_locality(gql, pilot, prefix="reg")
    citizen = await user_with_grants(gql, locality, "dan", {"role": "citizen"})
    return {**locality, "citizen": citizen}


async def login(gql: GraphQLClient, locality: dict[str, Any], who: str) -> str:
    """A token issued on the (possibly stopped) clock of the calling test."""
    return await gql.login(f"{locality['code']}.{who}", PASSWORD)


# Mid-year, and New Year's Eve in UTC when it is already 2027 in Việt Nam.
@pytest.mark.parametrize(
    "at", [vn(2026, 7, 15, 10), vn(2027, 1, 1, 1)], ids=["mid-2026", "new-year-2027-in-vn"]
)
async def test_defaults_include_holidays_and_quick_fix_rules(
    gql: GraphQLClient,
    locality: dict[str, Any],
    at: datetime.datetime,
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    stop_clock(time_machine, at)
    reg = (await gql.ok(REGULATION, token=await login(gql, locality, "admin")))["regulation"]
    calendar = reg["calendar"]
    assert calendar["timezone"] == "Asia/Ho_Chi_Minh"
    assert calendar["officeHours"] == [
        {"start": "07:30", "end": "11:30"},
        {"start": "13:30", "end": "17:00"},
    ]
    assert calendar["workingWeekdays"] == [1, 2, 3, 4, 5]
    # The tenant's year (Quốc khánh fell on a Wednesday in 2026 and a Thursday in 2027).
    assert f"{at.year}-09-02" in calendar["publicHolidays"]
    assert all(d.startswith(f"{at.year}-") for d in calendar["publicHolidays"])
    quick = [r for r in reg["slaRules"] if r["fieldCode"] == "ha-tang"]
    assert quick == [
        {
            "stage": "RESOLVE",
            "urgency": "NORMAL",
            "fieldCode": "ha-tang",
            "amount": 3,
            "unit": "WORKING_DAYS",
        }
    ]
    assert not [r for r in reg["slaRules"] if r["fieldCode"] == "du-lich"]


async def test_calendar_update_and_refusal(gql: GraphQLClient, locality: dict[str, Any]) -> None:
    token = locality["admin"]
    good = {
        "officeHours": [{"start": "07:00", "end": "11:00"}, {"start": "13:00", "end": "16:30"}],
        "extraWorkingDays": ["2026-12-26"],
        "extraDaysOff": ["2026-12-31"],
    }
    data = (await gql.ok(UPDATE_CALENDAR, {"i": good}, token=token))["updateCalendar"]
    assert data["errors"] == []
    assert data["regulation"]["calendar"] == {
        "officeHours": [{"start": "07:00", "end": "11:00"}, {"start": "13:00", "end": "16:30"}],
        "extraDaysOff": ["2026-12-31"],
        "extraWorkingDays": ["2026-12-26"],
    }
    bad = {"officeHours": [{"start": "17:00", "end": "08:00"}]}
    data = (await gql.ok(UPDATE_CALENDAR, {"i": bad}, token=token))["updateCalendar"]
    assert data["regulation"] is None
    assert data["errors"][0]["code"] == "INVALID_CALENDAR"
    assert data["errors"][0]["field"].startswith("office_hours")
    after = (await gql.ok(REGULATION, token=token))["regulation"]["calendar"]
    assert after["officeHours"][0] == {"start": "07:00", "end": "11:00"}  # unchanged


def _rules(screen_hours: int) -> list[dict[str, Any]]:
    rules = []
    for stage in ("SCREEN", "ACCEPT", "RESOLVE", "REVIEW"):
        for urgency in ("URGENT", "NORMAL", "COMPLEX"):
            amount, unit = (
                (screen_hours, "WORKING_HOURS") if stage == "SCREEN" else (2, "WORKING_DAYS")
            )
            if urgency == "URGENT":
                amount, unit = 60, "CALENDAR_MINUTES"
            rules.append({"stage": stage, "urgency": urgency, "amount": amount, "unit": unit})
    return rules


# By hand on this locality's office hours, 07:00-11:00 and 13:00-16:30 (set by the test itself),
# 2 working hours of screening from each instant of tests/clock.py.
SCREENED_BY = {
    "plain-0729": vn(2026, 3, 11, 9, 29),
    "plain-1131": vn(2026, 3, 11, 15),  # lunch until 13:00
    "plain-1559": vn(2026, 3, 12, 8, 29),  # 31 min today, 1:29 from 07:00 tomorrow
    "plain-1659": vn(2026, 3, 12, 9),  # closed since 16:30
    "eve-0729": vn(2026, 4, 29, 9, 29),
    "eve-1131": vn(2026, 4, 29, 15),
    "eve-1559": vn(2026, 5, 4, 8, 29),  # 30/4 and 1/5 are holidays, then the weekend
    "eve-1659": vn(2026, 5, 4, 9),
}


@pytest.mark.parametrize("moment", MOMENTS, ids=moment_id)
async def test_sla_update_versions_and_applies_to_new_reports(
    gql: GraphQLClient,
    locality: dict[str, Any],
    moment: Moment,
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    stop_clock(time_machine, moment.at)
    token = await login(gql, locality, "admin")
    office = {
        "officeHours": [{"start": "07:00", "end": "11:00"}, {"start": "13:00", "end": "16:30"}]
    }
    assert (await gql.ok(UPDATE_CALENDAR, {"i": office}, token=token))["updateCalendar"][
        "errors"
    ] == []
    incomplete = _rules(1)[1:]
    data = (await gql.ok(UPDATE_SLA, {"i": {"rules": incomplete}}, token=token))["updateSlaRules"]
    assert data["errors"][0]["code"] == "SLA_INCOMPLETE"
    unknown = [
        *_rules(1),
        {
            "stage": "RESOLVE",
            "urgency": "NORMAL",
            "fieldCode": "khong-co",
            "amount": 1,
            "unit": "WORKING_DAYS",
        },
    ]
    data = (await gql.ok(UPDATE_SLA, {"i": {"rules": unknown}}, token=token))["updateSlaRules"]
    assert data["errors"][0]["code"] == "UNKNOWN_FIELD"
    zero = _rules(1)
    zero[0] = {**zero[0], "amount": 0}
    data = (await gql.ok(UPDATE_SLA, {"i": {"rules": zero}}, token=token))["updateSlaRules"]
    assert data["errors"][0]["code"] == "INVALID_SLA"
    before = (await gql.ok(REGULATION, token=token))["regulation"]["slaVersion"]
    data = (await gql.ok(UPDATE_SLA, {"i": {"rules": _rules(2)}}, token=token))["updateSlaRules"]
    assert data["errors"] == []
    assert data["regulation"]["slaVersion"] == before + 1

    # A new report is stamped with the new version and screened within 2 working hours.
    fields = (await gql.ok("{ fields { id code } }", token=token))["fields"]
    field_id = next(f["id"] for f in fields if f["code"] == "du-lich")
    submitted = await gql.ok(
        """mutation($i: SubmitReportInput!) { submitReport(input: $i) {
             report { slaVersion screenDueAt createdAt } errors { code } } }""",
        {
            "i": {
                "title": "Kiểm thử thời hạn",
                "description": "x",
                "fieldId": field_id,
                "latitude": 10.0,
                "longitude": 106.0,
            }
        },
        token=await login(gql, locality, "dan"),
    )
    report = submitted["submitReport"]["report"]
    assert report["slaVersion"] == before + 1
    assert datetime.datetime.fromisoformat(report["createdAt"]) == moment.at
    due = datetime.datetime.fromisoformat(report["screenDueAt"])
    assert due == SCREENED_BY[moment.id]


async def test_only_tenant_admins_edit_the_regulation(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    handler = await gql.login("sapa.handler", pilot["password"])
    body = await gql(UPDATE_CALENDAR, {"i": {}}, token=handler)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    reg = (await gql.ok(REGULATION, token=handler))["regulation"]  # staff may read it
    assert reg["slaVersion"] >= 1
