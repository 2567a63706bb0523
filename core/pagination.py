"""Keyset (cursor) pagination: stable under concurrent inserts, O(page) at any depth.

A cursor is an opaque base64 of the sort key of the last row seen plus its id. Pages are asked
for with ``first``/``after`` (forwards) or ``last``/``before`` (backwards, bounded like
``first``)."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.errors import DomainError


@dataclass(frozen=True)
class Cursor:
    value: Any  # the sort column's value (datetime as ISO text)
    id: uuid.UUID

    def encode(self) -> str:
        value = self.value.isoformat() if isinstance(self.value, datetime) else self.value
        raw = json.dumps([value, str(self.id)], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, field: str = "after", *, datetime_value: bool = True) -> Cursor:
        try:
            padded = text + "=" * (-len(text) % 4)
            value, ident = json.loads(base64.urlsafe_b64decode(padded.encode()))
            if datetime_value and value is not None:
                value = datetime.fromisoformat(value)
            return cls(value, uuid.UUID(ident))
        except (ValueError, TypeError) as exc:
            raise DomainError(
                "INVALID_CURSOR",
                "Con trỏ phân trang không hợp lệ.",
                "Invalid pagination cursor.",
                field,
            ) from exc


@dataclass(frozen=True)
class PageRequest:
    limit: int
    after: Cursor | None = None
    backwards: bool = False

    @classmethod
    def from_args(
        cls,
        first: int | None,
        after: str | None,
        last: int | None,
        before: str | None,
        max_size: int,
        default_size: int = 20,
    ) -> PageRequest:
        if first is not None and last is not None:
            raise DomainError(
                "INVALID_PAGINATION",
                "Không dùng đồng thời first và last.",
                "Use either first or last, not both.",
                "first",
            )
        size = first if first is not None else last if last is not None else default_size
        if size < 0 or size > max_size:
            raise DomainError(
                "INVALID_PAGINATION",
                f"Kích thước trang từ 0 đến {max_size}.",
                f"Page size must be between 0 and {max_size}.",
                "first" if last is None else "last",
            )
        if last is not None or (before is not None and first is None):
            return cls(size, Cursor.decode(before, "before") if before else None, backwards=True)
        return cls(size, Cursor.decode(after, "after") if after else None)
