"""Generated history for the demo: months of plausible activity in both pilot localities
(`paht demo --history 6m`), so the evaluation and the dashboards have something true to show.

The workflow itself is replayed in the past: every submission and step goes through the real
services (``reports.service``) with the application clock pinned at the step's instant
(``core.clock.pinned``), so reports, events, deadlines (on each tenant's working calendar),
extensions and ratings have exactly the shape the API writes. Then ``stats.maintain`` folds
them (``rebuild_tenant``). Deterministic for a seed.

The behaviour: volumes by field (a weight per field, fewer reports at weekends, daytime
submissions); each agency has its own tendency to be late (a step taken after the deadline in
force, 5–35 % of its steps); about 7 % rejected (by reason), 3 % withdrawn, a few duplicates
(of the last report, when it is still open), 8 % returned by the agency and re-assigned, 12 %
extensions asked (four in five granted), 12 % sent back for rework, and ratings for about 65 %
of the approved results (lower after a late resolution; the centre closes a low rating's
review with an explanation).
Reports whose next step would fall after now stay open where they are.
"""

from __future__ import annotations

import contextlib
import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from accounts.grants import grant_role_unchecked
from accounts.models import User
from accounts.service import NewUser, create_user
from core import clock
from core.errors import DomainError
from permissions.scope import Scope
from permissions.session import scoped_transaction, tenant_transaction
from permissions.store import store
from reports.models import Report
from reports.service import (
    AssignInput,
    SubmitInput,
    decide_extension,
    mark_duplicate,
    request_extension,
    submit_report,
    transition,
)
from reports.workflow import ReportState
from reports.workflow import WorkflowAction as A
from tenants.models import Agency, Field, Tenant

REASONS = ("OUT_OF_SCOPE", "UNFOUNDED", "OUT_OF_AREA")
TITLES = (
    ("Ổ gà trên đường", "Mặt đường hỏng nặng, xe máy dễ ngã."),
    ("Đèn đường hỏng", "Cả đoạn đường tối om từ tuần trước."),
    ("Rác thải bừa bãi", "Rác tập kết sai nơi quy định, bốc mùi."),
    ("Lấn chiếm vỉa hè", "Người đi bộ phải đi xuống lòng đường."),
    ("Cống thoát nước tắc", "Mưa nhỏ cũng ngập cả đoạn phố."),
    ("Tiếng ồn ban đêm", "Hát karaoke đến quá nửa đêm."),
    ("Sạt lở taluy", "Đất đá tràn xuống mép đường."),
    ("Thực phẩm không rõ nguồn gốc", "Hàng bán ở chợ không có nhãn mác."),
)


def parse_history(text: str) -> timedelta:
    """``6m`` (months of 30 days), ``2w`` or ``45d``."""
    match = re.fullmatch(r"\s*(\d+)\s*([mwd])\s*", text.lower())
    if not match or int(match.group(1)) == 0:
        raise ValueError(text)
    days = {"m": 30, "w": 7, "d": 1}[match.group(2)] * int(match.group(1))
    return timedelta(days=days)


@dataclass
class HistoryStats:
    reports: int = 0
    steps: int = 0
    states: dict[str, int] = field(default_factory=dict)


@dataclass
class _Locality:
    tenant: Tenant
    citizen: Scope
    centre: Scope
    leaders: dict[uuid.UUID, Scope]  # by agency id
    fields: list[tuple[Field, float]]  # with its share of the volume
    lateness: dict[uuid.UUID, float]  # by agency id: share of late steps
    points: list[tuple[float, float]]  # (latitude, longitude) inside the tenant's units


async def _user(tenant: Tenant, name: str, role: str, agency_id: uuid.UUID | None) -> Scope:
    short = tenant.code.replace("-", "")
    username = f"{short}.{name}"
    async with tenant_transaction(tenant.id):
        user = await User.get_or_none(username=username, default_tenant_id=tenant.id)
        if user is None:
            from api.demo import DEMO_PASSWORD

            user = await create_user(
                NewUser(username, DEMO_PASSWORD, f"{name} ({tenant.name_vi})"), tenant.id
            )
            await grant_role_unchecked(tenant.id, user.id, role, agency_id)
    return await store.scope_for(user.id, tenant.id)


async def _locality(tenant: Tenant, rng: random.Random) -> _Locality:
    from api.demo import report_points

    async with tenant_transaction(tenant.id):
        fields = await Field.filter(tenant_id=tenant.id).order_by("code")
        agencies = await Agency.filter(tenant_id=tenant.id).order_by("code")
    routed = [f for f in fields if f.default_agency_id is not None]
    leaders = {
        a.id: await _user(tenant, f"lanh-dao-{a.code}", "agency_leader", a.id)
        for a in agencies
        if any(f.default_agency_id == a.id for f in routed)
    }
    return _Locality(
        tenant=tenant,
        citizen=await _user(tenant, "citizen", "citizen", None),
        centre=await _user(tenant, "centre-supervisor", "centre_supervisor", None),
        leaders=leaders,
        fields=[(f, rng.choice((0.5, 1, 1, 2, 3, 5))) for f in routed],
        lateness={a: rng.choice((0.05, 0.1, 0.15, 0.25, 0.35)) for a in leaders},
        # A locality onboarded without unit boundaries accepts any point outside the others'.
        points=[(p.y, p.x) for p in await report_points(tenant)] or [(16.05, 108.2)],
    )


class _Replay:
    """One report's life, step by step, each at its own instant; stops before ``end``."""

    def __init__(self, loc: _Locality, rng: random.Random, end: datetime, stats: HistoryStats):
        self.loc, self.rng, self.end, self.stats = loc, rng, end, stats

    def _after(self, start: datetime, due: datetime | None, late: float) -> datetime:
        """An instant for the next step: before ``due`` (10–90 % of the time left), or after it
        with probability ``late``."""
        if due is None or due <= start:
            return start + timedelta(minutes=self.rng.randint(20, 600))
        span = due - start
        share = (
            self.rng.uniform(1.05, 1.8) if self.rng.random() < late else self.rng.uniform(0.1, 0.9)
        )
        return start + span * share

    async def _step(
        self, at: datetime, scope: Scope, report: Report, action: A, **kw: Any
    ) -> Report:
        with clock.pinned(at):
            async with scoped_transaction(scope):
                report = await transition(scope, report.id, action, report.version, **kw)
        self.stats.steps += 1
        return report

    async def play(self, i: int, at: datetime, master: Report | None) -> Report | None:
        loc, rng = self.loc, self.rng
        fld = rng.choices([f for f, _ in loc.fields], [w for _, w in loc.fields])[0]
        title, description = rng.choice(TITLES)
        lat, lon = loc.points[i % len(loc.points)]
        with clock.pinned(at):
            async with scoped_transaction(loc.citizen):
                report = (
                    await submit_report(
                        loc.citizen,
                        SubmitInput(
                            title=title,
                            description=description,
                            field_id=fld.id,
                            latitude=lat,
                            longitude=lon,
                            channel=rng.choice(("app", "app", "web", "hotline")),
                            idempotency_key=f"history-{loc.tenant.code}-{at:%Y%m%d%H%M%S}-{i}",
                        ),
                    )
                ).report
        self.stats.reports += 1
        with contextlib.suppress(_Later):
            await self._handle(report, at, fld, master)
        return report

    def _when(self, start: datetime, due: datetime | None, late: float) -> datetime:
        at = self._after(start, due, late)
        if at >= self.end:
            raise _Later
        return at

    async def _extension(
        self, report: Report, leader: Scope, accepted: datetime, at: datetime
    ) -> tuple[Report, datetime]:
        """The agency asks for a quarter more time; the centre grants four in five. A request
        the rules refuse (more than the original period) leaves the report as it was."""
        assert report.resolve_due_at is not None
        due, loc = report.resolve_due_at, self.loc
        asked = self._when(at, due, 0)
        try:
            with clock.pinned(asked):
                async with scoped_transaction(leader):
                    reason = "Cần thêm thời gian thi công."
                    await request_extension(leader, report.id, due + (due - accepted) / 4, reason)
        except DomainError:
            return report, at
        at = self._when(asked, None, 0)
        granted = self.rng.random() < 0.8
        comment = "Đồng ý." if granted else "Không đủ căn cứ gia hạn."
        with clock.pinned(at):
            async with scoped_transaction(loc.centre):
                await decide_extension(loc.centre, report.id, granted, comment)
                report = await Report.get(id=report.id)
        self.stats.steps += 2
        return report, at

    async def _handle(
        self, report: Report, at: datetime, fld: Field, master: Report | None
    ) -> None:
        loc, rng = self.loc, self.rng
        path = rng.random()
        at = self._when(at, report.screen_due_at, 0.08)
        if path < 0.07:
            await self._step(
                at,
                loc.centre,
                report,
                A.REJECT,
                reason_code=rng.choice(REASONS),
                comment="Không thuộc phạm vi tiếp nhận.",
            )
            return
        if path < 0.10:
            await self._step(at, loc.citizen, report, A.WITHDRAW)
            return
        if path < 0.14 and master is not None and master.state not in _FINISHED:
            with clock.pinned(at):
                async with scoped_transaction(loc.centre):
                    await mark_duplicate(loc.centre, report.id, report.version, master.id)
            self.stats.steps += 1
            return
        agency = fld.default_agency_id
        assert agency is not None
        report = await self._step(at, loc.centre, report, A.ASSIGN, assign=AssignInput(agency))
        leader, late = loc.leaders[agency], loc.lateness[agency]
        if rng.random() < 0.08:
            at = self._when(at, report.accept_due_at, late)
            report = await self._step(
                at,
                leader,
                report,
                A.RETURN,
                reason_code="NOT_COMPETENT",
                comment="Không thuộc thẩm quyền.",
            )
            at = self._when(at, None, 0)
            report = await self._step(at, loc.centre, report, A.ASSIGN, assign=AssignInput(agency))
        at = self._when(at, report.accept_due_at, late)
        report = await self._step(at, leader, report, A.ACCEPT)
        accepted = at
        if rng.random() < 0.12 and report.resolve_due_at is not None:
            report, at = await self._extension(report, leader, accepted, at)
        for rework in (True, False):
            resolve_due = report.resolve_due_at
            at = self._when(at, resolve_due, late)
            resolved_late = resolve_due is not None and at > resolve_due
            report = await self._step(
                at, leader, report, A.SUBMIT_RESULT, comment="Đã xử lý xong, gửi ảnh kèm theo."
            )
            if report.state == ReportState.LEADER_REVIEW:
                at = self._when(at, None, 0)
                report = await self._step(at, leader, report, A.SIGN_OFF)
            at = self._when(at, report.review_due_at, 0.1)
            if not (rework and rng.random() < 0.12):
                break
            report = await self._step(
                at,
                loc.centre,
                report,
                A.REQUEST_REWORK,
                reason_code="INCOMPLETE",
                comment="Kết quả chưa đạt yêu cầu.",
            )
        report = await self._step(at, loc.centre, report, A.APPROVE_RESULT)
        if rng.random() < 0.65:
            at = self._when(at, at + timedelta(days=3), 0)
            weights = (3, 3, 4, 5, 4) if resolved_late else (1, 1, 2, 6, 10)
            rating = rng.choices((1, 2, 3, 4, 5), weights)[0]
            report = await self._step(at, loc.citizen, report, A.RATE, rating=rating)
            if report.state == ReportState.RATING_REVIEW:  # a low rating: the centre explains
                at = self._when(at, at + timedelta(days=2), 0)
                reason, comment = "EXPLAINED", "Đã giải thích kết quả xử lý cho người dân."
                await self._step(
                    at, loc.centre, report, A.CLOSE, reason_code=reason, comment=comment
                )


_FINISHED = {"REJECTED", "DUPLICATE", "WITHDRAWN", "CLOSED", "RESOLVED"}


class _Later(Exception):
    """The report's next step would be after now: it stays open where it is."""


def _day_starts(start: datetime, end: datetime) -> list[datetime]:
    days, day = [], start.replace(hour=0, minute=0, second=0, microsecond=0)
    while day < end:
        days.append(day)
        day += timedelta(days=1)
    return days


async def generate_history(
    tenant: Tenant, length: timedelta, per_day: float = 5.0, seed: int = 2026
) -> HistoryStats:
    """``length`` of activity up to now in ``tenant`` (about ``per_day`` reports a day)."""
    rng = random.Random(f"{seed}-{tenant.code}")
    loc = await _locality(tenant, rng)
    end = clock.now()
    stats = HistoryStats()
    replay = _Replay(loc, rng, end, stats)
    tz_hours = 7  # Việt Nam: daytime submissions, in UTC
    recent: list[Report] = []
    i = 0
    for day in _day_starts(end - length, end):
        weekend = day.weekday() >= 5
        n = max(0, round(rng.gauss(per_day * (0.6 if weekend else 1.1), per_day * 0.3)))
        for at in sorted(
            day + timedelta(hours=rng.triangular(6, 22, 10) - tz_hours) for _ in range(n)
        ):
            if at >= end:
                continue
            report = await replay.play(i, at, recent[-1] if recent else None)
            i += 1
            if report is not None:
                async with tenant_transaction(tenant.id):
                    recent = ([*recent, await Report.get(id=report.id)])[-5:]
    async with tenant_transaction(tenant.id):
        for row in await Report.filter(tenant_id=tenant.id).values("state"):
            stats.states[row["state"]] = stats.states.get(row["state"], 0) + 1
    return stats


async def load_history(
    length: timedelta, per_day: float = 5.0, codes: tuple[str, ...] | None = None
) -> dict[str, HistoryStats]:
    """The demo localities (tenants/demo/, already loaded) get ``length`` of history each, then
    their statistics are folded from the events. A locality that already has such a history
    is left as it is (so `paht demo --history 6m` can be run again)."""
    from api.demo import DEMO_DIR
    from stats.maintain import rebuild_tenant
    from tenants.document import load_plan

    done: dict[str, HistoryStats] = {}
    for path in sorted(DEMO_DIR.glob("*.yaml")):
        code = load_plan(path).code
        tenant = await Tenant.get_or_none(code=code)
        if tenant is None or (codes is not None and code not in codes):
            continue
        if await has_history(tenant, length):
            continue
        done[code] = await generate_history(tenant, length, per_day)
        await rebuild_tenant(tenant.id)
    return done


async def has_history(tenant: Tenant, length: timedelta) -> bool:
    """Whether the tenant already holds reports from the first week of such a history."""
    async with tenant_transaction(tenant.id):
        since = datetime.now(UTC) - length + timedelta(days=7)
        return await Report.filter(tenant_id=tenant.id, created_at__lt=since).exists()
