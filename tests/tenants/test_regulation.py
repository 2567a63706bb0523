"""The tenant's regulation: calendar and SLA table, edited by its admin, applied to reports."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from reports.calendar import WorkingCalendar
from tests.conftest import GraphQLClient
from tests.factories import onboard_locality, user_with_grants

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


async def test_defaults_include_holidays_and_quick_fix_rules(
    gql: GraphQLClient, locality: dict[str, Any]
) -> None:
    reg = (await gql.ok(REGULATION, token=locality["admin"]))["regulation"]
    calendar = reg["calendar"]
    assert calendar["timezone"] == "Asia/Ho_Chi_Minh"
    assert calendar["officeHours"] == [
        {"start": "07:30", "end": "11:30"},
        {"start": "13:30", "end": "17:00"},
    ]
    assert calendar["workingWeekdays"] == [1, 2, 3, 4, 5]
    year = datetime.date.today().year
    assert (
        f"{year}-09-02" in calendar["publicHolidays"] or datetime.date(year, 9, 2).weekday() >= 5
    )  # Quốc khánh, unless it falls on a weekend
    quick = [r for r in reg["slaRules"] if r["fieldCode"] == "ha-tang"]
    assert quick == [
        {
            "stage": "RESOLVE",
            "urgency": "normal",
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
        for urgency in ("urgent", "normal", "complex"):
            amount, unit = (
                (screen_hours, "WORKING_HOURS") if stage == "SCREEN" else (2, "WORKING_DAYS")
            )
            if urgency == "urgent":
                amount, unit = 60, "CALENDAR_MINUTES"
            rules.append({"stage": stage, "urgency": urgency, "amount": amount, "unit": unit})
    return rules


async def test_sla_update_versions_and_applies_to_new_reports(
    gql: GraphQLClient, locality: dict[str, Any]
) -> None:
    token = locality["admin"]
    incomplete = _rules(1)[1:]
    data = (await gql.ok(UPDATE_SLA, {"i": {"rules": incomplete}}, token=token))["updateSlaRules"]
    assert data["errors"][0]["code"] == "SLA_INCOMPLETE"
    unknown = [
        *_rules(1),
        {
            "stage": "RESOLVE",
            "urgency": "normal",
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
        token=locality["citizen"],
    )
    report = submitted["submitReport"]["report"]
    assert report["slaVersion"] == before + 1
    calendar = (await gql.ok(REGULATION, token=token))["regulation"]["calendar"]
    working = WorkingCalendar.from_config(
        {
            "timezone": calendar["timezone"],
            "office_hours": [[p["start"], p["end"]] for p in calendar["officeHours"]],
            "extra_days_off": calendar["extraDaysOff"],
            "extra_working_days": calendar["extraWorkingDays"],
        }
    )
    created = datetime.datetime.fromisoformat(report["createdAt"])
    due = datetime.datetime.fromisoformat(report["screenDueAt"])
    assert working.working_time_between(created, due) == datetime.timedelta(hours=2)


async def test_only_tenant_admins_edit_the_regulation(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    handler = await gql.login("sapa.handler", pilot["password"])
    body = await gql(UPDATE_CALENDAR, {"i": {}}, token=handler)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    reg = (await gql.ok(REGULATION, token=handler))["regulation"]  # staff may read it
    assert reg["slaVersion"] >= 1
