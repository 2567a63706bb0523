"""The localities compared, as the province files it: `paht stats compare` (one column per
locality, its pilot's targets, a chart of the rates), the same workbook inside an evaluation
export of several tenants, and `paht stats export` for one — each holding the numbers
``provinceStatistics`` and ``statistics`` answer.

Two fresh localities in March 2026 (past by the real clock too: the command runs in its own
process, unfrozen). A: R1 assigned, accepted, resolved, approved and rated 5 on Monday 2 March;
R2 rejected. B: R3 assigned on 2 March and never accepted (overdue). A has a pilot (90 % on time,
80 % satisfied); B has none."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import time_machine

from api.database import DatabaseUrls
from api.services import make_storage
from api.settings import Settings
from permissions.actions import Action
from permissions.scope import Reach, Scope
from permissions.session import scoped_transaction
from reports.workflow import WorkflowAction as A
from stats.exports import run_pending
from stats.maintain import refresh_tenant
from stats.pilot import set_pilot
from stats.queries import province_statistics, tenant_statistics
from stats.slicing import Period
from tenants.models import Tenant
from tests.clock import stop_clock, vn
from tests.conftest import GraphQLClient
from tests.factories import gid
from tests.stats.world import new_world, province_scope
from tests.support.cli import run_paht

PROVINCE = """query($p: PeriodInput!, $t: [ID!]) { provinceStatistics(period: $p, tenantIds: $t) {
  tenantId figures { received finished finishedOnTime rejected openOverdue onTimeRate
  satisfiedShare rated } } }"""
EXPORT = """mutation($i: ExportEvaluationInput!) { exportEvaluation(input: $i) {
  export { id } errors { code } } }"""
PROGRESS = """query($id: ID!) { evaluationExport(id: $id) { state downloadUrl } }"""
MARCH = {"first": "2026-03-01", "last": "2026-03-31"}
# The comparison sheet's rows for the figures asked above.
ROWS = {
    "Tiếp nhận trong kỳ": "received",
    "Đã xử lý đúng hạn": "finishedOnTime",
    "Không tiếp nhận": "rejected",
    "Đang xử lý quá hạn": "openOverdue",
    "Tỉ lệ đúng hạn": "onTimeRate",
    "Tỉ lệ hài lòng (4–5)": "satisfiedShare",
    "Lượt đánh giá": "rated",
}


async def test_the_province_compares_localities_from_the_cli_and_the_export(
    gql: GraphQLClient,
    client: httpx.AsyncClient,
    settings: Settings,
    database: DatabaseUrls,
    pilot: dict[str, Any],
    tmp_path: Path,
    time_machine: time_machine.TimeMachineFixture,
) -> None:
    stop_clock(time_machine, vn(2026, 3, 1, 20))
    a = await new_world(gql, pilot, prefix="ca")
    b = await new_world(gql, pilot, prefix="cb")
    stop_clock(time_machine, vn(2026, 3, 2, 9))
    r1, r2, r3 = await a.submit("ha-tang"), await a.submit("attp"), await b.submit("attp")
    await a.step(r2, A.REJECT, reason_code="OUT_OF_SCOPE", comment="Không thuộc phạm vi.")
    r1 = await a.step(await a.assign(r1, "phong-qldt"), A.ACCEPT)
    await b.assign(r3, "phong-yt")
    stop_clock(time_machine, vn(2026, 3, 2, 10))
    r1 = await a.step(await a.step(r1, A.SUBMIT_RESULT, comment="Đã vá."), A.APPROVE_RESULT)
    await a.step(r1, A.RATE, rating=5)
    await set_pilot(province_scope({a.tenant_id}), a.tenant_id, date(2026, 3, 1), date(2026, 5, 31))
    stop_clock(time_machine, vn(2026, 4, 15, 9))  # March is over by either clock
    for w in (a, b):
        await refresh_tenant(w.tenant_id)
    ids = [gid("Tenant", a.tenant_id), gid("Tenant", b.tenant_id)]
    province = await gql.login("tinh.admin", pilot["password"])
    rows = (await gql.ok(PROVINCE, {"p": MARCH, "t": ids}, province))["provinceStatistics"]
    figures = [r["figures"] for r in rows]
    assert [(f["received"], f["finished"], f["openOverdue"]) for f in figures] == [
        (2, 2, 0),
        (1, 0, 1),
    ]
    names = [(await Tenant.get(id=w.tenant_id)).name_vi for w in (a, b)]

    def check(book: openpyxl.Workbook) -> None:
        sheet = book["So sánh"]
        assert [c.value for c in sheet[1]] == ["Chỉ tiêu", *names]
        values = {r[0]: r[1:] for r in sheet.iter_rows(min_row=3, values_only=True)}
        for label, key in ROWS.items():
            assert values[label] == tuple(f[key] for f in figures), label
        rates = list(book["Tỉ lệ"].iter_rows(min_row=2, values_only=True))
        assert rates == [
            (names[0], figures[0]["onTimeRate"], 1.0, 0.9, "Đạt", 0.8, "Đạt"),
            (names[1], 0.0, None, None, None, None, None),  # no pilot, no rating: not judged
        ]
        assert len(book["Tỉ lệ"]._charts) == 1

    out, csv_dir = tmp_path / "comparison.xlsx", tmp_path / "csv"
    codes = [w.locality["code"] for w in (a, b)]
    period = ["--from", "2026-03-01", "--to", "2026-03-31"]
    tenants = ["--tenant", codes[0], "--tenant", codes[1]]
    args = ["stats", "compare", *tenants, *period, "--out", str(out), "--csv", str(csv_dir)]
    done = run_paht(args, database, tmp_path)
    assert done.returncode == 0, done.stderr
    check(openpyxl.load_workbook(out))
    assert sorted(p.name for p in csv_dir.iterdir()) == ["so-sánh.csv", "tỉ-lệ.csv"]
    unknown = run_paht(["stats", "compare", *tenants, "--tenant", "nowhere", *period], database,
                       tmp_path)  # fmt: skip
    assert unknown.returncode != 0 and "unknown tenant nowhere" in unknown.stderr

    # One locality's own workbook from the command line: the numbers statistics answers.
    single = tmp_path / "a.xlsx"
    args = ["stats", "export", "--tenant", codes[0], *period, "--out", str(single)]
    done = run_paht(args, database, tmp_path)
    assert done.returncode == 0, done.stderr
    summary = {
        r[0]: r[1:]
        for r in openpyxl.load_workbook(single)["Tổng hợp"].iter_rows(min_row=3, values_only=True)
    }
    assert summary["Tiếp nhận trong kỳ"][0] == figures[0]["received"]
    assert summary["Tỉ lệ đúng hạn"] == (figures[0]["onTimeRate"], 0.9, "Đạt")

    # An export of both holds each workbook and the comparison.
    asked = await gql.ok(EXPORT, {"i": {"tenantIds": ids, "period": MARCH}}, province)
    assert asked["exportEvaluation"]["errors"] == []
    assert await run_pending(make_storage(settings)) >= 1
    export_id = asked["exportEvaluation"]["export"]["id"]
    ready = (await gql.ok(PROGRESS, {"id": export_id}, province))["evaluationExport"]
    assert ready["state"] == "DONE"
    response = await client.get(ready["downloadUrl"])
    assert response.status_code == 200, response.text
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    wanted = {f"{codes[0]}.xlsx", f"{codes[1]}.xlsx", "comparison.xlsx"}
    assert wanted | {"comparison/so-sánh.csv", "comparison/tỉ-lệ.csv"} <= set(archive.namelist())
    check(openpyxl.load_workbook(io.BytesIO(archive.read("comparison.xlsx"))))


async def test_the_comparison_is_each_localitys_own_statistics(
    gql: GraphQLClient, pilot: dict[str, Any], time_machine: time_machine.TimeMachineFixture
) -> None:
    # provinceStatistics reads every tenant in one pass (grouped by tenant); each row must be
    # exactly what that tenant's own statistics answer, every indicator and stage time, for a
    # period whose end has passed (the fold's midnight balances) and one still ahead (the
    # balances projected from the reports open now).
    stop_clock(time_machine, vn(2026, 3, 1, 20))
    a = await new_world(gql, pilot, prefix="cc")
    b = await new_world(gql, pilot, prefix="cd")
    stop_clock(time_machine, vn(2026, 3, 2, 9))
    r1, r2, r3 = await a.submit("ha-tang"), await a.submit("attp"), await b.submit("attp")
    await a.step(r2, A.REJECT, reason_code="OUT_OF_SCOPE", comment="Không thuộc phạm vi.")
    r1 = await a.step(await a.assign(r1, "phong-qldt"), A.ACCEPT)
    await b.assign(r3, "phong-yt")
    stop_clock(time_machine, vn(2026, 3, 4, 10))
    r1 = await a.step(await a.step(r1, A.SUBMIT_RESULT, comment="Đã vá."), A.APPROVE_RESULT)
    await a.step(r1, A.RATE, rating=4)
    stop_clock(time_machine, vn(2026, 3, 20, 9))
    for w in (a, b):
        await refresh_tenant(w.tenant_id)
    ids = (b.tenant_id, pilot["tenants"]["sa-pa"].id, a.tenant_id)
    scope = Scope(
        user_id=None,
        tenant_id=None,
        readable_tenant_ids=frozenset(ids),
        reach={Action.STATS_VIEW.value: frozenset({Reach()})},
        provincial=True,
    )
    passed, ahead = (
        Period(date(2026, 3, 2), date(2026, 3, 3)),
        Period(date(2026, 3, 1), date(2026, 3, 31)),
    )
    for period in (passed, ahead):
        async with scoped_transaction(scope):
            side_by_side = await province_statistics(scope, period, tenant_ids=ids)
            own = [(t, (await tenant_statistics(scope, t, period)).total) for t in ids]
        assert side_by_side == own
        figures = dict(side_by_side)
        assert (figures[a.tenant_id].received, figures[b.tenant_id].received) == (2, 1)
        assert figures[a.tenant_id].stage_times and figures[b.tenant_id].open_at_end
