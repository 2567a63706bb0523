"""Splitting a tenant by administrative units (tenants/split.py, the database function of
migration 0028): Sa Pa's reports of some units move into a new locality with what belongs to
them, counted independently; a third tenant sees nothing of either; the dry run changes
nothing; a rerun is a no-op; the old codes still resolve; the source's statistics no longer
count what left. The demo split runs inside one transaction that is rolled back; the GraphQL
and command tests split throwaway tenants of their own, for good."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from tortoise.transactions import in_transaction

from api.database import DatabaseUrls
from api.demo import SYSTEM_PROVINCE
from core.errors import DomainError
from core.statistics_lock import STATS_LOCK
from permissions.scope import anonymous_in
from permissions.session import scoped_transaction, tenant_transaction
from reports.models import Report
from reports.service import ContactInput, mark_duplicate, submit_report
from reports.submission import SubmitInput
from stats.maintain import rebuild_tenant, refresh_tenant
from tenants.merge import holder_of, merge_tenants
from tenants.models import (
    AdministrativeUnit,
    Agency,
    ReportForward,
    Tenant,
    TenantMergeStep,
    UnitKind,
)
from tenants.split import COUNTED, forwarded_to, plan_split, split_tenant
from tests.factories import gid, onboard_locality
from tests.support.cli import run_paht
from tests.support.rollups import assert_rollups_hold
from tests.support.services import in_progress, new_input

PHONE = "0912345678"

# Rows that belong to a report, as the test reads them (independently of the function).
BY_REPORT = {
    "report": "SELECT count(*) AS n FROM report WHERE id = ANY($1::uuid[])",
    "report_event": "SELECT count(*) AS n FROM report_event WHERE report_id = ANY($1::uuid[])",
    "reporter_contact": "SELECT count(*) AS n FROM reporter_contact "
    "WHERE report_id = ANY($1::uuid[])",
    "attachment": "SELECT count(*) AS n FROM attachment WHERE report_id = ANY($1::uuid[])",
    "extension_request": "SELECT count(*) AS n FROM extension_request "
    "WHERE report_id = ANY($1::uuid[])",
    "info_request": "SELECT count(*) AS n FROM info_request WHERE report_id = ANY($1::uuid[])",
    "notification": "SELECT count(*) AS n FROM notification WHERE report_id = ANY($1::uuid[])",
    "reporter_identity_view": "SELECT count(*) AS n FROM reporter_identity_view "
    "WHERE report_id = ANY($1::uuid[])",
}
WHOLE = ("report", "report_event", "membership", "agency", "field", "casbin_rule")


class _Rollback(Exception):
    pass


async def _rows(tenant_id: uuid.UUID, ids: list[uuid.UUID]) -> dict[str, int]:
    async with tenant_transaction(tenant_id) as conn:
        return {
            t: int((await conn.execute_query_dict(sql, [ids]))[0]["n"])
            for t, sql in BY_REPORT.items()
        }


async def _whole(tenant_id: uuid.UUID) -> dict[str, int]:
    async with tenant_transaction(tenant_id) as conn:
        return {
            t: int((await conn.execute_query_dict(f"SELECT count(*) AS n FROM {t}"))[0]["n"])
            for t in WHOLE
        }


async def _reports(tenant_id: uuid.UUID) -> dict[str, str | None]:
    """code -> unit code of the tenant's reports, read in its own RLS transaction."""
    async with tenant_transaction(tenant_id):
        rows = await Report.filter(tenant_id=tenant_id).values_list("code", "unit_code")
    return dict(rows)


async def _flows(tenant_id: uuid.UUID) -> dict[tuple[Any, ...], int]:
    async with tenant_transaction(tenant_id) as conn:
        rows = await conn.execute_query_dict(
            "SELECT day, field_id, agency_id, unit_code, urgency, channel, flow, detail, n "
            "FROM stats_day WHERE n <> 0"
        )
    return {tuple(r[k] for k in list(r)[:-1]): r["n"] for r in rows}


def _received(flows: dict[tuple[Any, ...], int]) -> int:
    return sum(n for key, n in flows.items() if key[6] == "received")


async def test_split_sa_pa_by_units_into_a_new_locality(
    gql: Any, pilot: dict[str, Any], sapa: dict[str, Any]
) -> None:
    target = await onboard_locality(gql, pilot, prefix="tach")
    third = await onboard_locality(gql, pilot, prefix="third")
    sapa_t = pilot["tenants"]["sa-pa"]
    target_id, third_before = target["tenant_id"], await _whole(third["tenant_id"])
    demo_before = await _reports(sapa_t.id)
    with pytest.raises(_Rollback):
        async with in_transaction():
            # in the unit that is split off: a report in progress (events of an agency, the
            # reporter's notifications) and a hotline entry with a contact and a tracking
            # code, marked its duplicate
            master = await in_progress(sapa)
            operator = sapa["operator"]
            async with scoped_transaction(operator):
                entered = await submit_report(
                    operator,
                    new_input(
                        sapa, on_behalf=True, contact=ContactInput("Vàng Thị Dua", phone=PHONE)
                    ),
                )
                await mark_duplicate(operator, entered.report.id, entered.report.version, master.id)
            await refresh_tenant(sapa_t.id)  # the statistics are current before the split
            reports = await _reports(sapa_t.id)
            unit = reports[master.code]
            assert unit is not None and reports[entered.report.code] == unit
            leaving = {code for code, u in reports.items() if u == unit}
            async with tenant_transaction(sapa_t.id):
                rows = await Report.filter(code__in=list(leaving)).values_list(
                    "id", "tracking_code"
                )
            ids = [r[0] for r in rows]
            tracking = entered.tracking_code
            expected = await _rows(sapa_t.id, ids)
            before = await _whole(sapa_t.id)
            flows_before = await _flows(sapa_t.id)

            dry = await split_tenant(SYSTEM_PROVINCE, sapa_t.id, target_id, [unit], dry_run=True)
            assert set(dry.counts) == set(COUNTED)
            assert {t: dry.counts[t] for t in BY_REPORT} == expected
            assert dry.moved_units == [unit] and dry.counts["unit"] == 1
            # nothing changed: the same rows where they were, no step logged, no forward
            assert await _whole(sapa_t.id) == before
            assert await _reports(target_id) == {}
            assert await _flows(sapa_t.id) == flows_before
            assert unit in (await Tenant.get(id=sapa_t.id)).unit_codes
            async with tenant_transaction(sapa_t.id):
                assert not await ReportForward.exists()

            done = await split_tenant(SYSTEM_PROVINCE, sapa_t.id, target_id, [unit])
            assert done.counts == dry.counts
            await assert_rollups_hold(sapa_t.id)  # the function's own writes kept them
            assert await _flows(sapa_t.id) != flows_before
            assert await _rows(target_id, ids) == expected  # everything arrived…
            assert await _rows(sapa_t.id, ids) == dict.fromkeys(BY_REPORT, 0)  # …and left
            assert set(await _reports(target_id)) == leaving  # with their codes
            stayed = await _reports(sapa_t.id)
            assert set(stayed) == set(reports) - leaving and stayed
            after = await _whole(sapa_t.id)
            assert after["report"] == before["report"] - len(leaving)
            # people stay with the source; its agencies and fields too
            for table in ("membership", "casbin_rule", "agency", "field"):
                assert after[table] == before[table], table
            source_row, target_row = await Tenant.get(id=sapa_t.id), await Tenant.get(id=target_id)
            assert source_row.status == "active" and unit not in source_row.unit_codes
            assert unit in target_row.unit_codes
            # the moved reports name the target's agencies and fields only
            async with tenant_transaction(target_id) as conn:
                foreign = await conn.execute_query_dict(
                    "SELECT count(*) AS n FROM report r WHERE NOT EXISTS (SELECT 1 FROM field f "
                    "WHERE f.id = r.field_id) OR (r.lead_agency_id IS NOT NULL AND NOT EXISTS "
                    "(SELECT 1 FROM agency a WHERE a.id = r.lead_agency_id))"
                )
                agencies = set(await Agency.all().values_list("code", flat=True))
                steps = await TenantMergeStep.filter(step="split").values_list("counts", flat=True)
            assert foreign[0]["n"] == 0
            assert "phong-qldt" in agencies  # mapped by code: the target had it
            assert len(agencies) == 1 + done.counts["agency"]  # the others were copied
            assert steps == [done.counts]
            # the old codes still resolve from the source
            for code in leaving:
                assert await forwarded_to(sapa_t.id, code=code) == target_id
            assert tracking and await forwarded_to(sapa_t.id, tracking_code=tracking) == target_id
            assert done.counts["reporter_contact"] >= 1
            assert done.counts["report_event"] >= 4 and done.counts["agency"] >= 1
            assert await forwarded_to(sapa_t.id, code=next(iter(stayed))) is None

            # a third tenant is untouched and, as the application role, sees none of it
            assert await _whole(third["tenant_id"]) == third_before
            async with tenant_transaction(third["tenant_id"]):
                assert not await Report.filter(code__in=list(reports)).exists()
                assert not await ReportForward.exists()
                assert not await Agency.filter(tenant_id__in=[sapa_t.id, target_id]).exists()

            # statistics: once both passes ran, the source counts only what stayed, exactly as
            # a rebuild from its events would, and the target counts what arrived
            await refresh_tenant(sapa_t.id)
            await refresh_tenant(target_id)
            source_flows = await _flows(sapa_t.id)
            assert _received(source_flows) == _received(flows_before) - len(leaving)
            assert _received(await _flows(target_id)) == len(leaving)
            await assert_rollups_hold(target_id)
            await rebuild_tenant(sapa_t.id)
            assert await _flows(sapa_t.id) == source_flows
            await assert_rollups_hold(sapa_t.id)

            # a rerun moves nothing twice
            again = await split_tenant(SYSTEM_PROVINCE, sapa_t.id, target_id, [unit])
            assert again.counts == dict.fromkeys(COUNTED, 0) and again.report_ids == []
            assert set(await _reports(target_id)) == leaving
            async with tenant_transaction(target_id):
                assert await TenantMergeStep.filter(step="split").count() == 1
            raise _Rollback
    assert await _reports(sapa_t.id) == demo_before  # the demo is as it was


async def test_bad_splits_are_refused(pilot: dict[str, Any]) -> None:
    laocai, sapa_t = pilot["tenants"]["lao-cai"], pilot["tenants"]["sa-pa"]
    unit = sapa_t.unit_codes[0]

    async def refused(source: uuid.UUID, target: uuid.UUID, units: list[str]) -> list[Any]:
        with pytest.raises(DomainError) as error:
            await plan_split(SYSTEM_PROVINCE, source, target, units)
        return [(e.code, e.field) for e in error.value.details]

    assert await refused(sapa_t.id, sapa_t.id, [unit]) == [("SAME_TENANT", "target")]
    assert await refused(sapa_t.id, laocai.id, []) == [("INVALID", "units")]
    assert await refused(sapa_t.id, laocai.id, [unit, unit]) == [("INVALID", "units")]
    assert await refused(uuid.uuid4(), laocai.id, [unit]) == [("NOT_FOUND", "source")]
    with pytest.raises(_Rollback):
        async with in_transaction():
            asleep = await Tenant.create(
                code=f"ngu-{uuid.uuid4().hex[:6]}",
                report_prefix="NG",
                name_vi="UBND tạm dừng",
                name_en="Suspended",
                status="suspended",
            )
            other = await Tenant.create(
                code=f"moi-{uuid.uuid4().hex[:6]}", report_prefix="MO", name_vi="UBND mới",
                name_en="New",
            )  # fmt: skip
            # a unit of Lào Cai is neither Sa Pa's nor the target's already
            assert await refused(sapa_t.id, other.id, ["99999", laocai.unit_codes[0]]) == [
                ("UNKNOWN_UNIT", "units[0]"),
                ("UNIT_NOT_IN_SOURCE", "units[1]"),
            ]
            assert await refused(sapa_t.id, asleep.id, [unit]) == [("TARGET_NOT_ACTIVE", "target")]
            assert await refused(asleep.id, laocai.id, [unit]) == [
                ("SOURCE_NOT_ACTIVE", "source"),
                ("UNIT_NOT_IN_SOURCE", "units[0]"),
            ]
            raise _Rollback


async def _new_units(n: int) -> list[str]:
    """Units of its own for a throwaway locality (no boundary: the locator places no point in
    them, so no other test's report lands there)."""
    codes = [f"T{uuid.uuid4().hex[:8]}" for _ in range(n)]
    for code in codes:
        await AdministrativeUnit.create(code=code, name=f"Xã {code}", kind=UnitKind.XA)
    return codes


async def _locality_with_units(gql: Any, pilot: dict[str, Any], units: list[str]) -> dict[str, Any]:
    """A throwaway locality with one anonymous report in each of ``units``, which it then lists
    (set on the rows: the reports' units are given, not located)."""
    loc = await onboard_locality(gql, pilot, prefix="chia")
    scope = anonymous_in(loc["tenant_id"])
    loc["reports"] = {}
    for unit in units:
        data = SubmitInput(
            title="Đèn đường hỏng",
            description="Cột đèn trước chợ không sáng.",
            field_id=loc["fields"]["ha-tang"],
            latitude=21.03,
            longitude=105.85,
            idempotency_key=uuid.uuid4().hex,
        )
        async with scoped_transaction(scope):
            result = await submit_report(scope, data)
            await Report.filter(id=result.report.id).update(unit_code=unit)
        loc["reports"][unit] = (result.report.code, result.tracking_code)
    await Tenant.filter(id=loc["tenant_id"]).update(unit_codes=units)
    return loc


SPLIT = """mutation($i: SplitTenantInput!) { splitTenant(input: $i) {
  split { key dryRun movedUnits reportCount rows { table rows } }
  errors { code field } } }"""
TRACK = """query($c: String!) { trackReport(trackingCode: $c) {
  code events { action } } }"""


ERASE = """mutation($i: EraseContactInput!) { eraseContactByTrackingCode(input: $i) {
  errors { code field } } }"""


async def _anonymous(gql: Any, tenant_code: str, query: str, variables: dict[str, Any]) -> Any:
    """As the citizen app without an account: the locality named in the header."""
    response = await gql.http.post(
        "/graphql",
        json={"query": query, "variables": variables},
        headers={"x-paht-tenant": tenant_code},
    )
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    return body["data"]


async def _track(gql: Any, tenant_code: str, tracking_code: str) -> Any:
    return (await _anonymous(gql, tenant_code, TRACK, {"c": tracking_code}))["trackReport"]


async def test_split_over_graphql_and_the_old_tracking_code_follows(
    gql: Any, pilot: dict[str, Any]
) -> None:
    units = await _new_units(2)
    old = await _locality_with_units(gql, pilot, units)
    new = await onboard_locality(gql, pilot, prefix="nhan")
    province = await gql.login("tinh.admin", pilot["password"])
    variables = {
        "i": {
            "source": gid("Tenant", old["tenant_id"]),
            "target": gid("Tenant", new["tenant_id"]),
            "units": [units[0]],
            "dryRun": True,
        }
    }
    dry = (await gql.ok(SPLIT, variables, province))["splitTenant"]
    assert dry["errors"] == [] and dry["split"]["dryRun"] is True
    assert dry["split"]["reportCount"] == 1 and dry["split"]["movedUnits"] == [units[0]]
    assert await _reports(new["tenant_id"]) == {}

    admin = await gql.login("laocai.admin", pilot["password"])
    forbidden = await gql(SPLIT, variables, admin)
    assert [e["extensions"]["code"] for e in forbidden["errors"]] == ["FORBIDDEN"]

    moved_code, moved_tracking = old["reports"][units[0]]
    kept_code, kept_tracking = old["reports"][units[1]]
    async with tenant_transaction(old["tenant_id"]):  # on the public feed, so on Open311
        await Report.filter(code__in=[moved_code, kept_code]).update(published=True)
    variables["i"]["dryRun"] = False
    done = (await gql.ok(SPLIT, variables, province))["splitTenant"]
    rows = {r["table"]: r["rows"] for r in done["split"]["rows"]}
    assert done["errors"] == [] and rows["report"] == 1 and rows["report_event"] >= 1
    assert set(await _reports(new["tenant_id"])) == {moved_code}
    assert set(await _reports(old["tenant_id"])) == {kept_code}

    # the reporter's app still names the old locality: the moved report is found, with its
    # history, where it lives now; the one that stayed is found as before
    moved = await _track(gql, old["code"], moved_tracking)
    assert moved["code"] == moved_code and moved["events"]
    assert (await _track(gql, old["code"], kept_tracking))["code"] == kept_code
    assert (await _track(gql, new["code"], moved_tracking))["code"] == moved_code
    assert await _track(gql, old["code"], uuid.uuid4().hex[:12]) is None
    # so does the reporter's request to erase their contact
    erased = await _anonymous(gql, old["code"], ERASE, {"i": {"trackingCode": moved_tracking}})
    assert erased["eraseContactByTrackingCode"]["errors"] == []
    unknown = await _anonymous(gql, old["code"], ERASE, {"i": {"trackingCode": "X" * 12}})
    assert unknown["eraseContactByTrackingCode"]["errors"] == [
        {"code": "NOT_FOUND", "field": "trackingCode"}
    ]
    # an Open311 client that stored the old jurisdiction finds the request where it lives now
    for jurisdiction, code in ((old["code"], moved_code), (new["code"], moved_code),
                               (old["code"], kept_code)):  # fmt: skip
        answer = await gql.http.get(
            f"/open311/v2/requests/{code}.json", params={"jurisdiction_id": jurisdiction}
        )
        assert answer.status_code == 200, answer.text
        assert [r["service_request_id"] for r in answer.json()] == [code]
    for jurisdiction, code in ((new["code"], kept_code), (old["code"], "X" + moved_code)):
        answer = await gql.http.get(
            f"/open311/v2/requests/{code}.json", params={"jurisdiction_id": jurisdiction}
        )
        assert answer.status_code == 404, answer.text
    # the new locality's admin lists it; the old one's does not
    listed = await gql.ok("{ reports(first: 5) { edges { node { code } } } }", token=new["admin"])
    assert [e["node"]["code"] for e in listed["reports"]["edges"]] == [moved_code]

    again = (await gql.ok(SPLIT, variables, province))["splitTenant"]
    assert again["errors"] == [] and again["split"]["reportCount"] == 0
    variables["i"]["units"] = ["99999"]
    bad = (await gql.ok(SPLIT, variables, province))["splitTenant"]
    assert bad == {"split": None, "errors": [{"code": "UNKNOWN_UNIT", "field": "units[0]"}]}
    assert await holder_of(old["tenant_id"]) == old["tenant_id"]  # still its own, active


async def test_the_command_splits_and_its_dry_run_changes_nothing(
    gql: Any, pilot: dict[str, Any], database: DatabaseUrls, tmp_path: Path
) -> None:
    units = await _new_units(2)
    old = await _locality_with_units(gql, pilot, units)
    new = await onboard_locality(gql, pilot, prefix="cli")
    args = ["tenants", "split", "--source", old["code"], "--target", new["code"]]
    dry = await asyncio.to_thread(
        run_paht, [*args, "--units", units[1], "--dry-run"], database, tmp_path
    )
    assert dry.returncode == 0, dry.stderr
    assert f"Would split {new['code']}<-{old['code']}[{units[1]}]" in dry.stdout
    assert "report 1," in dry.stdout and f"units to {new['code']}: {units[1]}" in dry.stdout
    assert await _reports(new["tenant_id"]) == {}

    done = await asyncio.to_thread(run_paht, [*args, "--units", units[1]], database, tmp_path)
    assert done.returncode == 0, done.stderr
    assert set(await _reports(new["tenant_id"])) == {old["reports"][units[1]][0]}
    assert (
        await forwarded_to(old["tenant_id"], code=old["reports"][units[1]][0]) == new["tenant_id"]
    )
    refused = await asyncio.to_thread(run_paht, [*args, "--units", "99999"], database, tmp_path)
    assert refused.returncode != 0 and "99999" in refused.stderr + refused.stdout


async def test_a_unit_named_by_its_new_code_takes_its_predecessors_reports(
    gql: Any, pilot: dict[str, Any]
) -> None:
    """After a reform the source still lists the old unit: asking for the unit it became moves
    the reports filed in the old one (tenants/units.py follows the successors)."""
    old_unit, kept_unit, new_unit, elsewhere = await _new_units(4)
    await AdministrativeUnit.filter(code=old_unit).update(
        valid_to=date(2025, 6, 30), successor_codes=[new_unit]
    )
    await AdministrativeUnit.filter(code=new_unit).update(valid_from=date(2025, 7, 1))
    old = await _locality_with_units(gql, pilot, [old_unit, kept_unit])
    moved_code = old["reports"][old_unit][0]
    async with tenant_transaction(old["tenant_id"]):
        filed = datetime(2025, 3, 1, 9, tzinfo=UTC)  # while the old unit was in force
        await Report.filter(code=moved_code).update(created_at=filed)
    new = await onboard_locality(gql, pilot, prefix="ref")

    with pytest.raises(DomainError) as refused:
        await plan_split(SYSTEM_PROVINCE, old["tenant_id"], new["tenant_id"], [elsewhere])
    assert [(e.code, e.field) for e in refused.value.details] == [
        ("UNIT_NOT_IN_SOURCE", "units[0]")
    ]
    done = await split_tenant(SYSTEM_PROVINCE, old["tenant_id"], new["tenant_id"], [new_unit])
    assert done.moved_units == [old_unit] and done.counts["report"] == 1
    assert set(await _reports(new["tenant_id"])) == {moved_code}
    assert (await Tenant.get(id=old["tenant_id"])).unit_codes == [kept_unit]
    assert (await Tenant.get(id=new["tenant_id"])).unit_codes == sorted([old_unit, new_unit])
    again = await split_tenant(SYSTEM_PROVINCE, old["tenant_id"], new["tenant_id"], [new_unit])
    assert again.counts == dict.fromkeys(COUNTED, 0)
    # the split source is merged later: its old codes still lead to where they went
    later = await onboard_locality(gql, pilot, prefix="gop")
    await merge_tenants(SYSTEM_PROVINCE, [old["tenant_id"]], later["tenant_id"])
    assert await forwarded_to(later["tenant_id"], code=moved_code) == new["tenant_id"]
    moved_tracking = old["reports"][old_unit][1]
    assert (await _track(gql, old["code"], moved_tracking))["code"] == moved_code


async def test_a_split_waits_for_a_statistics_pass_of_either_tenant(
    gql: Any, pilot: dict[str, Any], database: DatabaseUrls
) -> None:
    """The split's function writes the statistics tables and their roll-ups: it starts only
    once no statistics pass holds the source or the target (core/statistics_lock.py)."""
    target = await onboard_locality(gql, pilot, prefix="doi")
    sapa_t = pilot["tenants"]["sa-pa"]
    unit = sorted({u for u in (await _reports(sapa_t.id)).values() if u})[0]
    pass_of_target = await asyncpg.connect(database.app.replace("asyncpg://", "postgresql://"))
    try:
        async with pass_of_target.transaction():
            await pass_of_target.execute(
                "SELECT pg_advisory_xact_lock($1, hashtext($2))",
                STATS_LOCK,
                str(target["tenant_id"]),
            )
            dry = asyncio.create_task(
                split_tenant(SYSTEM_PROVINCE, sapa_t.id, target["tenant_id"], [unit], dry_run=True)
            )
            waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            while not await pass_of_target.fetchval(waiting):
                assert not dry.done(), dry  # it must wait, not run
                await asyncio.sleep(0.05)
            assert not dry.done()
        plan = await dry  # the pass ended: the split goes on
    finally:
        await pass_of_target.close()
    assert plan.counts["report"] > 0
