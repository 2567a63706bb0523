"""Rows of several tables written in one statement, and model instances read from raw rows.

The ORM sends one INSERT per instance. A use case that writes a handful of rows at once (a new
report, its contact, its first event, its messages) sends them as data-modifying CTEs of one
statement instead: one round trip, and whatever lock a leading CTE takes (a counter row) is
held only from that statement to the commit. Values go through each field's own
``to_db_value``, exactly as ``Model.save`` would send them, and row-level security applies to
every row as usual (the statement runs in the caller's transaction)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, TypeVar

from tortoise import connections, fields
from tortoise.fields.base import DatabaseDefault
from tortoise.models import Model

M = TypeVar("M", bound=Model)


class Batch:
    """``WITH <ctes> <final>``: a leading CTE may compute a value (``substitute``) that the
    rows' text only knows as a marker, e.g. a report code allocated in the same statement."""

    def __init__(self) -> None:
        self.params: list[Any] = []
        self._ctes: list[str] = []
        self._written: list[Model] = []
        self._marker: str | None = None
        self._replacement = ""

    def param(self, value: Any) -> str:
        self.params.append(value)
        return f"${len(self.params)}"

    def cte(self, name: str, sql: str, values: list[Any]) -> None:
        """A named CTE; ``sql``'s ``$1``..``$n`` are ``values``. Those ``insert`` adds follow."""
        placeholders = [self.param(value) for value in values]
        sql = re.sub(r"\$(\d+)", lambda m: placeholders[int(m.group(1)) - 1], sql)
        self._ctes.append(f"{name} AS ({sql})")

    def substitute(self, marker: str, expression: str) -> None:
        """Text values holding ``marker`` get it replaced by ``expression`` (SQL, e.g.
        ``(SELECT code FROM counter)``). The marker must be unguessable: it is looked for in
        what the caller typed too."""
        self._marker, self._replacement = marker, expression

    def _value(self, instance: Model, name: str) -> str:
        field = instance._meta.fields_map[name]
        raw = getattr(instance, name)
        if isinstance(raw, DatabaseDefault):
            return "DEFAULT"
        value = field.to_db_value(raw, instance)
        if self._marker and isinstance(value, str) and self._marker in value:
            spliced = f"replace({self.param(value)}::text, {self.param(self._marker)}::text, "
            spliced += f"{self._replacement})"
            return f"CAST({spliced} AS jsonb)" if isinstance(field, fields.JSONField) else spliced
        return self.param(value)

    def insert(self, *instances: Model) -> None:
        """One multi-row INSERT of ``instances`` (all of one model)."""
        if not instances:
            return
        meta = instances[0]._meta
        assert all(i._meta is meta for i in instances), "one model per insert"
        names = [n for n in meta.fields_db_projection if not meta.fields_map[n].generated]
        columns = ", ".join(f'"{meta.fields_db_projection[n]}"' for n in names)
        rows = []
        for instance in instances:
            rows.append("(" + ", ".join(self._value(instance, n) for n in names) + ")")
        name = f"w{len(self._ctes)}"
        values = ", ".join(rows)
        self._ctes.append(f'{name} AS (INSERT INTO "{meta.db_table}" ({columns}) VALUES {values})')
        self._written.extend(instances)

    async def execute(self, final: str) -> list[dict[str, Any]]:
        """Send the statement; ``final`` is its main query (e.g. ``SELECT code FROM counter``).
        Every CTE runs to completion whether or not ``final`` reads it."""
        sql = "WITH " + ",\n".join(self._ctes) + "\n" + final
        rows = await connections.get("default").execute_query_dict(sql, self.params)
        for instance in self._written:
            instance._saved_in_db = True
        return rows


def from_row(model: type[M], row: Mapping[str, Any], prefix: str = "") -> M:
    """An instance of ``model`` from a raw row whose columns are the model's, each named
    ``prefix`` + its column (for joins that read several tables in one statement)."""
    columns = model._meta.fields_db_projection.values()
    return model._init_from_db(**{c: row[prefix + c] for c in columns})


def columns_of(model: type[Model], alias: str, prefix: str = "") -> str:
    """``alias."col" AS "<prefix>col", ...`` for every column of ``model``."""
    return ", ".join(
        f'{alias}."{c}" AS "{prefix}{c}"' for c in model._meta.fields_db_projection.values()
    )
