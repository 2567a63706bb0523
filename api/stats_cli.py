"""`paht stats`: keep the statistics tables (stats/maintain.py) from the command line.

``refresh`` folds the reports whose history grew (what the background pass does); ``rebuild``
recomputes a tenant's tables from its events, e.g. after a fix to an indicator's rule."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from api.admins_cli import RunWithOrm  # the same ORM runner as every subcommand
from api.database import migrate
from api.settings import get_settings

Tenants = Annotated[
    list[str] | None, typer.Option("--tenant", help="Tenant code (repeatable); default all.")
]
# The options of the workbook commands (export, compare).
First = Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")]
Last = Annotated[str, typer.Option("--to", help="Last day, YYYY-MM-DD (included).")]
Out = Annotated[Path, typer.Option(help="The XLSX file to write.")]
Lang = Annotated[str, typer.Option(help="vi or en.")]
CsvDir = Annotated[Path | None, typer.Option("--csv", help="Also write one CSV per table here.")]


def build_stats_app(database: Callable[[Any], Any], with_orm: RunWithOrm) -> typer.Typer:
    stats = typer.Typer(help="Statistics of the pilot evaluation.", no_args_is_help=True)

    def run(work: Callable[[], Awaitable[dict[str, Any]]]) -> None:
        with database(get_settings()) as urls:
            asyncio.run(migrate(urls.owner))
            done: dict[str, Any] = asyncio.run(with_orm(urls.app, work))
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

    @stats.command("export")
    def export(
        tenant: Annotated[str, typer.Option("--tenant", help="Tenant code, e.g. sa-pa.")],
        first: First,
        last: Last,
        out: Out = Path("evaluation.xlsx"),
        lang: Lang = "vi",
        csv_dir: CsvDir = None,
    ) -> None:
        """Write a tenant's evaluation workbook for a period (the whole tenant, as the system),
        with a progress bar; optionally one CSV per table."""
        from permissions.session import tenant_transaction
        from stats.export import STEPS, evaluation_workbook
        from stats.exports import system_scope
        from stats.maintain import refresh_tenant
        from stats.slicing import Period
        from tenants.models import Tenant

        period = Period(date.fromisoformat(first), date.fromisoformat(last))

        async def work() -> dict[str, Any]:
            row = await Tenant.get_or_none(code=tenant)
            if row is None:
                raise typer.BadParameter(f"unknown tenant {tenant}", param_hint="--tenant")
            await refresh_tenant(row.id)
            system = system_scope(row.id)
            with typer.progressbar(length=STEPS, label="Evaluation") as bar:

                def tick(done: int, steps: int) -> None:
                    bar.update(done - bar.pos)

                async with tenant_transaction(row.id):
                    content = await evaluation_workbook(system, row.id, period, lang, tick)
            _write(content, out, csv_dir)
            return {}

        with database(get_settings()) as urls:
            asyncio.run(migrate(urls.owner))
            asyncio.run(with_orm(urls.app, work))
        typer.echo(f"Wrote {out}")

    @stats.command("compare")
    def compare(
        tenants: Annotated[
            list[str], typer.Option("--tenant", help="Tenant code, repeated: the columns.")
        ],
        first: First,
        last: Last,
        out: Out = Path("comparison.xlsx"),
        lang: Lang = "vi",
        csv_dir: CsvDir = None,
    ) -> None:
        """Write the localities' indicators for a period side by side (one column each, with
        their pilot targets) and a chart of their rates, as the province compares them."""
        from permissions.session import tenant_transaction
        from stats.comparison import comparison_workbook
        from stats.exports import locality
        from stats.maintain import refresh_tenant
        from stats.slicing import Period
        from tenants.models import Tenant

        period = Period(date.fromisoformat(first), date.fromisoformat(last))

        async def work() -> dict[str, Any]:
            rows = {t.code: t for t in await Tenant.filter(code__in=tenants)}
            unknown = [code for code in tenants if code not in rows]
            if unknown:
                raise typer.BadParameter(
                    f"unknown tenant {', '.join(unknown)}", param_hint="--tenant"
                )
            columns = []
            with typer.progressbar(tenants, label="Comparison") as codes:
                for code in codes:
                    await refresh_tenant(rows[code].id)
                    async with tenant_transaction(rows[code].id):
                        columns.append(await locality(rows[code].id, period, lang))
            _write(comparison_workbook(columns, period, lang), out, csv_dir)
            return {}

        with database(get_settings()) as urls:
            asyncio.run(migrate(urls.owner))
            asyncio.run(with_orm(urls.app, work))
        typer.echo(f"Wrote {out}")

    return stats


def _write(content: bytes, out: Path, csv_dir: Path | None) -> None:
    from stats.export import workbook_csvs

    out.write_bytes(content)
    if csv_dir is not None:
        csv_dir.mkdir(parents=True, exist_ok=True)
        for name, data in workbook_csvs(content).items():
            (csv_dir / name).write_bytes(data)
