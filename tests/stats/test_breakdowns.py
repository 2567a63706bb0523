"""Time and channel breakdowns, the previous-period comparison and the stage times (median and
90th percentile of working hours) through GraphQL, on a hand-built dataset worked out by hand.

Sa Pa's default calendar (Mon-Fri 07:30-11:30, 13:30-17:00). R0 (web) arrives on Monday 23
February at 09:00 and is rejected at 10:00. In March: R1 (app) on Monday 2 March 09:00 is
assigned 09:10, accepted 09:20, resolved 10:00, approved 10:30; R2 (web) at 09:00 is assigned at
10:00 and accepted only on Monday 9 March at 09:00 (36.5 working hours: 5 h on the 2nd, 4 × 7.5 h,
1.5 h on the 9th); R3 (web) on Monday 16 March 08:00 is assigned at 10:00 (2 working hours)."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import openpyxl
import pytest
import time_machine

from permissions.session import scoped_transaction
from reports.workflow import WorkflowAction as A
from stats.export import evaluation_workbook, workbook_csvs
from stats.maintain import refresh_tenant
from stats.slicing import Period
from tests.clock import stop_clock, vn
from tests.conftest import GraphQLClient
from tests.factories import PASSWORD, gid
from tests.stats.world import new_world
from tests.support.admin import post

STATS = """query($p: PeriodInput!, $g: StatisticsGroupBy) { statistics(period: $p, groupBy: $g) {
  total { ...F } groups { key first last figures { ...F } }
  previous { first last total { received rejected finished } } } }
fragment F on StatisticsFigures { received carriedOver finished openWithinDeadline openOverdue
  rejected onTimeRate stageTimes { stage runs medianHours p90Hours } }"""


FILTERED = """query($p: PeriodInput!, $f: StatisticsFilter, $g: StatisticsGroupBy) {
  statistics(period: $p, filter: $f, groupBy: $g) {
  total { ...F } groups { key figures { ...F } }
  previous { total { received rejected finished } } } }
fragment F on StatisticsFigures { received finished openOverdue
  stageTimes { stage runs medianHours p90Hours } }"""
HEADLINE = """query($p: HeadlinePeriod!) { publicHeadline(period: $p) {
  first last received finished onTimeRate rated satisfiedShare } }"""
SET_PILOT = """mutation($i: SetPilotInput!) { setPilot(input: $i) { errors { code } } }"""


def times(figures: dict[str, Any], stage: str) -> tuple[int, float | None, float | None]:
    t = next(t for t in figures["stageTimes"] if t["stage"] == stage)
    return t["runs"], t["medianHours"], t["p90Hours"]


async def test_breakdowns_previous_period_and_stage_times(
    gql: GraphQLClient, pilot: dict[str, Any], time_machine: time_machine.TimeMachineFixture
) -> None:
    def at(month: int, d: int, h: int, m: int = 0) -> None:
        stop_clock(time_machine, vn(2026, month, d, h, m))

    at(2, 22, 20)
    w = await new_world(gql, pilot, prefix="bd")
    at(2, 23, 9)
    r0 = await w.submit("attp", channel="web")
    at(2, 23, 10)
    await w.step(r0, A.REJECT, reason_code="OUT_OF_SCOPE", comment="Không thuộc phạm vi.")
    at(3, 2, 9)
    r1, r2 = await w.submit("ha-tang", channel="app"), await w.submit("attp", channel="web")
    at(3, 2, 9, 10)
    r1 = await w.assign(r1, "phong-qldt")
    at(3, 2, 9, 20)
    r1 = await w.step(r1, A.ACCEPT)
    at(3, 2, 10)
    r1 = await w.step(r1, A.SUBMIT_RESULT, comment="Đã vá.")
    r2 = await w.assign(r2, "phong-yt")
    at(3, 2, 10, 30)
    await w.step(r1, A.APPROVE_RESULT)
    at(3, 9, 9)
    await w.step(r2, A.ACCEPT)
    at(3, 16, 8)
    r3 = await w.submit("attp", channel="web")
    at(3, 16, 10)
    await w.assign(r3, "phong-yt")
    at(3, 31, 12)
    await refresh_tenant(w.tenant_id)
    token = await gql.login(f"{w.locality['code']}.centre", PASSWORD)

    async def stats(first: str, last: str, group: str | None = None) -> Any:
        p = {"first": first, "last": last}
        return (await gql.ok(STATS, {"p": p, "g": group}, token=token))["statistics"]

    march = await stats("2026-03-01", "2026-03-31", "CHANNEL")
    # The comparison: the 31 days just before March.
    assert march["previous"] == {
        "first": "2026-01-29",
        "last": "2026-02-28",
        "total": {"received": 1, "rejected": 1, "finished": 1},
    }
    total = march["total"]
    assert (total["received"], total["finished"], total["openOverdue"]) == (3, 1, 2)
    assert total["openWithinDeadline"] == 0  # R3's acceptance was due on the 17th at 10:00
    # Screening runs stopped in March: 10 min, 1 h, 2 h → median 1 h, P90 = 1 + 0.8 × (2 − 1).
    assert times(total, "SCREEN") == (3, pytest.approx(1.0), pytest.approx(1.8))
    # Acceptances: 10 min and 36.5 h → median their mean, P90 = 1/6 + 0.9 × (36.5 − 1/6).
    assert times(total, "ACCEPT") == (
        2,
        pytest.approx((1 / 6 + 36.5) / 2),
        pytest.approx(1 / 6 + 0.9 * (36.5 - 1 / 6)),
    )
    assert times(total, "RESOLVE") == (1, pytest.approx(40 / 60), pytest.approx(40 / 60))
    assert times(total, "REVIEW") == (1, pytest.approx(0.5), pytest.approx(0.5))
    channels = {g["key"]: g["figures"] for g in march["groups"]}
    assert {k: f["received"] for k, f in channels.items()} == {"app": 1, "web": 2}
    assert times(channels["web"], "SCREEN") == (2, pytest.approx(1.5), pytest.approx(1.9))
    assert times(channels["app"], "SCREEN") == (1, pytest.approx(1 / 6), pytest.approx(1 / 6))

    # A filter narrows every figure to some reports, the comparison period too.
    async def sliced(where: dict[str, Any], group: str | None = None, who: str = token) -> Any:
        variables = {"p": {"first": "2026-03-01", "last": "2026-03-31"}, "f": where, "g": group}
        return (await gql.ok(FILTERED, variables, token=who))["statistics"]

    food = gid("Field", w.field("attp"))
    web_food = await sliced({"channels": ["WEB"], "fieldIds": [food]})
    assert (web_food["total"]["received"], web_food["total"]["finished"]) == (2, 0)
    assert web_food["total"]["openOverdue"] == 2  # R2 and R3
    assert times(web_food["total"], "SCREEN") == times(channels["web"], "SCREEN")
    assert web_food["previous"]["total"] == {"received": 1, "rejected": 1, "finished": 1}  # R0
    assert (await sliced({"channels": ["APP"], "fieldIds": [food]}))["total"]["received"] == 0
    urban = await sliced({"agencyIds": [gid("Agency", w.agency("phong-qldt"))]}, "CHANNEL")
    assert [(g["key"], g["figures"]["received"], g["figures"]["finished"])
            for g in urban["groups"]] == [("app", 1, 1)]  # fmt: skip
    assert (await sliced({"urgencies": ["NORMAL"]}))["total"]["received"] == 3
    assert (await sliced({"urgencies": ["URGENT"]}))["total"]["received"] == 0
    # Within the caller's reach, never beyond: the health office's leader asking for urban
    # management's reports gets nothing.
    health = await gql.login(f"{w.locality['code']}.leader-phong-yt", PASSWORD)
    assert (await sliced({}, who=health))["total"]["received"] == 2
    other = await sliced({"agencyIds": [gid("Agency", w.agency("phong-qldt"))]}, who=health)
    assert other["total"]["received"] == 0 and other["total"]["finished"] == 0
    wrong = await gql(FILTERED, {"p": {"first": "2026-03-01", "last": "2026-03-31"},
                                 "f": {"fieldIds": [gid("Agency", w.agency("phong-yt"))]}},
                      token=token)  # fmt: skip
    assert [(e["extensions"]["code"], e["extensions"]["field"]) for e in wrong["errors"]] == [
        ("NOT_FOUND", "filter.fieldIds")
    ]

    months = await stats("2026-02-01", "2026-03-31", "MONTH")
    assert [(g["key"], g["first"], g["last"]) for g in months["groups"]] == [
        ("2026-02-01", "2026-02-01", "2026-02-28"),
        ("2026-03-01", "2026-03-01", "2026-03-31"),
    ]
    feb, mar = (g["figures"] for g in months["groups"])
    assert (feb["received"], feb["rejected"], feb["carriedOver"]) == (1, 1, 0)
    assert (mar["received"], mar["carriedOver"], mar["finished"]) == (3, 0, 1)
    assert times(feb, "SCREEN")[0] == 1 and times(mar, "SCREEN")[0] == 3
    assert months["total"]["received"] == 4 and months["total"]["openOverdue"] == 2

    # Weeks from Monday; 1 March is a Sunday, so the first week is that day alone.
    weeks = await stats("2026-03-01", "2026-03-31", "WEEK")
    shape = [
        (g["first"], g["last"], g["figures"]["carriedOver"], g["figures"]["received"],
         g["figures"]["openOverdue"] + g["figures"]["openWithinDeadline"])
        for g in weeks["groups"]
    ]  # fmt: skip
    assert shape == [
        ("2026-03-01", "2026-03-01", 0, 0, 0),
        ("2026-03-02", "2026-03-08", 0, 2, 1),  # R1 finished, R2 still open (overdue)
        ("2026-03-09", "2026-03-15", 1, 0, 1),
        ("2026-03-16", "2026-03-22", 1, 1, 2),
        ("2026-03-23", "2026-03-29", 2, 0, 2),
        ("2026-03-30", "2026-03-31", 2, 0, 2),
    ]
    days = await stats("2026-03-01", "2026-03-03", "DAY")
    assert [g["figures"]["received"] for g in days["groups"]] == [0, 2, 0]
    assert days["previous"]["first"] == "2026-02-26"  # three days before
    quarter = await stats("2026-02-15", "2026-04-10", "QUARTER")
    assert [(g["first"], g["last"]) for g in quarter["groups"]] == [
        ("2026-02-15", "2026-03-31"),
        ("2026-04-01", "2026-04-10"),
    ]

    # The anonymous feed's headline: the whole tenant's totals over complete days (to the 30th).
    async def headline(period: str) -> Any:
        response = await post(gql, HEADLINE, {"p": period}, tenant=w.locality["code"])
        assert response.status_code == 200, response.text
        return response.json()["data"]["publicHeadline"]

    assert await headline("LAST_30_DAYS") == {
        "first": "2026-03-01",
        "last": "2026-03-30",
        "received": 3,
        "finished": 1,
        "onTimeRate": pytest.approx(1 / 3),  # R2 and R3 overdue at the end, of 3 to handle
        "rated": 0,
        "satisfiedShare": None,
    }
    assert await headline("PILOT") is None  # no pilot set yet
    province = await gql.login("tinh.admin", pilot["password"])
    pilot_input = {"tenantId": gid("Tenant", w.tenant_id), "startsOn": "2026-02-20",
                   "endsOn": "2026-05-31"}  # fmt: skip
    assert (await gql.ok(SET_PILOT, {"i": pilot_input}, province))["setPilot"]["errors"] == []
    under_way = await headline("PILOT")
    assert (under_way["first"], under_way["last"], under_way["received"]) == (
        "2026-02-20",
        "2026-03-30",
        4,
    )

    # The workbook: results against the pilot's targets, the monthly trend with its line chart.
    ticks: list[tuple[int, int]] = []
    async with scoped_transaction(w.centre):
        content = await evaluation_workbook(
            w.centre,
            w.tenant_id,
            Period(date(2026, 2, 1), date(2026, 3, 31)),
            progress=lambda done, steps: ticks.append((done, steps)),
        )
    assert ticks == [(1, 6), (2, 6), (3, 6), (4, 6), (5, 6), (6, 6)]
    book = openpyxl.load_workbook(io.BytesIO(content))
    for ws in book.worksheets:  # each sheet prints (and renders) on one landscape A4 page
        setup = ws.page_setup
        assert (setup.orientation, setup.fitToWidth, setup.fitToHeight) == ("landscape", 1, 1)
        assert ws.sheet_properties.pageSetUpPr.fitToPage
    summary = {r[0]: r[1:] for r in book["Tổng hợp"].iter_rows(min_row=3, values_only=True)}
    assert summary["Tỉ lệ đúng hạn"] == (pytest.approx(1 - 2 / 4), 0.9, "Không đạt")
    assert summary["Tỉ lệ hài lòng (4–5)"] == (None, 0.8, None)  # no rating: not judged
    accept = summary["Thời gian nhận xử lý – trung vị (giờ làm việc)"]
    assert accept[0] == pytest.approx(times(months["total"], "ACCEPT")[1])
    trend = list(book["Theo tháng"].iter_rows(min_row=2, values_only=True))
    assert [r[:3] for r in trend] == [("02/2026", 1, 1), ("03/2026", 3, 1)]
    assert trend[1][4] == pytest.approx(months["groups"][1]["figures"]["onTimeRate"])
    assert len(book["Theo tháng"]._charts) == 1
    assert {r[0]: r[1] for r in book["Theo kênh"].iter_rows(min_row=2, values_only=True)} == {
        "cổng thông tin điện tử": 3,
        "ứng dụng di động": 1,
    }
    # The same tables as CSV, one file per sheet.
    tables = workbook_csvs(content)
    assert sorted(tables) == [
        "theo-cơ-quan.csv",
        "theo-kênh.csv",
        "theo-lĩnh-vực.csv",
        "theo-tháng.csv",
        "theo-đơn-vị-hành-chính.csv",
        "tổng-hợp.csv",
    ]
    lines = tables["theo-tháng.csv"].decode("utf-8-sig").splitlines()
    assert lines[1].split(",")[:3] == ["02/2026", "1", "1"]
