"""Telling a tenant's administrators about the outbox itself (an endpoint switched off)."""

from __future__ import annotations

from datetime import datetime

from accounts.models import Membership, User
from outbox.enqueue import notify
from outbox.models import WebhookEndpoint
from outbox.vocabulary import Channel, EventType, Language
from permissions.actions import Action
from permissions.templates import TEMPLATES_BY_CODE


async def tell_admins_endpoint_disabled(endpoint: WebhookEndpoint, now: datetime) -> int:
    """One e-mail to every administrator of the endpoint's tenant who has an address, in the
    caller's transaction (the runner's, scoped to that tenant)."""
    roles = [c for c, t in TEMPLATES_BY_CODE.items() if Action.TENANT_MANAGE in t.actions]
    user_ids = await Membership.filter(
        tenant_id=endpoint.tenant_id, role__in=roles, active=True
    ).values_list("user_id", flat=True)
    users = await User.filter(id__in=list(user_ids), is_active=True, email__not_isnull=True)
    values = {"url": endpoint.url, "failures": endpoint.consecutive_failures, "tenant_name": ""}
    for user in users:
        await notify(
            endpoint.tenant_id, Channel.EMAIL, user.email or "", EventType.ENDPOINT_DISABLED,
            Language.VI, values, at=now,
        )  # fmt: skip
    return len(users)
