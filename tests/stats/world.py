"""A fresh locality for statistics tests: two agencies, two fields, one user per role, and the
steps of the workflow through the real services (nothing else writes into it, so its figures
can be worked out by hand)."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from permissions.actions import Action
from permissions.scope import Reach, Scope
from permissions.session import scoped_transaction
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
from reports.workflow import WorkflowAction as A
from tests.conftest import GraphQLClient
from tests.factories import gid, onboard_locality, user_named, user_with_grants

AGENCIES = [
    {"code": "phong-qldt", "nameVi": "Phòng Quản lý đô thị", "nameEn": "Urban management"},
    {"code": "phong-yt", "nameVi": "Phòng Y tế", "nameEn": "Health office"},
]
FIELDS = [
    {
        "code": "ha-tang",
        "nameVi": "Hạ tầng",
        "nameEn": "Infrastructure",
        "defaultAgencyCode": "phong-qldt",
    },
    {
        "code": "attp",
        "nameVi": "An toàn thực phẩm",
        "nameEn": "Food safety",
        "defaultAgencyCode": "phong-yt",
    },
]


@dataclass
class World:
    locality: dict[str, Any]
    centre: Scope
    leaders: dict[str, Scope]  # by agency code
    citizen: Scope
    tokens: dict[str, str]

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.locality["tenant_id"]

    def agency(self, code: str) -> uuid.UUID:
        return self.locality["agencies"][code]

    def field(self, code: str) -> uuid.UUID:
        return self.locality["fields"][code]

    async def submit(
        self, field: str = "ha-tang", urgency: str = "normal", channel: str | None = None
    ) -> Report:
        async with scoped_transaction(self.citizen):
            result = await submit_report(
                self.citizen,
                SubmitInput(
                    title="Ổ gà trên đường Cầu Mây",
                    description="Mặt đường hỏng nặng.",
                    field_id=self.field(field),
                    latitude=16.05,
                    longitude=108.2,
                    urgency=urgency,
                    channel=channel,
                    idempotency_key=uuid.uuid4().hex,
                ),
            )
        return result.report

    def actor(self, report: Report, action: A) -> Scope:
        if action in {A.ACCEPT, A.RETURN, A.SUBMIT_RESULT}:
            agency = next(
                c for c, i in self.locality["agencies"].items() if i == report.lead_agency_id
            )
            return self.leaders[agency]
        return self.citizen if action in {A.RATE, A.WITHDRAW} else self.centre

    async def step(self, report: Report, action: A, **kwargs: Any) -> Report:
        scope = self.actor(report, action)
        async with scoped_transaction(scope):
            return await transition(scope, report.id, action, report.version, **kwargs)

    async def mark_duplicate(self, report: Report, master: Report) -> Report:
        async with scoped_transaction(self.centre):
            return await mark_duplicate(self.centre, report.id, report.version, master.id)

    async def assign(self, report: Report, agency: str, urgency: str | None = None) -> Report:
        return await self.step(
            report, A.ASSIGN, assign=AssignInput(self.agency(agency), urgency=urgency)
        )

    async def extend(self, report: Report, to: datetime) -> Report:
        leader = self.actor(report, A.ACCEPT)
        async with scoped_transaction(leader):
            await request_extension(leader, report.id, to, "Cần thêm thời gian thi công.")
        async with scoped_transaction(self.centre):
            await decide_extension(self.centre, report.id, True, "Đồng ý.")
            return await Report.get(id=report.id)


async def _scope(username: str, tenant_id: uuid.UUID) -> Scope:
    return await store.scope_for((await user_named(username)).id, tenant_id)


async def new_world(gql: GraphQLClient, pilot: dict[str, Any], prefix: str = "tk") -> World:
    loc = await onboard_locality(gql, pilot, prefix=prefix, agencies=AGENCIES, fields=FIELDS)
    tokens = {"centre": await user_with_grants(gql, loc, "centre", {"role": "centre_supervisor"})}
    for code in loc["agencies"]:
        tokens[code] = await user_with_grants(
            gql,
            loc,
            f"leader-{code}",
            {"role": "agency_leader", "agencyId": gid("Agency", loc["agencies"][code])},
        )
    tokens["citizen"] = await user_with_grants(gql, loc, "citizen", {"role": "citizen"})
    tid = loc["tenant_id"]
    return World(
        loc,
        centre=await _scope(f"{loc['code']}.centre", tid),
        leaders={c: await _scope(f"{loc['code']}.leader-{c}", tid) for c in loc["agencies"]},
        citizen=await _scope(f"{loc['code']}.citizen", tid),
        tokens=tokens,
    )


def province_scope(tenant_ids: set[uuid.UUID]) -> Scope:
    """A provincial administrator's scope over these tenants (setting a pilot, comparing)."""
    return Scope(
        user_id=None,
        tenant_id=None,
        readable_tenant_ids=frozenset(tenant_ids),
        reach={Action.TENANT_ONBOARD.value: frozenset({Reach()})},
        provincial=True,
    )


# A random workload (tests/stats/test_rebuild.py, test_rollup.py).
REASONS = ["OUT_OF_SCOPE", "UNFOUNDED", "OUT_OF_AREA"]


async def play(world: World, rng: random.Random, report: Report, master: Report, mark: str) -> None:
    """One report down a random path of the workflow; ``mark`` "duplicate": marked as a
    duplicate of ``master`` and left so; "unmarked": marked, un-marked, then handled."""
    if mark:
        report = await world.mark_duplicate(report, master)
        if mark == "duplicate":
            return
        report = await world.step(report, A.UNMARK_DUPLICATE, comment="Không trùng.")
    await _play_on(world, rng, report, rng.random())


async def _play_on(world: World, rng: random.Random, report: Report, path: float) -> None:
    if path < 0.1:
        await world.step(report, A.REJECT, reason_code=rng.choice(REASONS), comment="Không nhận.")
        return
    if path < 0.15:
        await world.step(report, A.WITHDRAW)
        return
    report = await world.assign(report, rng.choice(["phong-qldt", "phong-yt"]))
    if rng.random() < 0.15:
        report = await world.step(report, A.RETURN, reason_code="NOT_COMPETENT", comment="Sai.")
        report = await world.assign(report, rng.choice(["phong-qldt", "phong-yt"]))
    if rng.random() < 0.2:
        return  # left waiting for acceptance
    report = await world.step(report, A.ACCEPT)
    if rng.random() < 0.2 and report.resolve_due_at is not None:
        report = await world.extend(report, report.resolve_due_at + timedelta(days=2))
    report = await world.step(report, A.SUBMIT_RESULT, comment="Đã sửa xong.")
    if rng.random() < 0.2:
        report = await world.step(
            report, A.REQUEST_REWORK, reason_code="INCOMPLETE", comment="Chưa đạt."
        )
        report = await world.step(report, A.SUBMIT_RESULT, comment="Đã sửa lại.")
    report = await world.step(report, A.APPROVE_RESULT)
    if rng.random() < 0.6:
        await world.step(report, A.RATE, rating=rng.randint(1, 5))
