"""The `paht` command: serve, demo, migrate, schema export, tenant onboarding, provincial
administrators (api/admins_cli.py)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from api.cli_errors import EXIT_CONFIG, document_errors, reported_errors
from api.database import DatabaseUrls, migrate, start_embedded, tortoise_config
from api.observability import configure_logging
from api.settings import DEV_ORIGINS, Settings, get_settings
from api.startup import StartupRefused, check_database

app = typer.Typer(
    help="PAHT — phản ánh hiện trường: GraphQL API for citizen field reports.", no_args_is_help=True
)
tenants_app = typer.Typer(help="Tenant (locality) administration.", no_args_is_help=True)
app.add_typer(tenants_app, name="tenants")

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "graphql" / "schema.graphql"


class Database:
    """DATABASE_URL / DATABASE_OWNER_URL when set (``owner`` is then "" unless the owner DSN is
    given: API processes never need it); otherwise an embedded PostgreSQL, stopped on exit."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.server: Any = None

    @property
    def embedded(self) -> bool:
        return not (self.settings.database_url or self.settings.database_owner_url)

    def __enter__(self) -> DatabaseUrls:
        settings = self.settings
        if not self.embedded:
            return DatabaseUrls(
                app=settings.database_url or "", owner=settings.database_owner_url or ""
            )
        typer.echo(f"Starting embedded PostgreSQL in {settings.data_dir / 'pgdata'} …")
        self.server, urls = start_embedded(settings.data_dir)
        return urls

    def stop(self) -> None:
        if self.server is not None:
            self.server.cleanup()
            self.server = None
            typer.echo("Embedded PostgreSQL stopped.")

    def __exit__(self, *exc: object) -> None:
        self.stop()


def database(settings: Settings) -> Database:
    return Database(settings)


async def _with_orm(url: str, work: Any) -> Any:
    from tortoise import Tortoise

    config = tortoise_config(url, pool_max=2, application_name="paht-cli")
    await Tortoise.init(config=config, _enable_global_fallback=True)
    try:
        return await work()
    finally:
        await Tortoise.close_connections()


def _print_demo_accounts(accounts: list[Any], url: str) -> None:
    typer.echo(
        "\nDemo accounts (password for all: %s):" % (accounts[0].password if accounts else "-")
    )
    for account in accounts:
        tenant = "" if account.tenant == "*" else f"  tenantCode: {account.tenant}"
        typer.echo(f"  {account.role:<20} {account.username:<32}{tenant}")
    typer.echo(f"\nGraphiQL: {url}\n")


def _owner_url(urls: DatabaseUrls) -> str:
    if not urls.owner:
        raise StartupRefused(
            "OWNER_URL_REQUIRED",
            "Cần `DATABASE_OWNER_URL` (DSN của vai trò sở hữu, ví dụ `paht_owner`) để chạy "
            "migration.",
            "DATABASE_OWNER_URL (the owner role's DSN, e.g. paht_owner) is required to migrate.",
        )
    return urls.owner


def _ready(settings: Settings, urls: DatabaseUrls, migrate_first: bool) -> None:
    """Migrate when asked to, then check the role and the schema (api/startup.py)."""
    timeout = settings.db_connect_timeout_seconds
    if migrate_first:
        asyncio.run(migrate(_owner_url(urls), connect_timeout=timeout))
    if not urls.app:
        raise StartupRefused(
            "APP_URL_REQUIRED",
            "Cần `DATABASE_URL` (DSN của vai trò ứng dụng, ví dụ `paht_app`).",
            "DATABASE_URL (the application role's DSN, e.g. paht_app) is required.",
        )
    asyncio.run(
        check_database(
            urls.app,
            timeout_seconds=timeout,
            allow_unsafe_role=settings.allow_unsafe_database_role,
        )
    )


@app.command()
def serve(
    demo: Annotated[bool, typer.Option(help="Load the Lào Cai pilot demo data.")] = False,
    history: Annotated[
        str | None,
        typer.Option(
            help="With --demo: generate this much past activity first (6m, 1m, 2w, 45d) "
            "through the real workflow, then fold the statistics."
        ),
    ] = None,
    per_day: Annotated[float, typer.Option(help="Reports a day per locality (--history).")] = 5.0,
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="Server processes on the port, each with its own socket so that connections "
            "spread evenly (PAHT_WORKERS; default 1).",
        ),
    ] = None,
    migrate_first: Annotated[
        bool | None,
        typer.Option(
            "--migrate/--no-migrate",
            help="Apply pending migrations first (needs DATABASE_OWNER_URL). Default: only with "
            "the embedded database (PAHT_MIGRATE_ON_START).",
        ),
    ] = None,
) -> None:
    """Serve the API (embedded PostgreSQL when DATABASE_URL is unset). In production it checks
    that migrations are applied and the database role is held to row-level security."""
    import uvicorn

    from api.app import create_app

    settings = get_settings()
    if problem := settings.jwt_secret_problem():
        typer.echo(problem, err=True)
        raise typer.Exit(2)
    if not settings.database_url:
        settings.debug = True  # embedded database = a development machine: GraphiQL on
        settings.allowed_origins = settings.allowed_origins or DEV_ORIGINS
        settings.outbox_private_hosts = True  # the README's local webhook receiver
    elif settings.jwt_secret is None and settings.jwt_private_key_file is None:
        # A secret generated per machine would make each replica refuse the others' tokens.
        typer.echo(
            "PAHT_JWT_SECRET (or PAHT_JWT_PRIVATE_KEY_FILE) is required with DATABASE_URL.",
            err=True,
        )
        raise typer.Exit(EXIT_CONFIG)
    host = host or settings.host
    port = port or settings.port
    workers = workers or settings.workers
    configure_logging(settings.debug)
    db = database(settings)
    with reported_errors(), db as urls:
        if migrate_first is None:
            migrate_first = settings.migrate_on_start
        _ready(settings, urls, db.embedded if migrate_first is None else migrate_first)
        if demo:
            from api.demo import load_demo

            accounts = asyncio.run(_with_orm(urls.app, load_demo))
            if history:
                _demo_history(urls.app, history, per_day)
            _print_demo_accounts(accounts, f"http://{host}:{port}/graphql")
        if workers > 1:
            from api.workers import serve_workers

            raise typer.Exit(serve_workers(settings, urls.app, host, port, workers))
        app_ = create_app(settings, urls.app, on_shutdown=db.stop)
        uvicorn.run(
            app_,
            host=host,
            port=port,
            log_config=None,
            # Then connections still open (a client stalled mid-upload) are closed.
            timeout_graceful_shutdown=settings.graceful_shutdown_seconds,
        )


def _demo_history(app_url: str, history: str, per_day: float) -> None:
    import time

    from api.demo_history import load_history, parse_history

    try:
        length = parse_history(history)
    except ValueError:
        typer.echo(f"--history: expected e.g. 6m, 1m, 2w or 45d, got {history!r}", err=True)
        raise typer.Exit(2) from None
    started = time.perf_counter()
    done = asyncio.run(_with_orm(app_url, lambda: load_history(length, per_day)))
    for code, stats in done.items():
        typer.echo(
            f"{code}: {stats.reports} reports, {stats.steps} steps over {length.days} days "
            f"({', '.join(f'{s} {n}' for s, n in sorted(stats.states.items()))})"
        )
    typer.echo(f"History generated and statistics folded in {time.perf_counter() - started:.0f} s.")


@app.command("demo")
def demo_command(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
    history: Annotated[
        str | None,
        typer.Option(help="Generate this much past activity first (6m, 1m, 2w, 45d)."),
    ] = None,
    per_day: Annotated[float, typer.Option(help="Reports a day per locality (--history).")] = 5.0,
) -> None:
    """Serve with the Lào Cai pilot demo data (same as `serve --demo`); `--history 6m` adds six
    months of generated activity in both localities, statistics folded."""
    serve(demo=True, history=history, per_day=per_day, host=host, port=port)


@app.command("migrate")
def migrate_command() -> None:
    """Apply pending migrations as the owner role (DATABASE_OWNER_URL), once: concurrent runs
    wait for each other, and it waits for a database that is still starting."""
    settings = get_settings()
    configure_logging(settings.debug)
    with reported_errors(), database(settings) as urls:
        asyncio.run(migrate(_owner_url(urls), connect_timeout=settings.db_connect_timeout_seconds))
    typer.echo("Migrations applied.")


@app.command("schema")
def schema_command(
    output: Annotated[Path, typer.Option(help="Where to write the SDL.")] = SCHEMA_PATH,
    check: Annotated[bool, typer.Option(help="Fail if the file is stale.")] = False,
) -> None:
    """Write the GraphQL schema (the frontend contract) to graphql/schema.graphql."""
    from api.schema import schema

    sdl = schema.as_str().rstrip() + "\n"
    if check:
        if not output.exists() or output.read_text(encoding="utf-8") != sdl:
            typer.echo(f"{output} is stale: run `paht schema`.", err=True)
            raise typer.Exit(1)
        typer.echo(f"{output} is up to date.")
        return
    output.write_text(sdl, encoding="utf-8")
    typer.echo(f"Wrote {output}")


@tenants_app.command("onboard")
def onboard_command(file: Annotated[Path, typer.Argument(exists=True, readable=True)]) -> None:
    """Onboard a locality from a YAML document (tenants/onboarding.schema.json; examples in
    tenants/demo/). Nothing is written unless the whole document is valid."""
    from api.demo import SYSTEM_PROVINCE
    from permissions.session import scoped_transaction
    from tenants.document import load_plan
    from tenants.onboarding import onboard

    settings = get_settings()
    with reported_errors(), document_errors(file):
        plan = load_plan(file)

        async def work() -> Any:
            async with scoped_transaction(SYSTEM_PROVINCE):
                return await onboard(SYSTEM_PROVINCE, plan)

        db = database(settings)
        with db as urls:
            _ready(settings, urls, migrate_first=db.embedded)
            result = asyncio.run(_with_orm(urls.app, work))
    typer.echo(f"Onboarded {result.tenant.code} ({result.tenant.name_vi}).")
    typer.echo(f"Tenant admin: {result.admin_username}")
    if result.admin_password:
        typer.echo(f"Generated password (shown once): {result.admin_password}")


@tenants_app.command("reform")
def reform_command(
    file: Annotated[Path | None, typer.Argument(exists=True, readable=True)] = None,
) -> None:
    """Load a reform of administrative units (tenants/reforms/*.yaml; default: the 2025 reform of
    the pilot area): the new units and their predecessors' successors, all or nothing."""
    from tortoise.transactions import in_transaction

    from tenants.reform import PILOT_REFORM, apply_reform, load_reform_file

    settings = get_settings()
    path = file or PILOT_REFORM
    with reported_errors():
        reform = load_reform_file(path)

        async def work() -> Any:
            async with in_transaction():
                return await apply_reform(reform)

        db = database(settings)
        with db as urls:
            _ready(settings, urls, migrate_first=db.embedded)
            result = asyncio.run(_with_orm(urls.app, work))
    typer.echo(
        f"Reform {reform.code} (from {reform.effective}): {len(result.created)} new units, "
        f"{len(result.ended)} units given successors."
    )


@tenants_app.command("merge")
def merge_command(
    sources: Annotated[list[str], typer.Argument(help="codes of the tenants to merge")],
    into: Annotated[str, typer.Option("--into", help="code of the target tenant")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only say what would move")] = False,
) -> None:
    """Merge tenants into a target (tenants/merge.py): their records move, their codes keep
    resolving, they become read-only MERGED pointing at the target. One atomic step per
    source; rerun an interrupted merge to resume it."""
    from api.demo import SYSTEM_PROVINCE
    from tenants.merge import merge_tenants, plan_merge
    from tenants.models import Tenant

    settings = get_settings()

    async def work() -> Any:
        found = {t.code: t.id for t in await Tenant.filter(code__in=[*sources, into])}
        missing = [c for c in [*sources, into] if c not in found]
        if missing:
            raise typer.BadParameter(f"unknown tenant codes: {', '.join(missing)}")
        run = plan_merge if dry_run else merge_tenants
        return await run(SYSTEM_PROVINCE, [found[c] for c in sources], found[into])

    with reported_errors():
        db = database(settings)
        with db as urls:
            _ready(settings, urls, migrate_first=db.embedded)
            plan = asyncio.run(_with_orm(urls.app, work))
    typer.echo(f"{'Would merge' if dry_run else 'Merged'} {plan.key}")
    for code, counts in plan.counts.items():
        moved = ", ".join(f"{t} {n}" for t, n in counts.items() if n)
        typer.echo(f"  {code}: {moved or 'nothing'}")
        if renamed := plan.renamed.get(code):
            typer.echo(f"    agency codes prefixed with {code}-: {', '.join(renamed)}")
        if joined := plan.joined.get(code):
            typer.echo(f"    fields joined to the target's of the same code: {', '.join(joined)}")
    if plan.done and dry_run:
        typer.echo(f"  already merged: {', '.join(plan.done)}")


@tenants_app.command("split")
def split_command(
    source: Annotated[str, typer.Option("--source", help="code of the tenant to split")],
    target: Annotated[str, typer.Option("--target", help="code of the active target tenant")],
    units: Annotated[str, typer.Option("--units", help="unit codes, comma-separated")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="only say what would move")] = False,
) -> None:
    """Split a tenant by administrative units (tenants/split.py): the units' reports move into
    the target with their history, old codes keep resolving in the source, which stays active.
    Memberships stay with the source. One atomic step; a rerun moves nothing twice."""
    from api.demo import SYSTEM_PROVINCE
    from tenants.models import Tenant
    from tenants.split import split_tenant

    settings = get_settings()
    codes = [u.strip() for u in units.split(",") if u.strip()]

    async def work() -> Any:
        found = {t.code: t.id for t in await Tenant.filter(code__in=[source, target])}
        missing = [c for c in (source, target) if c not in found]
        if missing:
            raise typer.BadParameter(f"unknown tenant codes: {', '.join(missing)}")
        return await split_tenant(
            SYSTEM_PROVINCE, found[source], found[target], codes, dry_run=dry_run
        )

    with reported_errors():
        db = database(settings)
        with db as urls:
            _ready(settings, urls, migrate_first=db.embedded)
            plan = asyncio.run(_with_orm(urls.app, work))
    typer.echo(f"{'Would split' if dry_run else 'Split'} {plan.key}")
    moved = ", ".join(f"{t} {n}" for t, n in plan.counts.items() if n)
    typer.echo(f"  {moved or 'nothing left to move'}")
    if plan.moved_units:
        typer.echo(f"  units to {target}: {', '.join(plan.moved_units)}")


@tenants_app.command("validate")
def validate_command(
    file: Annotated[Path, typer.Argument(exists=True, readable=True)],
    offline: Annotated[
        bool,
        typer.Option(
            help="Only the document itself: no database, so no check of codes "
            "and boundaries against existing tenants."
        ),
    ] = False,
) -> None:
    """Check an onboarding document as `onboard` would, without writing anything."""
    from tenants.document import load_plan
    from tenants.onboarding import validate_plan

    settings = get_settings()
    with reported_errors(), document_errors(file):
        plan = validate_plan(load_plan(file))
        if not offline:
            db = database(settings)
            with db as urls:
                _ready(settings, urls, migrate_first=db.embedded)
                asyncio.run(_with_orm(urls.app, lambda: _check_registry(plan)))
    checked = "the document only" if offline else "the document and the database"
    typer.echo(
        f"{file}: valid ({checked}): {plan.code}, {len(plan.units)} units, "
        f"{len(plan.agencies)} agencies, {len(plan.fields)} fields."
    )


def _on_database(work: Any) -> Any:
    """Run ``work()`` with the ORM on the configured (or embedded) database, migrated first when
    embedded, with the command's usual error reporting."""
    settings = get_settings()
    with reported_errors():
        db = database(settings)
        with db as urls:
            _ready(settings, urls, migrate_first=db.embedded)
            return asyncio.run(_with_orm(urls.app, work))


async def _check_registry(plan: Any) -> None:
    from tenants.coverage import check_coverage, check_tenant_code_free

    await check_tenant_code_free(plan.code)
    await check_coverage(plan)


from api.admins_cli import build_admins_app  # noqa: E402 - needs the helpers above
from api.lifecycle_cli import add_lifecycle_commands  # noqa: E402
from api.stats_cli import build_stats_app  # noqa: E402
from api.transfer_cli import add_transfer_commands  # noqa: E402

app.add_typer(build_admins_app(database, _with_orm), name="admins")
app.add_typer(build_stats_app(database, _with_orm), name="stats")
add_transfer_commands(tenants_app, _on_database)
add_lifecycle_commands(tenants_app, _on_database)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
