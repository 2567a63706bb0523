"""Permissions declared on GraphQL fields and mutations, visible in the SDL as
``@requiresPermission(action:)`` and ``@requiresLogin``. Finer checks (which agency, which
field) happen in services against the same Scope."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions.field_extension import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension
from strawberry.schema_directive import Location

from core.errors import PermissionDenied, Unauthenticated
from core.graphql import Info
from permissions.actions import Action


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    description="The caller needs this permission action (see `myPermissions`).",
)
class RequiresPermission:
    action: str


@strawberry.schema_directive(
    locations=[Location.FIELD_DEFINITION],
    description="The caller must be logged in.",
)
class RequiresLogin:
    pass


class HasAction(BasePermission):
    """Allows the field when the request's Scope grants ``action`` somewhere.

    Finer checks (which agency, which field) happen in services against the same Scope."""

    def __init__(self, action: str, *, silent: bool = False) -> None:
        self.action = str(action)
        self.silent = silent  # for fail_silently fields: answer null instead of an error
        self._directive = RequiresPermission(action=self.action)

    @property
    def schema_directive(self) -> object:
        # Per instance (strawberry's default is per class): each names its own action.
        return self._directive

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        scope = info.context.scope
        if scope.allows(self.action):
            return True
        if self.silent:
            return False
        raise (
            Unauthenticated() if not scope.authenticated else PermissionDenied(Action(self.action))
        )


class IsAuthenticated(BasePermission):
    _schema_directive = RequiresLogin()

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        if info.context.scope.authenticated:
            return True
        raise Unauthenticated()


def requires(action: str) -> list[FieldExtension]:
    return [PermissionExtension(permissions=[HasAction(action)], use_directives=True)]


def login_required() -> list[FieldExtension]:
    return [PermissionExtension(permissions=[IsAuthenticated()], use_directives=True)]


def sensitive(action: str) -> list[FieldExtension]:
    """A nullable field that resolves to null for callers without ``action``."""
    return [
        PermissionExtension(
            permissions=[HasAction(action, silent=True)], use_directives=True, fail_silently=True
        )
    ]
