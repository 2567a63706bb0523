"""Identifiers: UUIDv7 primary keys (time-ordered, index-friendly, keyset-paginable)."""

from __future__ import annotations

import uuid

from uuid_utils.compat import uuid7 as _uuid7


def new_id() -> uuid.UUID:
    return _uuid7()
