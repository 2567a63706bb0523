"""Demo data: the Lào Cai pilot (province admin, two localities, one user per role)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accounts.grants import grant_role_unchecked
from accounts.models import User
from accounts.service import NewUser, create_user
from permissions.actions import Action
from permissions.scope import Reach, Scope
from permissions.service import grant_provincial_admin, install_provincial_template
from permissions.session import scoped_transaction, tenant_transaction
from permissions.store import store
from permissions.templates import PROVINCIAL_ADMIN, TENANT_TEMPLATES
from tenants.document import load_plan
from tenants.models import AdministrativeUnit, Agency, Field, Tenant
from tenants.onboarding import onboard

DEMO_DIR = Path(__file__).resolve().parent.parent / "tenants" / "demo"
DEMO_PASSWORD = "paht-demo-2026"

# The system itself acting as the province: used only by the CLI and demo loader.
SYSTEM_PROVINCE = Scope(
    user_id=uuid.UUID(int=0),
    tenant_id=None,
    reach={
        Action.TENANT_ONBOARD.value: frozenset({Reach()}),
        Action.PROVINCE_MANAGE_ADMINS.value: frozenset({Reach()}),
    },
    provincial=True,
)


@dataclass(frozen=True)
class DemoAccount:
    tenant: str
    role: str
    username: str
    password: str


async def ensure_province_admin(username: str, password: str, full_name: str) -> User:
    async with scoped_transaction(SYSTEM_PROVINCE):
        await install_provincial_template()
        user = await User.get_or_none(username=username, default_tenant_id=None)
        if user is None:
            user = await create_user(NewUser(username, password, full_name), None)
        await grant_provincial_admin(user.id)
    return user


async def load_demo() -> list[DemoAccount]:
    accounts = [DemoAccount("*", PROVINCIAL_ADMIN, "tinh.admin", DEMO_PASSWORD)]
    await ensure_province_admin("tinh.admin", DEMO_PASSWORD, "Quản trị tỉnh Lào Cai")
    for path in sorted(DEMO_DIR.glob("*.yaml")):
        plan = load_plan(path)
        tenant = await Tenant.get_or_none(code=plan.code)
        new = tenant is None
        if tenant is None:
            plan.admin = NewUser(
                plan.admin.username, DEMO_PASSWORD, plan.admin.full_name, plan.admin.email
            )
            async with scoped_transaction(SYSTEM_PROVINCE):
                tenant = (await onboard(SYSTEM_PROVINCE, plan)).tenant
        accounts += await _role_users(tenant, plan.code)  # existing users are kept as they are
        if new:
            await _sample_reports(tenant, plan.code)
    return accounts


async def _role_users(tenant: Tenant, code: str) -> list[DemoAccount]:
    """One user per role template; agency-bound roles go to the default agency of the
    food-safety field (so the demo shows a narrowed handler)."""
    accounts = [DemoAccount(code, "tenant_admin", f"{code.replace('-', '')}.admin", DEMO_PASSWORD)]
    async with tenant_transaction(tenant.id):
        food = await Field.get_or_none(tenant_id=tenant.id, code="ve-sinh-attp")
        agency_id = food.default_agency_id if food else None
        if agency_id is None:
            first = await Agency.filter(tenant_id=tenant.id).first()
            agency_id = first.id if first else None
        for template in TENANT_TEMPLATES:
            if template.code == "tenant_admin":
                continue
            username = f"{code.replace('-', '')}.{template.code.replace('_', '-')}"
            accounts.append(DemoAccount(code, template.code, username, DEMO_PASSWORD))
            if await User.exists(username=username, default_tenant_id=tenant.id):
                continue
            user = await create_user(
                NewUser(
                    username,
                    DEMO_PASSWORD,
                    f"{template.name_vi} ({tenant.name_vi})",
                    f"{username}@{code}.example.vn",  # reminder e-mails, if they opt in
                ),
                tenant.id,
            )
            await grant_role_unchecked(
                tenant.id, user.id, template.code, agency_id if template.agency_bound else None
            )
    return accounts


async def _sample_reports(tenant: Tenant, code: str) -> None:
    """A few reports in different states, so a new console has something to show."""
    from reports.service import (
        AssignInput,
        ContactInput,
        SubmitInput,
        publish,
        submit_report,
        transition,
    )
    from reports.workflow import WorkflowAction as Step

    short = code.replace("-", "")
    roles = ("citizen", "intake-operator", "agency-contact", "handler", "centre-supervisor")
    async with tenant_transaction(tenant.id):
        users = {
            r: await User.get(username=f"{short}.{r}", default_tenant_id=tenant.id) for r in roles
        }
    scopes = {r: await store.scope_for(u.id, tenant.id) for r, u in users.items()}
    points = await report_points(tenant)
    async with tenant_transaction(tenant.id):
        fields = {f.code: f for f in await Field.filter(tenant_id=tenant.id)}

    async def submit(i: int, field: str, title: str, description: str, **extra: Any) -> Any:
        scope = scopes["citizen"]
        async with scoped_transaction(scope):
            result = await submit_report(
                scope,
                SubmitInput(
                    title=title,
                    description=description,
                    field_id=fields[field].id,
                    latitude=points[i % len(points)].y,
                    longitude=points[i % len(points)].x,
                    idempotency_key=f"demo-{code}-{i}",
                    **extra,
                ),
            )
        return result.report

    async def step(role: str, report: Any, action: Step, **kwargs: object) -> Any:
        async with scoped_transaction(scopes[role]):
            return await transition(scopes[role], report.id, action, report.version, **kwargs)  # type: ignore[arg-type]

    await submit(
        0,
        "ha-tang-gt-do-thi",
        "Ổ gà lớn giữa đường",
        "Ổ gà sâu khoảng 20 cm, xe máy dễ ngã vào buổi tối.",
    )
    await submit(
        1,
        "trat-tu-xa-hoi",
        "Tụ tập gây ồn ào sau 23 giờ",
        "Nhóm thanh niên tụ tập, nẹt pô nhiều đêm liền.",
        contact=ContactInput("Người dân", "0912000111"),
    )
    food = fields["ve-sinh-attp"]
    assert food.default_agency_id is not None  # the demo regulation routes food to one agency
    in_progress = await submit(
        2,
        "ve-sinh-attp",
        "Quán ăn dùng thực phẩm ôi thiu",
        "Nhiều người bị đau bụng sau khi ăn tại quán.",
    )
    in_progress = await step(
        "intake-operator",
        in_progress,
        Step.ASSIGN,
        assign=AssignInput(lead_agency_id=food.default_agency_id),
    )
    await step("agency-contact", in_progress, Step.ACCEPT)
    resolved = await submit(
        3,
        "ve-sinh-attp",
        "Bán hàng rong không đảm bảo vệ sinh",
        "Hàng ăn không che đậy cạnh cổng chợ.",
    )
    resolved = await step(
        "intake-operator",
        resolved,
        Step.ASSIGN,
        assign=AssignInput(lead_agency_id=food.default_agency_id),
    )
    resolved = await step("agency-contact", resolved, Step.ACCEPT)
    resolved = await step(
        "handler",
        resolved,
        Step.SUBMIT_RESULT,
        comment="Đã kiểm tra, nhắc nhở và yêu cầu che đậy thực phẩm.",
    )
    resolved = await step("centre-supervisor", resolved, Step.APPROVE_RESULT, reason_code="FIXED")
    async with scoped_transaction(scopes["centre-supervisor"]):
        await publish(scopes["centre-supervisor"], resolved.id, True)  # in the public feed
    rejected = await submit(
        4, "du-lich", "Tranh chấp tiền thuê nhà nghỉ", "Chủ nhà nghỉ không trả lại tiền đặt cọc."
    )
    await step(
        "intake-operator",
        rejected,
        Step.REJECT,
        reason_code="OUT_OF_SCOPE",
        comment="Tranh chấp dân sự, đề nghị liên hệ Tòa án nhân dân.",
    )


async def report_points(tenant: Tenant, limit: int = 5) -> list[Any]:
    """Points (shapely) inside the first ``limit`` of the tenant's units that have a boundary."""
    from shapely.geometry import Point, shape

    units = [u for u in await AdministrativeUnit.filter(code__in=tenant.unit_codes) if u.boundary]
    points = []
    for unit in units[:limit]:
        area = shape(unit.boundary)
        point = area.representative_point()
        # A little off the representative point (which tests and tools also like to use).
        shifted = Point(point.x + 0.002, point.y + 0.002)
        points.append(shifted if area.contains(shifted) else point)
    return points
