"""`paht stats`: keep the statistics tables (stats/maintain.py) from the command line.

``refresh`` folds the reports whose history grew (what the background pass does); ``rebuild``
recomputes a tenant's tables from its events, e.g. after a fix to an indicator's rule."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import typer

from api.database import migrate
from api.settings import get_settings

Tenants = Annotated[
    list[str] | None, typer.Option("--tenant", help="Tenant code (repeatable); default all.")
]

RunWithOrm = Callable[[str, Callable[[], Awaitable[Any]]], Awaitable[Any]]


def build_stats_app(database: Callable[[Any], Any], with_orm: RunWithOrm) -> typer.Typer:
    stats = typer.Typer(help="Statistics of the pilot evaluation.", no_args_is_help=True)

    def run(work: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        with database(get_settings()) as urls:
            asyncio.run(migrate(urls.owner))
            done = asyncio.run(with_orm(urls.app, work))
        for code, result in done.items():
            typer.echo(f"{code}: {result.reports} reports folded, {result.rows_changed} rows")

    @stats.command("refresh")
    def refresh(tenant: Tenants = None) -> None:
        """Fold the reports whose history grew since the last pass."""
        from stats.maintain import refresh_all

        run(lambda: refresh_all(tenant))

    @stats.command("rebuild")
    def rebuild(tenant: Tenants = None) -> None:
        """Recompute the statistics tables from the events."""
        from stats.maintain import rebuild_all

        run(lambda: rebuild_all(tenant))

    return stats
