"""Suspension and archival: a tenant that is not active is read-only on every write path (one
guard in the database, migration 0023, mapped to the typed error TENANT_READ_ONLY), its data can
still be read by its staff, and archived or suspended tenants are off the public side."""

from __future__ import annotations

from typing import Any

import pytest
from tortoise import connections
from tortoise.transactions import in_transaction

from core.errors import TenantReadOnly, read_only_tenant
from permissions.session import lift_read_only_guard, scoped_transaction, tenant_transaction
from reports.service import submit_report
from tenants.models import Agency, Tenant
from tests.factories import gid, onboard_locality
from tests.support.services import new_input

# Tables with a tenant_id the guard leaves writable while a tenant is not active, and why.
# Every other tenant_id table must carry the trigger: a new table is classified consciously.
EXEMPT = {
    "auth_session": "signing in to read a read-only tenant",
    "refresh_token": "staying signed in to read",
    "external_login_nonce": "starting a sign-in with the identity provider, to read",
    "notification_read": "marking a reminder read is reading",
    "staff_preference": "a person's own reminder settings, not the tenant's records",
    "outbox_message": "messages queued before the change still drain (delivery state)",
    "reporter_identity_view": "the trail of identity reads: reading stays possible and logged",
    "tenant_merge_step": "the merge log, written by the merge function into the target",
    "report_count": "derived: kept by report's own trigger, and report is guarded",
    "stats_day": "statistics are folded from events already recorded",
    "stats_report": "statistics are folded from events already recorded",
    "stats_dirty": "statistics are folded from events already recorded",
    "stats_month": "kept by stats_day's own triggers, and stats_day is folded from events",
    "stats_stage_month": "kept by stats_stage_time's own triggers, folded from events",
    "stats_pilot": "statistics are folded from events already recorded",
    "stats_stage_time": "statistics are folded from events already recorded",
    "stats_export": "an evaluation of a read-only tenant can still be exported (reading)",
}

SET_STATUS = """mutation($i: SetTenantStatusInput!) { setTenantStatus(input: $i) {
  tenant { code status } errors { code field } } }"""
CREATE_AGENCY = """mutation($i: CreateAgencyInput!) { createAgency(input: $i) {
  agency { code } errors { code field message } } }"""
AGENCIES = "{ agencies { code } }"
PUBLIC_REPORTS = "{ publicReports(first: 1) { edges { node { code } } } }"


class _Rollback(Exception):
    pass


async def test_every_tenant_table_is_guarded_or_exempt_with_a_reason() -> None:
    rows = await connections.get("default").execute_query_dict(
        "SELECT c.relname AS name, EXISTS (SELECT 1 FROM pg_trigger t WHERE t.tgrelid = c.oid"
        " AND t.tgname = 'tenant_writable') AS guarded FROM pg_class c"
        " JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = 'public'"
        " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'"
        " WHERE c.relkind = 'r'"
    )
    tables = {r["name"]: r["guarded"] for r in rows}
    assert "report" in tables and "reporter_contact" in tables
    unguarded = {name for name, guarded in tables.items() if not guarded}
    assert unguarded == set(EXEMPT) & set(tables), unguarded - set(EXEMPT)
    assert not {name for name, guarded in tables.items() if guarded} & set(EXEMPT)


async def test_suspended_and_archived_tenants_are_read_only(
    gql: Any, pilot: dict[str, Any]
) -> None:
    locality = await onboard_locality(gql, pilot, prefix="ro")
    province = await gql.login("tinh.admin", pilot["password"])
    admin, tenant_id = locality["admin"], gid("Tenant", locality["tenant_id"])
    code = locality["code"]

    for status in ("SUSPENDED", "ARCHIVED"):
        data = await gql.ok(SET_STATUS, {"i": {"id": tenant_id, "status": status}}, province)
        assert data["setTenantStatus"]["errors"] == []
        refused = await gql.ok(
            CREATE_AGENCY,
            {"i": {"code": f"p-{status.lower()}", "nameVi": "Phòng", "nameEn": "Office"}},
            admin,
        )
        assert refused["createAgency"]["agency"] is None
        assert [e["code"] for e in refused["createAgency"]["errors"]] == ["TENANT_READ_ONLY"]
        # reads still work for its staff, and nothing was written
        listed = await gql.ok(AGENCIES, token=admin)
        assert [a["code"] for a in listed["agencies"]] == ["phong-qldt"]
        # off the public side
        response = await gql.http.post(
            "/graphql", json={"query": PUBLIC_REPORTS}, headers={"x-paht-tenant": code}
        )
        assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["UNKNOWN_TENANT"]

    data = await gql.ok(SET_STATUS, {"i": {"id": tenant_id, "status": "ACTIVE"}}, province)
    assert data["setTenantStatus"]["tenant"]["status"] == "ACTIVE"
    created = await gql.ok(
        CREATE_AGENCY, {"i": {"code": "p-back", "nameVi": "Phòng", "nameEn": "Office"}}, admin
    )
    assert created["createAgency"] == {"agency": {"code": "p-back"}, "errors": []}


async def test_merged_is_set_only_by_a_merge(gql: Any, pilot: dict[str, Any]) -> None:
    locality = await onboard_locality(gql, pilot, prefix="mg")
    province = await gql.login("tinh.admin", pilot["password"])
    tenant_id = gid("Tenant", locality["tenant_id"])
    data = await gql.ok(SET_STATUS, {"i": {"id": tenant_id, "status": "MERGED"}}, province)
    assert data["setTenantStatus"] == {
        "tenant": None,
        "errors": [{"code": "INVALID_STATUS", "field": "status"}],
    }
    assert (await Tenant.get(id=locality["tenant_id"])).status == "active"


async def test_the_guard_holds_on_service_and_background_paths(sapa: dict[str, Any]) -> None:
    """Sa Pa suspended inside a rolled-back transaction: a submission through the service and a
    direct write on a system connection are both refused; the lifecycle path may write."""
    tenant_id = sapa["tenant"].id
    with pytest.raises(_Rollback):
        async with in_transaction():
            await Tenant.filter(id=tenant_id).update(status="suspended")
            with pytest.raises(Exception) as submitted:
                async with scoped_transaction(sapa["citizen"]):
                    await submit_report(sapa["citizen"], new_input(sapa))
            assert isinstance(read_only_tenant(submitted.value), TenantReadOnly)
            with pytest.raises(Exception) as direct:
                async with tenant_transaction(tenant_id):
                    await Agency.filter(tenant_id=tenant_id).update(name_en="Renamed")
            assert isinstance(read_only_tenant(direct.value), TenantReadOnly)
            async with tenant_transaction(tenant_id) as conn:
                await lift_read_only_guard(conn, "test", tenant=tenant_id)
                changed = await Agency.filter(tenant_id=tenant_id, code="phong-qldt").update(
                    name_en="Urban management (renamed)"
                )
            assert changed == 1
            raise _Rollback
    assert (await Tenant.get(id=tenant_id)).status == "active"
