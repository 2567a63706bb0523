"""The README's walk-through "After the 2025 reform", on the demo: the reform loaded, the pilot
localities ended on 30 June 2025, the province onboarded as one tenant from
tenants/examples/tinh-lao-cai.yaml, the two localities merged into it. A report of the 2022
pilot keeps its code and its unit of the time; a report made today at the same place lands in
the post-reform ward; the statistics show the pilot by the units of its time, or mapped onto
today's. Everything runs in one transaction that is rolled back."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import time_machine
from tortoise.transactions import in_transaction

from api.database import DatabaseUrls
from api.demo import SYSTEM_PROVINCE
from core.errors import DomainError
from permissions.scope import anonymous_in
from permissions.session import scoped_transaction, tenant_transaction
from reports.models import Report
from reports.service import submit_report
from stats.export import evaluation_workbook
from stats.exports import system_scope
from stats.maintain import refresh_tenant
from stats.queries import tenant_statistics
from stats.slicing import GroupBy, Period
from tenants.document import load_plan
from tenants.merge import holder_of, merge_tenants
from tenants.models import Field, Tenant
from tenants.onboarding import onboard
from tenants.reform import apply_reform, load_reform_file
from tenants.service import end_tenant
from tests.clock import vn
from tests.factories import gid, onboard_locality
from tests.support.cli import run_paht
from tests.support.reform import AFTER, demo_cells
from tests.support.services import new_input

EXAMPLE = Path(__file__).resolve().parents[2] / "tenants" / "examples" / "tinh-lao-cai.yaml"
PILOT_DAY = vn(2022, 9, 15, 9)
SEPTEMBER_2022 = Period(date(2022, 9, 1), date(2022, 9, 30))


class _Rollback(Exception):
    pass


async def _units(tenant_id: Any, group_by: GroupBy) -> dict[str, int]:
    async with tenant_transaction(tenant_id):
        result = await tenant_statistics(
            system_scope(tenant_id), tenant_id, SEPTEMBER_2022, group_by
        )
    return {key: figures.received for key, figures in result.groups if figures.received}


async def test_the_province_as_one_tenant_after_the_reform(
    pilot: dict[str, Any], sapa: dict[str, Any]
) -> None:
    laocai, sapa_t = pilot["tenants"]["lao-cai"], pilot["tenants"]["sa-pa"]
    cell = demo_cells()["03001"].representative_point()  # phường Sa Pa (until 30/6/2025)
    with pytest.raises(_Rollback):
        async with in_transaction():
            with time_machine.travel(PILOT_DAY, tick=False):
                async with scoped_transaction(sapa["citizen"]):
                    old = await submit_report(
                        sapa["citizen"], new_input(sapa, latitude=cell.y, longitude=cell.x)
                    )
            assert (old.report.tenant_id, old.report.unit_code) == (sapa_t.id, "03001")

            with time_machine.travel(AFTER, tick=False):
                await apply_reform(load_reform_file())
                # While the pilot localities hold their codes, the new units are theirs too
                # (codes are reused): the province is refused until they are ended.
                with pytest.raises(DomainError) as taken:
                    await onboard(SYSTEM_PROVINCE, load_plan(EXAMPLE))
                assert {d.code for d in taken.value.details} == {"UNIT_TAKEN"}
                for t in (laocai, sapa_t):
                    await end_tenant(SYSTEM_PROVINCE, t.id, date(2025, 6, 30))
                onboarded = await onboard(SYSTEM_PROVINCE, load_plan(EXAMPLE))
                province = onboarded.tenant
                assert sorted(province.unit_codes) == sorted(
                    u.code for u in load_reform_file().units
                )
                merged = await merge_tenants(SYSTEM_PROVINCE, [laocai.id, sapa_t.id], province.id)
                assert merged.done == ["lao-cai", "sa-pa"]

                # The pilot's report: in the province now, its code and unit of the time kept.
                assert await holder_of(sapa_t.id) == province.id
                async with tenant_transaction(province.id):
                    kept = await Report.get(code=old.report.code)
                    field = await Field.get(code="du-lich")
                assert kept.unit_code == "03001"
                # Today, at the same place: the post-reform ward, in the province.
                citizen = anonymous_in(province.id)
                async with scoped_transaction(citizen):
                    today = await submit_report(
                        citizen,
                        new_input(sapa, latitude=cell.y, longitude=cell.x, field_id=field.id),
                    )
                assert (today.report.tenant_id, today.report.unit_code) == (province.id, "03006")

                # The 2022 pilot by the units of its time, or mapped onto today's units.
                await refresh_tenant(province.id)
                then = await _units(province.id, GroupBy.UNIT)
                now = await _units(province.id, GroupBy.UNIT_TODAY)
                assert then.get("03001", 0) >= 1
                assert set(now) <= {u.code for u in load_reform_file().units}
                assert sum(now.values()) == sum(then.values())
                assert now["03006"] >= then["03001"]  # phường Sa Pa and its neighbours merged
                # The evaluation workbook names each unit as it was called at the time.
                async with tenant_transaction(province.id):
                    content = await evaluation_workbook(
                        system_scope(province.id), province.id, SEPTEMBER_2022
                    )
                sheet = openpyxl.load_workbook(io.BytesIO(content))["Theo đơn vị hành chính"]
                rows = {r[0]: r[1] for r in sheet.iter_rows(min_row=2, values_only=True)}
                assert rows["Phường Sa Pa (03001)"] == then["03001"]
                located = sum(v for k, v in rows.items() if k != "(không xác định)")
                assert located == sum(then.values())
            raise _Rollback
    assert (await Tenant.get(id=sapa_t.id)).status == "active"


END = """mutation($i: EndTenantInput!) { endTenant(input: $i) {
  tenant { code validTo } errors { code field } } }"""


async def test_ending_a_locality_over_graphql_and_the_command_line(
    gql: Any, pilot: dict[str, Any], database: DatabaseUrls, tmp_path: Path
) -> None:
    locality = await onboard_locality(gql, pilot, prefix="end")
    tenant = gid("Tenant", locality["tenant_id"])
    body = await gql(END, {"i": {"id": tenant, "lastDay": "2025-06-30"}}, locality["admin"])
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
    province = await gql.login("tinh.admin", pilot["password"])
    ended = await gql.ok(END, {"i": {"id": tenant, "lastDay": "2025-06-30"}}, province)
    assert ended["endTenant"] == {
        "tenant": {"code": locality["code"], "validTo": "2025-06-30"},
        "errors": [],
    }
    undone = await gql.ok(END, {"i": {"id": tenant, "lastDay": None}}, province)
    assert undone["endTenant"]["tenant"]["validTo"] is None
    elsewhere = await gql.ok(
        END, {"i": {"id": gid("Field", locality["fields"]["ha-tang"])}}, province
    )
    assert elsewhere["endTenant"]["errors"] == [{"code": "NOT_FOUND", "field": "id"}]

    done = run_paht(["tenants", "end", locality["code"], "--last-day", "2025-06-30"], database,
                    tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"{locality['code']}: last day 2025-06-30" in done.stdout
    assert (await Tenant.get(id=locality["tenant_id"])).valid_to == date(2025, 6, 30)
    unknown = run_paht(
        ["tenants", "end", "nowhere", "--last-day", "2025-06-30"], database, tmp_path
    )
    assert unknown.returncode == 1 and "unknown tenant nowhere" in unknown.stderr
    bad = run_paht(["tenants", "end", locality["code"], "--last-day", "30/06/2025"], database,
                   tmp_path)  # fmt: skip
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
