"""Loaded policies and cached Scopes, kept fresh across API processes.

One casbin enforcer per tenant (its rules plus the provincial "*" rules), indexed by role, so the
cost of building a Scope depends on the caller's grants, not on the number of policies. Scopes are
cached by (user, tenant, policy version). A policy change bumps ``tenant.policy_version`` and
sends ``NOTIFY paht_policy, '<tenant id>'`` in the same transaction; every process LISTENs and
drops that tenant on commit, so a revoke is seen everywhere within milliseconds."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import casbin
from tortoise.backends.base.client import BaseDBAsyncClient

from core.db import side_connection
from core.listen import listen_forever
from core.tenancy import all_tenant_ids
from permissions.adapter import PROVINCE_DOMAIN, TortoiseAdapter, load_rules
from permissions.scope import Reach, Scope
from permissions.session import set_rls_settings
from permissions.templates import PROVINCIAL_ADMIN

log = logging.getLogger(__name__)

MODEL_PATH = Path(__file__).with_name("model.conf")
CHANNEL = "paht_policy"
ANY = "*"


def new_enforcer() -> casbin.AsyncEnforcer:
    return casbin.AsyncEnforcer(str(MODEL_PATH), TortoiseAdapter())


@dataclass(frozen=True)
class Grant:
    role: str
    domain: str
    agency: uuid.UUID | None  # None: any
    field: uuid.UUID | None


def _narrowing(value: str | None) -> uuid.UUID | None:
    """Rule and grant values are parsed once, when the tenant loads (not per compile)."""
    return None if not value or value == ANY else uuid.UUID(value)


class TenantPolicy:
    """One tenant's rules, with the indexes the Scope compiler needs."""

    def __init__(self, enforcer: casbin.AsyncEnforcer, version: int) -> None:
        self.enforcer = enforcer
        self.version = version
        # role -> (field, agency, action); None means "any"
        self.rules_by_role: dict[str, list[tuple[uuid.UUID | None, uuid.UUID | None, str]]] = (
            defaultdict(list)
        )
        self.grants_by_user: dict[str, list[Grant]] = defaultdict(list)
        self.parents: dict[str, set[str]] = defaultdict(set)  # role inheritance
        for sub, _dom, field, agency, act, *_ in enforcer.get_policy():
            self.rules_by_role[sub].append((_narrowing(field), _narrowing(agency), act))
        for user, role, dom, *narrow in enforcer.get_grouping_policy():
            agency = _narrowing(narrow[0] if len(narrow) > 0 else None)
            field = _narrowing(narrow[1] if len(narrow) > 1 else None)
            self.grants_by_user[user].append(Grant(role, dom, agency, field))
            self.parents[user].add(role)

    def roles_with_ancestors(self, role: str) -> set[str]:
        seen, stack = {role}, [role]
        while stack:
            for parent in self.parents.get(stack.pop(), ()):
                if parent not in seen:
                    seen.add(parent)
                    stack.append(parent)
        return seen

    def compile(
        self, user_id: str
    ) -> tuple[frozenset[str], dict[str, frozenset[Reach]], bool, dict[str, frozenset[Reach]]]:
        roles: set[str] = set()
        reach: dict[str, set[Reach]] = defaultdict(set)
        role_reach: dict[str, set[Reach]] = defaultdict(set)
        provincial = False
        for grant in self.grants_by_user.get(user_id, ()):
            provincial = provincial or (
                grant.domain == PROVINCE_DOMAIN and grant.role == PROVINCIAL_ADMIN
            )
            for role in self.roles_with_ancestors(grant.role):
                roles.add(role)
                role_reach[role].add(Reach(agency_id=grant.agency, field_id=grant.field))
                for field, agency, act in self.rules_by_role.get(role, ()):
                    agency_id = _intersect(grant.agency, agency)
                    field_id = _intersect(grant.field, field)
                    if agency_id is _DISJOINT or field_id is _DISJOINT:
                        continue  # grant and rule name different agencies/fields
                    reach[act].add(Reach(agency_id=agency_id, field_id=field_id))  # type: ignore[arg-type]
        compiled = {act: _simplify(reaches) for act, reaches in reach.items()}
        by_role = {role: _simplify(reaches) for role, reaches in role_reach.items()}
        return frozenset(roles), compiled, provincial, by_role


_DISJOINT = object()


def _intersect(a: uuid.UUID | None, b: uuid.UUID | None) -> uuid.UUID | object | None:
    """The narrower of two narrowings (None = any), or _DISJOINT when they exclude each other."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    return _DISJOINT


def _simplify(reaches: set[Reach]) -> frozenset[Reach]:
    """An unlimited reach makes every narrower one redundant."""
    if any(r.unlimited for r in reaches):
        return frozenset({Reach()})
    return frozenset(reaches)


async def _fetch_tenant_rules(
    tenant_id: uuid.UUID,
) -> tuple[list[tuple[str, ...]], int]:
    """Read a tenant's rules on a connection of its own.

    Never inside the caller's transaction: setting another tenant there would leak into it."""
    async with side_connection() as con, con.transaction(readonly=True):
        await set_rls_settings(con, str(tenant_id))
        rows = await con.fetch(
            "SELECT ptype, v0, v1, v2, v3, v4, v5 FROM casbin_rule "
            "WHERE tenant_id = $1 OR tenant_id IS NULL ORDER BY ptype, id",
            tenant_id,
        )
        tenant = await con.fetchrow(
            "SELECT policy_version, status FROM tenant WHERE id = $1", tenant_id
        )
    version = int(tenant["policy_version"]) if tenant else 0
    # A suspended or archived tenant is read-only: its grants keep working for reads and the
    # write guard (migration 0023) refuses every change. A merged tenant's own grants stop: its
    # people and their grants moved to the successor (tenants/merge.py).
    active = tenant is not None and tenant["status"] != "merged"
    return [tuple(row) for row in rows if active or row[0] != "g" or row[3] == ANY], version


async def _user_is_active(user_id: uuid.UUID) -> bool:
    # app_user is row-level secured and no tenant is set here: ask the definer function.
    async with side_connection() as con:
        return bool(await con.fetchval("SELECT paht_user_active($1)", user_id))


class PolicyStore:
    def __init__(self, max_scopes: int = 10_000) -> None:
        self._tenants: dict[uuid.UUID, TenantPolicy] = {}
        self._scopes: OrderedDict[tuple[uuid.UUID, uuid.UUID | None], Scope] = OrderedDict()
        self._max_scopes = max_scopes
        self._all_tenants: frozenset[uuid.UUID] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._locks: dict[uuid.UUID, asyncio.Lock] = defaultdict(asyncio.Lock)
        # Bumped by every invalidation: a load or scope computed across one may predate the
        # change that caused it, so it is returned to its caller but never cached.
        self._epoch = 0
        self._dependents: list[Callable[[uuid.UUID | None], None]] = []

    # --- invalidation ---------------------------------------------------------------------
    def on_invalidate(self, drop: Callable[[uuid.UUID | None], None]) -> None:
        """Caches of tenant configuration (tenants/catalog.py) are dropped with the policies:
        configuration changes travel on the same channel."""
        self._dependents.append(drop)

    def invalidate(self, tenant_id: uuid.UUID | None = None) -> None:
        for drop in self._dependents:
            drop(tenant_id)
        self._epoch += 1
        if tenant_id is None:
            self._tenants.clear()
            self._scopes.clear()
        else:
            self._tenants.pop(tenant_id, None)
            for key in [k for k in self._scopes if k[1] == tenant_id or k[1] is None]:
                self._scopes.pop(key, None)
        self._all_tenants = None

    # --- loading --------------------------------------------------------------------------
    async def policy(self, tenant_id: uuid.UUID) -> TenantPolicy:
        cached = self._tenants.get(tenant_id)
        if cached is not None:
            return cached
        async with self._locks[tenant_id]:
            cached = self._tenants.get(tenant_id)
            if cached is not None:
                return cached
            epoch = self._epoch
            rules, version = await _fetch_tenant_rules(tenant_id)
            enforcer = new_enforcer()
            load_rules(enforcer.model, rules)
            enforcer.build_role_links()
            loaded = TenantPolicy(enforcer, version)
            if self._epoch == epoch:
                self._tenants[tenant_id] = loaded
            return loaded

    async def provincial_policy(self) -> TenantPolicy:
        """Only the "*" rules: for provincial users acting without a tenant."""
        return await self.policy(uuid.UUID(int=0))

    async def all_tenant_ids(self) -> frozenset[uuid.UUID]:
        if self._all_tenants is not None:
            return self._all_tenants
        epoch = self._epoch
        ids = await all_tenant_ids()
        if self._epoch == epoch:
            self._all_tenants = ids
        return ids

    # --- scopes ---------------------------------------------------------------------------
    async def scope_for(self, user_id: uuid.UUID, tenant_id: uuid.UUID | None) -> Scope:
        key = (user_id, tenant_id)
        cached = self._scopes.get(key)
        if cached is not None:
            self._scopes.move_to_end(key)
            return cached
        epoch = self._epoch
        policy = await (self.policy(tenant_id) if tenant_id else self.provincial_policy())
        if not await _user_is_active(user_id):
            scope = Scope(user_id=user_id, tenant_id=tenant_id, active=False)
            if self._epoch == epoch:  # a reactivation may have committed meanwhile
                self._remember(key, scope)
            return scope
        roles, reach, provincial, role_reach = policy.compile(str(user_id))
        readable: frozenset[uuid.UUID] = frozenset({tenant_id}) if tenant_id else frozenset()
        if provincial:
            readable = readable | await self.all_tenant_ids()
        scope = Scope(
            user_id=user_id,
            tenant_id=tenant_id,
            readable_tenant_ids=readable if roles else frozenset(),
            roles=roles,
            reach=MappingProxyType(reach),
            policy_version=policy.version,
            provincial=provincial,
            role_reach=MappingProxyType(role_reach),
        )
        if self._epoch != epoch:
            return scope  # invalidated while computing: maybe stale, so not cached
        self._remember(key, scope)
        return scope

    def _remember(self, key: tuple[uuid.UUID, uuid.UUID | None], scope: Scope) -> None:
        self._scopes[key] = scope
        if len(self._scopes) > self._max_scopes:
            self._scopes.popitem(last=False)

    # --- propagation ----------------------------------------------------------------------
    async def start_listening(self, connect: Callable[[], Awaitable[Any]]) -> None:
        """``connect`` is an async callable returning a dedicated asyncpg connection."""
        self._listener = asyncio.create_task(self._listen(connect))

    async def stop_listening(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
            self._listener = None

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        try:
            self.invalidate(uuid.UUID(payload) if payload and payload != ANY else None)
        except ValueError:
            self.invalidate()

    async def _listen(self, connect: Callable[[], Awaitable[Any]]) -> None:
        # Anything may have changed while we were not listening: drop everything both when
        # listening starts and when the connection is lost.
        await listen_forever(
            connect, CHANNEL, self._on_notify, on_connected=self.invalidate, on_lost=self.invalidate
        )


async def policy_changed(conn: BaseDBAsyncClient, tenant_id: uuid.UUID | None) -> None:
    """Record a policy change in the current transaction (version bump + NOTIFY on commit)."""
    if tenant_id is not None:
        await conn.execute_query(
            "UPDATE tenant SET policy_version = policy_version + 1 WHERE id = $1",
            [str(tenant_id)],
        )
    await conn.execute_query(
        "SELECT pg_notify($1, $2)", [CHANNEL, str(tenant_id) if tenant_id else ANY]
    )


store = PolicyStore()
