"""The Scope: everything a request may do, computed once per request from casbin grants.

Repositories and services take a ``Scope``, never a raw tenant id from a resolver, so a query that
forgets the tenant cannot be written by accident. Lists compile the Scope into SQL (see
``reach_filter``); single objects are checked with ``allows_on`` — never casbin per row."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from core.errors import DomainError, PermissionDenied, Unauthenticated
from permissions.actions import Action


@dataclass(frozen=True, slots=True)
class Reach:
    """Where a granted action applies: one agency and/or one field; ``None`` means any."""

    agency_id: uuid.UUID | None = None
    field_id: uuid.UUID | None = None

    def covers(self, agency_id: uuid.UUID | None, field_id: uuid.UUID | None) -> bool:
        return (self.agency_id is None or self.agency_id == agency_id) and (
            self.field_id is None or self.field_id == field_id
        )

    @property
    def unlimited(self) -> bool:
        return self.agency_id is None and self.field_id is None


_EMPTY: Mapping[str, frozenset[Reach]] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class Scope:
    user_id: uuid.UUID | None
    tenant_id: uuid.UUID | None
    """The tenant this request acts in: every write goes here."""
    readable_tenant_ids: frozenset[uuid.UUID] = frozenset()
    """Tenants this request may read; more than one only on the provincial path."""
    roles: frozenset[str] = frozenset()
    reach: Mapping[str, frozenset[Reach]] = field(default_factory=lambda: _EMPTY)
    policy_version: int = 0
    provincial: bool = False
    role_reach: Mapping[str, frozenset[Reach]] = field(default_factory=lambda: _EMPTY)
    """Per role held, where its grants apply (for things addressed to a role, e.g. reminders)."""
    active: bool = True
    """False when the account is deactivated (or gone): such a scope grants nothing."""

    # --- questions ------------------------------------------------------------------------
    @property
    def authenticated(self) -> bool:
        return self.user_id is not None

    def allows(self, action: Action | str) -> bool:
        """May the caller do ``action`` anywhere (on at least some agency/field)?"""
        return bool(self.reach.get(str(action)))

    def allows_on(
        self, action: Action | str, agency_id: uuid.UUID | None, field_id: uuid.UUID | None
    ) -> bool:
        return any(r.covers(agency_id, field_id) for r in self.reach.get(str(action), ()))

    def allows_everywhere(self, action: Action | str) -> bool:
        return any(r.unlimited for r in self.reach.get(str(action), ()))

    # --- guards ---------------------------------------------------------------------------
    def require_user(self) -> uuid.UUID:
        if self.user_id is None:
            raise Unauthenticated()
        return self.user_id

    def require_tenant(self) -> uuid.UUID:
        if self.tenant_id is None:
            raise DomainError(
                "TENANT_REQUIRED",
                "Cần chọn đơn vị triển khai cho thao tác này.",
                "This operation needs a tenant; log in to one or select one.",
            )
        return self.tenant_id

    def require(self, action: Action | str) -> None:
        if not self.allows(action):
            if self.user_id is None:
                raise Unauthenticated()
            raise PermissionDenied(Action(action))

    def require_on(
        self, action: Action | str, agency_id: uuid.UUID | None, field_id: uuid.UUID | None
    ) -> None:
        if not self.allows_on(action, agency_id, field_id):
            if self.user_id is None:
                raise Unauthenticated()
            raise PermissionDenied(Action(action))


ANONYMOUS = Scope(user_id=None, tenant_id=None)


def anonymous_in(tenant_id: uuid.UUID) -> Scope:
    """A scope for unauthenticated public reads and anonymous submissions in one tenant."""
    return Scope(user_id=None, tenant_id=tenant_id, readable_tenant_ids=frozenset({tenant_id}))
