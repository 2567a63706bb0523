"""Merging the two demo localities into one provincial tenant (tenants/merge.py, the database
function of migration 0023): counts and codes, isolation of a third tenant, the read-only
sources, and a merge interrupted between its steps and resumed. Everything runs inside one
transaction that is rolled back: the demo stays as it is for the other tests."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from accounts.models import Membership, User
from api.database import DatabaseUrls
from api.demo import SYSTEM_PROVINCE
from core.errors import DomainError, TenantReadOnly, read_only_tenant
from permissions.models import CasbinRule
from permissions.scope import anonymous_in
from permissions.session import scoped_transaction, tenant_transaction
from reports.models import Report, ReportEvent
from reports.service import submit_report
from reports.submission import SubmitInput
from stats.maintain import refresh_tenant
from tenants.merge import MOVED_TABLES, holder_of, merge_tenants, plan_merge
from tenants.models import Agency, Field, Tenant, TenantMergeStep
from tests.factories import PASSWORD, gid, onboard_locality
from tests.support.cli import run_paht
from tests.support.rollups import assert_rollups_hold

COUNTED = ("report", "report_event", "agency", "field", "membership", "reporter_contact")


class _Rollback(Exception):
    pass


class _Interrupted(Exception):
    pass


async def _counts(tenant_id: uuid.UUID) -> dict[str, int]:
    async with tenant_transaction(tenant_id) as conn:
        return {
            t: int((await conn.execute_query_dict(f"SELECT count(*) AS n FROM {t}"))[0]["n"])
            for t in COUNTED
        }


async def _grants(tenant_id: uuid.UUID) -> set[tuple[Any, ...]]:
    """Memberships as (user, role, agency, field): one held in both localities moves once."""
    async with tenant_transaction(tenant_id) as conn:
        rows = await conn.execute_query_dict(
            "SELECT user_id, role, agency_id, field_id FROM membership"
        )
    return {(r["user_id"], r["role"], r["agency_id"], r["field_id"]) for r in rows}


async def _codes(tenant_id: uuid.UUID) -> set[str]:
    async with tenant_transaction(tenant_id):
        return set(await Report.filter(tenant_id=tenant_id).values_list("code", flat=True))


# Flows that do not depend on the tenant's calendar (the target has its own).
CALENDAR_FREE = (
    "received",
    "rejected",
    "resolved",
    "duplicate",
    "withdrawn",
    "rated",
    "rating_sum",
)


async def _flows(tenant_id: uuid.UUID) -> dict[str, int]:
    """The statistics pass's totals over all days, after a pass."""
    await refresh_tenant(tenant_id)
    async with tenant_transaction(tenant_id) as conn:
        rows = await conn.execute_query_dict(
            "SELECT flow, sum(n)::bigint AS n FROM stats_day WHERE flow = ANY($1::text[]) "
            "GROUP BY flow",
            [list(CALENDAR_FREE)],
        )
    return {flow: 0 for flow in CALENDAR_FREE} | {r["flow"]: int(r["n"]) for r in rows}


async def _province() -> Tenant:
    return await Tenant.create(
        code=f"tinh-{uuid.uuid4().hex[:6]}",
        report_prefix="LCI",
        name_vi="UBND tỉnh Lào Cai",
        name_en="Lào Cai Province",
        province_code="15",
    )


@dataclass
class SharedFields:
    """Fields of both localities with the same code, and the Sa Pa reports of one of them."""

    laocai_ids: dict[str, uuid.UUID]  # code -> Lào Cai's field
    sapa_ids: dict[str, uuid.UUID]  # code -> Sa Pa's field
    sapa_reports: dict[uuid.UUID, str]  # Sa Pa report -> its field's code


async def _narrow_a_grant_to_a_shared_field(
    laocai_id: uuid.UUID, sapa_id: uuid.UUID
) -> tuple[SharedFields, Membership]:
    """Before the merge: a Sa Pa grant narrowed to a field Lào Cai also has (by code)."""
    async with tenant_transaction(laocai_id):
        laocai_fields = {f.code: f.id for f in await Field.filter(tenant_id=laocai_id)}
    async with tenant_transaction(sapa_id):
        sapa_fields = {f.code: f.id for f in await Field.filter(tenant_id=sapa_id)}
        by_id = {i: c for c, i in sapa_fields.items()}
        reports = {r.id: by_id[r.field_id] for r in await Report.filter(tenant_id=sapa_id)}
        code = sorted(set(laocai_fields) & set(sapa_fields))[0]
        user = await User.create(
            username=f"narrow-{uuid.uuid4().hex[:8]}", default_tenant_id=sapa_id
        )
        grant = await Membership.create(
            tenant_id=sapa_id, user_id=user.id, role="agency_contact", field_id=sapa_fields[code]
        )
        await CasbinRule.create(
            tenant_id=sapa_id, ptype="g", v0=str(user.id), v1="agency_contact",
            v2=str(sapa_id), v3="*", v4=str(sapa_fields[code]),
        )  # fmt: skip
    common = set(laocai_fields) & set(sapa_fields)
    assert common and len(common) < len(sapa_fields) + len(laocai_fields)
    shared = SharedFields(
        {c: laocai_fields[c] for c in common}, {c: sapa_fields[c] for c in common}, reports
    )
    return shared, grant


async def _shared_fields_are_one(
    target_id: uuid.UUID, sapa_id: uuid.UUID, shared: SharedFields, grant: Membership
) -> None:
    """After the merge: one field per code (Lào Cai's, which moved first); Sa Pa's reports,
    its narrowed grant and the figures it keeps name it; nothing is prefixed."""
    async with tenant_transaction(target_id):
        fields = {f.code: f.id for f in await Field.filter(tenant_id=target_id)}
        moved = {
            r.id: r.field_id
            for r in await Report.filter(tenant_id=target_id, id__in=list(shared.sapa_reports))
        }
        narrowed = await Membership.get(id=grant.id)
        rule = await CasbinRule.get(tenant_id=target_id, ptype="g", v0=str(grant.user_id))
    assert not [c for c in fields if c.startswith("sa-pa-")]
    assert {c: fields[c] for c in shared.laocai_ids} == shared.laocai_ids
    assert len(moved) == len(shared.sapa_reports)
    assert all(moved[r] == fields[code] for r, code in shared.sapa_reports.items())
    code = next(c for c, i in shared.sapa_ids.items() if i == grant.field_id)
    assert narrowed.field_id == shared.laocai_ids[code] == uuid.UUID(rule.v4)
    async with tenant_transaction(sapa_id) as conn:
        named = await conn.execute_query_dict("SELECT DISTINCT field_id FROM stats_day")
    assert {r["field_id"] for r in named} <= set(fields.values())
    assert not {r["field_id"] for r in named} & set(shared.sapa_ids.values())


async def test_merge_the_pilot_into_one_provincial_tenant(
    gql: Any, pilot: dict[str, Any], sapa: dict[str, Any]
) -> None:
    third = await onboard_locality(gql, pilot, prefix="third")
    laocai, sapa_t = pilot["tenants"]["lao-cai"], pilot["tenants"]["sa-pa"]
    third_before = await _counts(third["tenant_id"])
    with pytest.raises(_Rollback):
        async with in_transaction():
            province = await _province()
            before = {t.code: await _counts(t.id) for t in (laocai, sapa_t)}
            codes = await _codes(laocai.id) | await _codes(sapa_t.id)
            held_in_both = len(await _grants(laocai.id) & await _grants(sapa_t.id))
            shared, grant = await _narrow_a_grant_to_a_shared_field(laocai.id, sapa_t.id)
            before["sa-pa"]["membership"] += 1
            assert before["sa-pa"]["report"] > 0
            flows = {t.code: await _flows(t.id) for t in (laocai, sapa_t)}

            dry = await plan_merge(SYSTEM_PROVINCE, [laocai.id, sapa_t.id], province.id)
            assert set(dry.counts) == {"lao-cai", "sa-pa"}
            assert dry.counts["sa-pa"]["report"] == before["sa-pa"]["report"]
            assert set(dry.counts["sa-pa"]) == set(MOVED_TABLES)
            assert await _counts(province.id) == dict.fromkeys(COUNTED, 0)  # nothing moved

            done = await merge_tenants(SYSTEM_PROVINCE, [laocai.id, sapa_t.id], province.id)
            assert done.done == ["lao-cai", "sa-pa"]
            for source in ("lao-cai", "sa-pa"):  # the dry run said what the merge did
                for table in ("agency", "field", "report", "report_event"):
                    assert dry.counts[source][table] == done.counts[source][table], table
            assert dry.joined["lao-cai"] == [] and dry.joined["sa-pa"] == sorted(shared.sapa_ids)
            after = await _counts(province.id)
            for table in COUNTED:
                once = {"membership": held_in_both, "field": len(shared.sapa_ids)}.get(table, 0)
                assert after[table] == before["lao-cai"][table] + before["sa-pa"][table] - once, (
                    table
                )
            assert await _codes(province.id) == codes  # the old codes resolve in the target
            await _shared_fields_are_one(province.id, sapa_t.id, shared, grant)
            # The target's statistics count the moved reports once; the sources keep theirs.
            assert await _flows(province.id) == {
                f: flows["lao-cai"][f] + flows["sa-pa"][f] for f in CALENDAR_FREE
            }
            assert flows["sa-pa"]["received"] > 0
            for t in (laocai, sapa_t, province):
                await assert_rollups_hold(t.id)
            for t in (laocai, sapa_t):
                async with tenant_transaction(t.id) as conn:
                    kept = await conn.execute_query_dict(
                        "SELECT sum(n)::bigint AS n FROM stats_day WHERE flow = 'received'"
                    )
                assert kept[0]["n"] == flows[t.code]["received"]
            for t in (laocai, sapa_t):
                assert await _counts(t.id) == dict.fromkeys(COUNTED, 0)
                row = await Tenant.get(id=t.id)
                assert (row.status, row.successor_id) == ("merged", province.id)
                assert await holder_of(t.id) == province.id
            # both had the same agency codes: Sa Pa's are prefixed, Lào Cai's kept
            async with tenant_transaction(province.id):
                agencies = set(await Agency.all().values_list("code", flat=True))
                steps = await TenantMergeStep.filter(tenant_id=province.id).count()
            assert {"phong-qldt", "sa-pa-phong-qldt"} <= agencies
            assert steps == 2
            # a third tenant is untouched and sees none of it
            assert await _counts(third["tenant_id"]) == third_before
            async with tenant_transaction(third["tenant_id"]):
                assert not await Report.filter(code__in=list(codes)).exists()
                assert not await ReportEvent.filter(tenant_id=province.id).exists()
            # the merged sources are read-only
            with pytest.raises(Exception) as refused:
                async with tenant_transaction(sapa_t.id):
                    await Agency.create(
                        tenant_id=sapa_t.id, code="moi", name_vi="Mới", name_en="New"
                    )
            assert isinstance(read_only_tenant(refused.value), TenantReadOnly)
            raise _Rollback
    assert (await Tenant.get(id=sapa_t.id)).status == "active"
    assert (await _counts(sapa_t.id))["report"] > 0


async def test_an_interrupted_merge_resumes(pilot: dict[str, Any], sapa: dict[str, Any]) -> None:
    laocai, sapa_t = pilot["tenants"]["lao-cai"], pilot["tenants"]["sa-pa"]

    async def interrupt(source: Tenant) -> None:
        raise _Interrupted(source.code)

    with pytest.raises(_Rollback):
        async with in_transaction():
            province = await _province()
            total = (await _counts(laocai.id))["report"] + (await _counts(sapa_t.id))["report"]
            with pytest.raises(_Interrupted):
                await merge_tenants(
                    SYSTEM_PROVINCE, [laocai.id, sapa_t.id], province.id, after_source=interrupt
                )
            # half-way: Lào Cai moved and logged, Sa Pa untouched
            assert (await Tenant.get(id=laocai.id)).status == "merged"
            assert (await Tenant.get(id=sapa_t.id)).status == "active"
            assert (await _counts(sapa_t.id))["report"] > 0
            resumed = await plan_merge(SYSTEM_PROVINCE, [laocai.id, sapa_t.id], province.id)
            assert resumed.done == ["lao-cai"] and list(resumed.counts) == ["sa-pa"]

            await merge_tenants(SYSTEM_PROVINCE, [laocai.id, sapa_t.id], province.id)
            assert (await _counts(province.id))["report"] == total
            async with tenant_transaction(province.id):
                logged = await TenantMergeStep.filter(tenant_id=province.id).values_list(
                    "source_id", flat=True
                )
            assert sorted(logged) == sorted([laocai.id, sapa_t.id])  # each step once
            raise _Rollback


async def test_bad_merges_are_refused(pilot: dict[str, Any]) -> None:
    laocai, sapa_t = pilot["tenants"]["lao-cai"], pilot["tenants"]["sa-pa"]
    with pytest.raises(DomainError) as same:
        await plan_merge(SYSTEM_PROVINCE, [laocai.id, sapa_t.id], laocai.id)
    assert same.value.code == "INVALID"
    with pytest.raises(DomainError) as unknown:
        await plan_merge(SYSTEM_PROVINCE, [uuid.uuid4()], laocai.id)
    assert (unknown.value.code, unknown.value.field) == ("NOT_FOUND", "sources[0]")


async def test_the_command_dry_run_says_what_would_move_and_changes_nothing(
    gql: Any, pilot: dict[str, Any], database: DatabaseUrls, tmp_path: Path
) -> None:
    target = await onboard_locality(gql, pilot, prefix="dry")
    before = await _counts(pilot["tenants"]["sa-pa"].id)
    result = await asyncio.to_thread(
        run_paht,
        ["tenants", "merge", "lao-cai", "sa-pa", "--into", target["code"], "--dry-run"],
        database,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert f"Would merge {target['code']}<-lao-cai+sa-pa" in result.stdout
    assert f"report {before['report']}" in result.stdout.split("sa-pa:")[1]
    sapa = dict(
        line.strip().split(": ", 1) for line in result.stdout.split("sa-pa:")[1].splitlines()[1:]
    )
    assert "phong-qldt" in sapa["agency codes prefixed with sa-pa-"].split(", ")
    # Lào Cai goes first: Sa Pa's fields join those it brought (the same demo codes)
    joined = sapa["fields joined to the target's of the same code"].split(", ")
    assert "ve-sinh-attp" in joined
    assert await _counts(pilot["tenants"]["sa-pa"].id) == before
    assert (await Tenant.get(code="sa-pa")).status == "active"


MERGE = """mutation($i: MergeTenantsInput!) { mergeTenants(input: $i) {
  merge { key dryRun mergedSourceCodes rows { sourceCode table rows } renamedCodes
    joinedFieldCodes }
  errors { code field } } }"""


async def test_merge_over_graphql_dry_run_and_refusals(gql: Any, pilot: dict[str, Any]) -> None:
    target = await onboard_locality(gql, pilot, prefix="gq")
    province = await gql.login("tinh.admin", pilot["password"])
    laocai = pilot["tenants"]["lao-cai"]
    variables = {
        "i": {
            "sources": [gid("Tenant", laocai.id)],
            "target": gid("Tenant", target["tenant_id"]),
            "dryRun": True,
        }
    }
    data = (await gql.ok(MERGE, variables, province))["mergeTenants"]
    assert data["errors"] == [] and data["merge"]["dryRun"] is True
    reports = {(r["sourceCode"], r["table"]): r["rows"] for r in data["merge"]["rows"]}
    assert reports[("lao-cai", "report")] == (await _counts(laocai.id))["report"]
    assert "lao-cai:agency:phong-qldt" in data["merge"]["renamedCodes"]
    assert data["merge"]["joinedFieldCodes"] == ["lao-cai:du-lich"]  # the one both have
    assert not [c for c in data["merge"]["renamedCodes"] if ":field:" in c]
    assert (await Tenant.get(id=laocai.id)).status == "active"

    admin = await gql.login("laocai.admin", pilot["password"])
    refused = await gql(MERGE, variables, admin)
    assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"]
    variables["i"]["sources"] = [gid("Tenant", target["tenant_id"])]
    same = (await gql.ok(MERGE, variables, province))["mergeTenants"]
    assert same == {"merge": None, "errors": [{"code": "INVALID", "field": "sources"}]}


REPORTS = "{ reports(first: 5) { edges { node { code } } } }"
PUBLIC = "{ publicReports(first: 1) { edges { node { code } } } }"


async def test_after_a_real_merge_the_old_locality_leads_to_its_successor(
    gql: Any, pilot: dict[str, Any]
) -> None:
    """Two throwaway tenants, merged for good over GraphQL (committed: they are nobody else's)."""
    old = await onboard_locality(gql, pilot, prefix="old")
    new = await onboard_locality(gql, pilot, prefix="new")
    scope = anonymous_in(old["tenant_id"])
    data = SubmitInput(
        title="Đèn đường hỏng",
        description="Cột đèn trước chợ không sáng.",
        field_id=old["fields"]["ha-tang"],
        latitude=21.03,
        longitude=105.85,
        idempotency_key=uuid.uuid4().hex,
    )
    async with scoped_transaction(scope):
        code = (await submit_report(scope, data)).report.code
    province = await gql.login("tinh.admin", pilot["password"])
    variables = {
        "i": {
            "sources": [gid("Tenant", old["tenant_id"])],
            "target": gid("Tenant", new["tenant_id"]),
        }
    }
    merged = (await gql.ok(MERGE, variables, province))["mergeTenants"]
    assert merged["errors"] == [] and merged["merge"]["mergedSourceCodes"] == [old["code"]]

    listed = await gql.ok(REPORTS, token=new["admin"])
    assert [e["node"]["code"] for e in listed["reports"]["edges"]] == [code]
    # the old locality's staff now live in the successor, where their roles went: they sign
    # in with its code or none, and work there
    for tenant_code in (new["code"], None):
        staff = await gql.login(f"{old['code']}.admin", PASSWORD, tenant_code)
        seen = await gql.ok(REPORTS, token=staff)
        assert [e["node"]["code"] for e in seen["reports"]["edges"]] == [code]
    async with tenant_transaction(new["tenant_id"]):
        assert await User.exists(
            username=f"{old['code']}.admin", default_tenant_id=new["tenant_id"]
        )
    # a citizen app still configured for the old locality reaches the successor
    response = await gql.http.post(
        "/graphql", json={"query": PUBLIC}, headers={"x-paht-tenant": old["code"]}
    )
    assert response.status_code == 200 and "errors" not in response.json(), response.text
    # merging again is a no-op resume; the old tenant can no longer be written to
    again = (await gql.ok(MERGE, variables, province))["mergeTenants"]
    assert again["errors"] == [] and again["merge"]["rows"] == []
