"""Relay global IDs: every object is addressed as ``base64("Type:uuid")``."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from strawberry import relay

from core.errors import DomainError, NotFound
from core.glossary import Term


def decode(gid: relay.GlobalID | str, expected: str, field_name: str) -> uuid.UUID:
    """The UUID inside a global ID of the expected type; another type is a typed error."""
    try:
        parsed = gid if isinstance(gid, relay.GlobalID) else relay.GlobalID.from_id(str(gid))
        if parsed.type_name != expected:
            raise NotFound(Term.of_type(expected), field_name)
        return uuid.UUID(parsed.node_id)
    except (ValueError, TypeError) as exc:
        raise DomainError(
            "INVALID_ID", "Mã định danh không hợp lệ.", f"Invalid {expected} ID.", field_name
        ) from exc


def decode_optional(gid: relay.GlobalID | None, expected: str, field_name: str) -> uuid.UUID | None:
    return None if gid is None else decode(gid, expected, field_name)


def in_order(ids: Iterable[str], rows: Iterable[Any], required: bool) -> list[Any]:
    """Order fetched rows like the requested ids (relay's resolve_nodes contract)."""
    by_id = {str(row.id): row for row in rows}
    result = [by_id.get(i) for i in ids]
    if required and any(r is None for r in result):
        raise NotFound(Term.OBJECT)
    return result
