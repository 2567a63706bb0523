"""The period's indicators through GraphQL on a hand-built dataset, answers worked out by hand.

A fresh locality on Sa Pa's default calendar (Mon-Fri 07:30-11:30, 13:30-17:00), in March 2026:
R1 (infrastructure) is assigned to urban management, accepted, resolved and rated 5 on Monday
2 March; R2 (food safety) is rejected as out of scope that morning; R3 (food safety) is assigned
to the health office at 09:30 and accepted only on Monday 9 March 09:00, long after its 8
working hours (due Tuesday 3 March 10:00): acceptance late, and still being resolved at the end
of March, past its 5 working days (due Monday 16 March 17:00)."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import openpyxl
import pytest
import time_machine

from core.errors import DomainError
from permissions.actions import Action
from permissions.scope import Reach, Scope
from permissions.session import scoped_transaction
from reports.workflow import WorkflowAction as A
from stats.export import evaluation_workbook
from stats.maintain import refresh_tenant
from stats.pilot import evaluate, set_pilot
from stats.slicing import Period
from tests.clock import stop_clock, vn
from tests.conftest import GraphQLClient
from tests.factories import PASSWORD, gid
from tests.stats.world import new_world

STATS = """query($p: PeriodInput!, $g: StatisticsGroupBy) { statistics(period: $p, groupBy: $g) {
  total { ...F } groups { key figures { ...F } } } }
fragment F on StatisticsFigures { received carriedOver toHandle finished finishedOnTime
  finishedLate openWithinDeadline openDueSoon openOverdue resolved rejected
  rejectedByReason { code count } onTimeRate lateRate stages { stage onTime late }
  rated ratingMean satisfiedShare responseRate }"""
RANKING = """query($p: PeriodInput!) { agencyRanking(period: $p, minimumFinished: 1) {
  agencyId rank figures { finished } } }"""
PROVINCE = """query($p: PeriodInput!) { provinceStatistics(period: $p) {
  tenantId figures { received openOverdue } } }"""
PROVINCE_SOME = """query($p: PeriodInput!, $f: ProvinceStatisticsFilter, $t: [ID!]) {
  provinceStatistics(period: $p, filter: $f, tenantIds: $t) {
  tenantId figures { received openOverdue } } }"""
MARCH = {"first": "2026-03-01", "last": "2026-03-31"}
SET_PILOT = """mutation($i: SetPilotInput!) { setPilot(input: $i) {
  pilot { tenantId startsOn endsOn onTimeTarget satisfiedTarget } errors { code field } } }"""
EVALUATION = """query($t: ID) { pilotEvaluation(tenantId: $t) {
  pilot { startsOn endsOn onTimeTarget } figures { onTimeRate satisfiedShare }
  onTimeMet satisfiedMet } }"""


async def test_march_by_hand(
    gql: GraphQLClient, pilot: dict[str, Any], time_machine: time_machine.TimeMachineFixture
) -> None:
    def at(d: int, h: int, m: int = 0) -> None:
        stop_clock(time_machine, vn(2026, 3, d, h, m))

    at(1, 20)
    w = await new_world(gql, pilot, prefix="st")
    at(2, 9)
    r1, r2, r3 = await w.submit("ha-tang"), await w.submit("attp"), await w.submit("attp")
    at(2, 9, 10)
    r1 = await w.assign(r1, "phong-qldt")
    at(2, 9, 20)
    r1 = await w.step(r1, A.ACCEPT)
    at(2, 9, 30)
    await w.step(r2, A.REJECT, reason_code="OUT_OF_SCOPE", comment="Không thuộc phạm vi.")
    r3 = await w.assign(r3, "phong-yt")
    assert r3.accept_due_at == vn(2026, 3, 3, 10)
    at(2, 10)
    r1 = await w.step(r1, A.SUBMIT_RESULT, comment="Đã vá.")
    at(2, 10, 30)
    r1 = await w.step(r1, A.APPROVE_RESULT)
    at(2, 11)
    await w.step(r1, A.RATE, rating=5)
    at(9, 9)
    r3 = await w.step(r3, A.ACCEPT)
    assert r3.resolve_due_at == vn(2026, 3, 16, 17)
    at(31, 12)
    await refresh_tenant(w.tenant_id)
    code = w.locality["code"]  # tokens from 1 March have expired: log in again
    tokens = {
        who: await gql.login(f"{code}.{name}", PASSWORD)
        for who, name in (
            ("centre", "centre"),
            ("phong-yt", "leader-phong-yt"),
            ("phong-qldt", "leader-phong-qldt"),
        )
    }

    async def stats(token: str, period: dict[str, str], group: str | None = None) -> Any:
        return (await gql.ok(STATS, {"p": period, "g": group}, token=token))["statistics"]

    total = (await stats(tokens["centre"], MARCH))["total"]
    assert total == {
        "received": 3,
        "carriedOver": 0,
        "toHandle": 3,
        "finished": 2,
        "finishedOnTime": 2,
        "finishedLate": 0,
        "openWithinDeadline": 0,
        "openDueSoon": 0,
        "openOverdue": 1,
        "resolved": 1,
        "rejected": 1,
        "rejectedByReason": [{"code": "OUT_OF_SCOPE", "count": 1}],
        "onTimeRate": 1 - 1 / 3,  # 1 − late rate
        "lateRate": 1 / 3,
        "stages": [
            {"stage": "SCREEN", "onTime": 3, "late": 0},
            {"stage": "ACCEPT", "onTime": 1, "late": 1},  # R3's late acceptance, nobody else's
            {"stage": "RESOLVE", "onTime": 1, "late": 0},
            {"stage": "REVIEW", "onTime": 1, "late": 0},
        ],
        "rated": 1,
        "ratingMean": 5.0,
        "satisfiedShare": 1.0,
        "responseRate": 1.0,
    }
    # From 3 March on, R3 is carried over: the balance still holds (1 + 0 = 0 + 1).
    later = await stats(tokens["centre"], {"first": "2026-03-03", "last": "2026-03-31"})
    assert [later["total"][k] for k in ("carriedOver", "received", "finished", "openOverdue")] == [
        1,
        0,
        0,
        1,
    ]
    # On 2 March alone R3 is open and within its acceptance deadline at midnight.
    day = await stats(tokens["centre"], {"first": "2026-03-02", "last": "2026-03-02"})
    assert day["total"]["openWithinDeadline"] == 1 and day["total"]["openOverdue"] == 0

    by_agency = (await stats(tokens["centre"], MARCH, "AGENCY"))["groups"]
    received = {g["key"]: g["figures"]["received"] for g in by_agency}
    assert received == {
        gid("Agency", w.agency("phong-qldt")): 1,
        gid("Agency", w.agency("phong-yt")): 1,
        None: 1,  # rejected before any agency
    }
    # An agency leader sees only what the agency leads.
    health = (await stats(tokens["phong-yt"], MARCH))["total"]
    assert (health["received"], health["openOverdue"], health["finished"]) == (1, 1, 0)
    urban = (await stats(tokens["phong-qldt"], MARCH))["total"]
    assert (urban["received"], urban["finishedOnTime"], urban["rated"]) == (1, 1, 1)

    # The evaluation workbook holds the same numbers.
    async with scoped_transaction(w.centre):
        content = await evaluation_workbook(
            w.centre, w.tenant_id, Period(date(2026, 3, 1), date(2026, 3, 31))
        )
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.sheetnames == [
        "Tổng hợp",
        "Theo cơ quan",
        "Theo lĩnh vực",
        "Theo kênh",
        "Theo đơn vị hành chính",
        "Theo tháng",
    ]
    summary = {row[0]: row[1] for row in book["Tổng hợp"].iter_rows(min_row=3, values_only=True)}
    assert summary["Tiếp nhận trong kỳ"] == total["received"]
    assert summary["Đang xử lý quá hạn"] == total["openOverdue"]
    assert summary["Tỉ lệ đúng hạn"] == total["onTimeRate"]
    assert summary["Tỉ lệ hài lòng (4–5)"] == total["satisfiedShare"]
    agencies = {r[0]: r[1:] for r in book["Theo cơ quan"].iter_rows(min_row=2, values_only=True)}
    assert agencies["Phòng Y tế"] == (1, 0, 1, 0.0)
    assert agencies["Phòng Quản lý đô thị"] == (1, 1, 0, 1.0)
    assert len(book["Theo cơ quan"]._charts) == 1

    # The pilot: set by the province (only), evaluated against its targets.
    province_scope = Scope(
        user_id=None,
        tenant_id=None,
        readable_tenant_ids=frozenset({w.tenant_id}),
        reach={Action.TENANT_ONBOARD.value: frozenset({Reach()})},
        provincial=True,
    )
    with pytest.raises(DomainError) as refused:
        await set_pilot(w.centre, w.tenant_id, date(2026, 3, 1), date(2026, 3, 31))
    assert refused.value.code == "FORBIDDEN"
    with pytest.raises(DomainError) as bad:
        await set_pilot(province_scope, w.tenant_id, date(2026, 3, 1), date(2026, 3, 31), 1.5)
    assert [d.field for d in bad.value.details] == ["onTimeTarget"]
    await set_pilot(province_scope, w.tenant_id, date(2026, 3, 1), date(2026, 3, 31))
    async with scoped_transaction(w.centre):
        evaluation = await evaluate(w.centre, w.tenant_id)
    assert evaluation is not None
    assert evaluation.figures.on_time_rate == total["onTimeRate"]
    assert (evaluation.on_time_met, evaluation.satisfied_met) == (False, True)  # 67 % < 90 %

    ranking = (await gql.ok(RANKING, {"p": MARCH}, token=tokens["centre"]))["agencyRanking"]
    ranks = {r["agencyId"]: r["rank"] for r in ranking}
    assert ranks[gid("Agency", w.agency("phong-qldt"))] == 1
    assert ranks[gid("Agency", w.agency("phong-yt"))] is None  # nothing finished: not ranked

    body = await gql(PROVINCE, {"p": MARCH}, token=tokens["centre"])
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    province = await gql.login("tinh.admin", pilot["password"])
    rows = (await gql.ok(PROVINCE, {"p": MARCH}, token=province))["provinceStatistics"]
    mine = [r for r in rows if r["tenantId"] == gid("Tenant", w.tenant_id)]
    assert mine == [
        {"tenantId": gid("Tenant", w.tenant_id), "figures": {"received": 3, "openOverdue": 1}}
    ]
    # Only the tenants asked for, in that order; sliced by what is shared across tenants.
    lao_cai = gid("Tenant", pilot["tenants"]["lao-cai"].id)
    asked = {"p": MARCH, "t": [gid("Tenant", w.tenant_id), lao_cai]}
    two = (await gql.ok(PROVINCE_SOME, asked, token=province))["provinceStatistics"]
    assert [r["tenantId"] for r in two] == asked["t"] and two[0]["figures"]["received"] == 3
    urgent = {**asked, "f": {"urgencies": ["URGENT"]}}
    sliced = (await gql.ok(PROVINCE_SOME, urgent, token=province))["provinceStatistics"]
    assert sliced[0]["figures"] == {"received": 0, "openOverdue": 0}
    body = await gql(PROVINCE_SOME, {"p": MARCH, "t": [gid("Field", w.field("attp"))]}, province)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"

    # The pilot over GraphQL: the province sets it (a lower on-time target this time), the
    # centre reads the evaluation of its own tenant, and nobody else may set or read it.
    tenant = gid("Tenant", w.tenant_id)
    pilot_input = {"tenantId": tenant, "startsOn": "2026-03-01", "endsOn": "2026-03-31",
                   "onTimeTarget": 0.6}  # fmt: skip
    body = await gql(SET_PILOT, {"i": pilot_input}, token=tokens["centre"])
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    bad = await gql.ok(SET_PILOT, {"i": {**pilot_input, "satisfiedTarget": -0.1}}, token=province)
    assert bad["setPilot"] == {"pilot": None, "errors": [
        {"code": "OUT_OF_RANGE", "field": "satisfiedTarget"}]}  # fmt: skip
    made = (await gql.ok(SET_PILOT, {"i": pilot_input}, token=province))["setPilot"]
    assert made["errors"] == [] and made["pilot"]["onTimeTarget"] == 0.6
    seen = (await gql.ok(EVALUATION, {"t": None}, token=tokens["centre"]))["pilotEvaluation"]
    assert seen["figures"]["onTimeRate"] == total["onTimeRate"]  # 2 of 3: 67 % ≥ 60 %
    assert (seen["onTimeMet"], seen["satisfiedMet"]) == (True, True)
    from_province = await gql.ok(EVALUATION, {"t": tenant}, token=province)
    assert from_province["pilotEvaluation"] == seen
    other = gid("Tenant", pilot["tenants"]["lao-cai"].id)
    body = await gql(EVALUATION, {"t": other}, token=tokens["centre"])
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
