"""exportEvaluation as a background job: asked over GraphQL, built by the background pass (one
workbook per tenant + CSVs, zipped, in the media storage), its progress and a signed link shown
to whoever asked and provincial roles only; the file downloaded over HTTP holds the numbers
``statistics`` answers. Refusals: an agency leader (a narrowed reach), another tenant."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from typing import Any

import httpx
import openpyxl
import time_machine

from api.services import make_storage
from api.settings import Settings
from core import clock
from core.relay import decode
from permissions.session import tenant_transaction
from reports.workflow import WorkflowAction as A
from stats.exports import purge_expired, run_pending
from stats.maintain import refresh_tenant
from stats.models import StatsExport
from tests.clock import stop_clock, vn
from tests.conftest import GraphQLClient
from tests.factories import PASSWORD, gid
from tests.stats.world import new_world

EXPORT = """mutation($i: ExportEvaluationInput!) { exportEvaluation(input: $i) {
  export { id state done steps downloadUrl } errors { code field } } }"""
PROGRESS = """query($id: ID!) { evaluationExport(id: $id) {
  state done steps first last downloadUrl } }"""
STATS = """query($p: PeriodInput!) { statistics(period: $p) { total { received finished } } }"""
MARCH = {"first": "2026-03-01", "last": "2026-03-31"}


async def test_an_export_runs_in_the_background_and_is_downloaded_by_who_asked(
    gql: GraphQLClient,
    client: httpx.AsyncClient,
    settings: Settings,
    pilot: dict[str, Any],
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    stop_clock(time_machine, vn(2026, 3, 2, 8))
    w = await new_world(gql, pilot, prefix="ex")
    stop_clock(time_machine, vn(2026, 3, 2, 9))
    r1, r2 = await w.submit("ha-tang"), await w.submit("attp")
    await w.step(r2, A.REJECT, reason_code="OUT_OF_SCOPE", comment="Không thuộc phạm vi.")
    r1 = await w.assign(r1, "phong-qldt")
    stop_clock(time_machine, vn(2026, 3, 31, 12))
    await refresh_tenant(w.tenant_id)
    code = w.locality["code"]
    centre = await gql.login(f"{code}.centre", PASSWORD)
    leader = await gql.login(f"{code}.leader-phong-qldt", PASSWORD)

    refused = (await gql.ok(EXPORT, {"i": {"period": MARCH}}, leader))["exportEvaluation"]
    assert refused == {"export": None, "errors": [{"code": "FORBIDDEN", "field": None}]}
    other = gid("Tenant", pilot["tenants"]["lao-cai"].id)
    elsewhere = await gql.ok(EXPORT, {"i": {"period": MARCH, "tenantIds": [other]}}, centre)
    assert elsewhere["exportEvaluation"]["errors"] == [{"code": "NOT_FOUND", "field": "tenantIds"}]

    asked = (await gql.ok(EXPORT, {"i": {"period": MARCH, "language": "EN"}}, centre))[
        "exportEvaluation"
    ]
    assert asked["errors"] == []
    export = asked["export"]
    assert (export["state"], export["done"], export["steps"], export["downloadUrl"]) == (
        "PENDING",
        0,
        2,
        None,
    )
    # A run left 'running' by a process that died is taken again, but only after an hour.
    export_id = decode(export["id"], "EvaluationExport", "id")

    async def left_running(minutes_ago: int) -> None:
        async with tenant_transaction(w.tenant_id):
            taken = clock.now() - timedelta(minutes=minutes_ago)
            await StatsExport.filter(id=export_id).update(state="running", taken_at=taken)

    await left_running(50)
    await run_pending(make_storage(settings))
    running = (await gql.ok(PROGRESS, {"id": export["id"]}, centre))["evaluationExport"]
    assert (running["state"], running["done"]) == ("RUNNING", 0)
    await left_running(61)
    assert await run_pending(make_storage(settings)) >= 1
    done = (await gql.ok(PROGRESS, {"id": export["id"]}, centre))["evaluationExport"]
    assert (done["state"], done["done"], done["steps"]) == ("DONE", 2, 2)
    assert (done["first"], done["last"]) == ("2026-03-01", "2026-03-31")
    # Only who asked (and provincial roles) see it.
    hidden = await gql(PROGRESS, {"id": export["id"]}, token=leader)
    assert hidden["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    province = await gql.login("tinh.admin", pilot["password"])
    seen = (await gql.ok(PROGRESS, {"id": export["id"]}, province))["evaluationExport"]
    assert seen["state"] == "DONE"

    response = await client.get(done["downloadUrl"])
    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert f"{code}.xlsx" in archive.namelist()
    assert f"{code}/summary.csv" in archive.namelist()
    book = openpyxl.load_workbook(io.BytesIO(archive.read(f"{code}.xlsx")))
    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(min_row=3, values_only=True)}
    total = (await gql.ok(STATS, {"p": MARCH}, centre))["statistics"]["total"]
    assert (summary["Received"], summary["Rejected"]) == (total["received"], 1)
    tampered = done["downloadUrl"].replace("signature=", "signature=x")
    assert (await client.get(tampered)).status_code == 403

    # Kept a week after it is done, then the file leaves the storage and the row says so.
    storage = make_storage(settings)
    async with tenant_transaction(w.tenant_id):
        key = (await StatsExport.get(id=export_id)).file_key
    assert key is not None and await storage.exists(key)
    # (the pass above also built what other tests had asked for: counts are of all exports)
    stop_clock(time_machine, vn(2026, 4, 7, 11))  # 6 days 23 hours after it was built
    await purge_expired(storage)
    assert await storage.exists(key)
    centre = await gql.login(f"{code}.centre", PASSWORD)  # the earlier token has expired
    assert (await gql.ok(PROGRESS, {"id": export["id"]}, centre))["evaluationExport"]["state"] == (
        "DONE"
    )
    stop_clock(time_machine, vn(2026, 4, 7, 12, 1))
    assert await purge_expired(storage) >= 1
    centre = await gql.login(f"{code}.centre", PASSWORD)
    gone = (await gql.ok(PROGRESS, {"id": export["id"]}, centre))["evaluationExport"]
    assert (gone["state"], gone["downloadUrl"]) == ("EXPIRED", None)
    assert not await storage.exists(key)
    assert await purge_expired(storage) == 0  # once
