"""The province enters a day swap once and its tenants inherit it (issue 12, item 8;
docs/domain.md §5); a tenant's own days override it; another province's tenants are untouched.
Through GraphQL as the provincial administrator, read back through the workflow's rules."""

from __future__ import annotations

from datetime import date
from typing import Any

from permissions.session import tenant_transaction
from reports.records import tenant_rules
from tenants.models import ProvinceCalendar, TenantSettings
from tests.conftest import GraphQLClient

UPDATE = """mutation($i: ProvinceCalendarInput!) { updateProvinceCalendar(input: $i) {
  provinceCalendar { provinceCode extraDaysOff extraWorkingDays } errors { code field } } }"""
READ = """query($c: String!) { provinceCalendar(provinceCode: $c) {
  provinceCode extraDaysOff extraWorkingDays } }"""
OFF, WORKED = date(2031, 6, 10), date(2031, 6, 14)  # a Tuesday off, worked back on Saturday


async def rules_of(tenant_id: Any) -> Any:
    """The rules a workflow step of the tenant reads (inside its own transaction: RLS)."""
    async with tenant_transaction(tenant_id):
        return await tenant_rules(tenant_id)


async def test_the_provinces_swap_reaches_its_tenants(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    sapa, laocai = pilot["tenants"]["sa-pa"], pilot["tenants"]["lao-cai"]
    password = pilot["password"]
    province = await gql.login("tinh.admin", password)
    local_admin = await gql.login("sapa.admin", password)
    swap = {"provinceCode": "10", "extraDaysOff": [OFF.isoformat()],
            "extraWorkingDays": [WORKED.isoformat()]}  # fmt: skip
    # A tenant administrator may not enter it for the province.
    refused = await gql(UPDATE, {"i": swap}, local_admin)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    refused = await gql(READ, {"c": "10"}, local_admin)
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    unknown = await gql(READ, {"c": "99"}, province)
    assert [(e["extensions"]["code"], e["extensions"].get("field")) for e in unknown["errors"]] == [
        ("UNKNOWN_PROVINCE", "provinceCode")
    ]
    for bad, field in (
        ({**swap, "provinceCode": "99"}, "provinceCode"),
        ({**swap, "extraWorkingDays": [OFF.isoformat()]}, "extra_working_days"),
    ):
        payload = (await gql.ok(UPDATE, {"i": bad}, province))["updateProvinceCalendar"]
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [
            ("UNKNOWN_PROVINCE" if field == "provinceCode" else "INVALID_CALENDAR", field)
        ]
    try:
        payload = (await gql.ok(UPDATE, {"i": swap}, province))["updateProvinceCalendar"]
        assert payload["errors"] == []
        assert payload["provinceCalendar"] == {
            "provinceCode": "10",
            "extraDaysOff": [OFF.isoformat()],
            "extraWorkingDays": [WORKED.isoformat()],
        }
        # what the province's screen reads back before its next change
        assert (await gql.ok(READ, {"c": "10"}, province))["provinceCalendar"] == payload[
            "provinceCalendar"
        ]
        for tenant in (sapa, laocai):  # both of tỉnh Lào Cai (province code 10)
            calendar = (await rules_of(tenant.id)).calendar
            assert not calendar.is_working_day(OFF) and calendar.is_working_day(WORKED)
        # Sa Pa's own day wins over the province's.
        async with tenant_transaction(sapa.id):
            settings = await TenantSettings.get(tenant_id=sapa.id)
            before = dict(settings.calendar)
            settings.calendar = {**before, "extra_working_days": [OFF.isoformat()]}
            await settings.save(update_fields=["calendar"])
        try:
            assert (await rules_of(sapa.id)).calendar.is_working_day(OFF)
            assert not (await rules_of(laocai.id)).calendar.is_working_day(OFF)
        finally:
            async with tenant_transaction(sapa.id):
                settings.calendar = before
                await settings.save(update_fields=["calendar"])
    finally:  # the province takes it back (the API role may not delete the row)
        cleared = {"provinceCode": "10", "extraDaysOff": [], "extraWorkingDays": []}
        await gql.ok(UPDATE, {"i": cleared}, province)
    assert await ProvinceCalendar.get(province_code="10")
    assert (await gql.ok(READ, {"c": "10"}, province))["provinceCalendar"] == cleared
    none_entered = (await gql.ok(READ, {"c": "15"}, province))["provinceCalendar"]
    assert none_entered == {"provinceCode": "15", "extraDaysOff": [], "extraWorkingDays": []}
    assert (await rules_of(sapa.id)).calendar.is_working_day(OFF)  # an ordinary Tuesday
