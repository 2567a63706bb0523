"""Demo data: the Lào Cai pilot (province admin, two localities, one user per role)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from accounts.models import User
from accounts.service import NewUser, create_user
from permissions.actions import Action
from permissions.scope import Reach, Scope
from permissions.service import (
    grant_provincial_admin,
    grant_role_unchecked,
    install_provincial_template,
)
from permissions.session import scoped_transaction, tenant_transaction
from permissions.templates import PROVINCIAL_ADMIN, TENANT_TEMPLATES
from tenants.models import Agency, Field, Tenant
from tenants.onboarding import load_plan, onboard

DEMO_DIR = Path(__file__).resolve().parent.parent / "tenants" / "demo"
DEMO_PASSWORD = "paht-demo-2026"

# The system itself acting as the province: used only by the CLI and demo loader.
SYSTEM_PROVINCE = Scope(
    user_id=uuid.UUID(int=0),
    tenant_id=None,
    reach={Action.TENANT_ONBOARD.value: frozenset({Reach()})},
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
        user = await User.get_or_none(username=username)
        if user is None:
            user = await create_user(NewUser(username, password, full_name), None)
        await grant_provincial_admin(user.id)
    return user


async def load_demo() -> list[DemoAccount]:
    accounts = [DemoAccount("*", PROVINCIAL_ADMIN, "tinh.admin", DEMO_PASSWORD)]
    await ensure_province_admin("tinh.admin", DEMO_PASSWORD, "Quản trị tỉnh Lào Cai")
    for path in sorted(DEMO_DIR.glob("*.yaml")):
        plan = load_plan(path)
        if await Tenant.exists(code=plan.code):
            continue
        plan.admin = NewUser(
            plan.admin.username, DEMO_PASSWORD, plan.admin.full_name, plan.admin.email
        )
        async with scoped_transaction(SYSTEM_PROVINCE):
            result = await onboard(SYSTEM_PROVINCE, plan)
        accounts += await _role_users(result.tenant, plan.code)
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
            if await User.exists(username=username):
                continue
            user = await create_user(
                NewUser(username, DEMO_PASSWORD, f"{template.name_vi} ({tenant.name_vi})"),
                tenant.id,
            )
            await grant_role_unchecked(
                tenant.id, user.id, template.code, agency_id if template.agency_bound else None
            )
            accounts.append(DemoAccount(code, template.code, username, DEMO_PASSWORD))
    return accounts
