"""The `paht` command: serve, demo, migrate, schema export, tenant onboarding, provincial
administrators (api/admins_cli.py)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from api.database import DatabaseUrls, migrate, start_embedded, tortoise_config
from api.observability import configure_logging
from api.settings import DEV_ORIGINS, Settings, get_settings

app = typer.Typer(
    help="PAHT — phản ánh hiện trường: GraphQL API for citizen field reports.", no_args_is_help=True
)
tenants_app = typer.Typer(help="Tenant (locality) administration.", no_args_is_help=True)
app.add_typer(tenants_app, name="tenants")

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "graphql" / "schema.graphql"


class Database:
    """DATABASE_URL when set; otherwise an embedded PostgreSQL, stopped cleanly on exit."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.server: Any = None

    def __enter__(self) -> DatabaseUrls:
        settings = self.settings
        if settings.database_url:
            return DatabaseUrls(
                app=settings.database_url,
                owner=settings.database_owner_url or settings.database_url,
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

    await Tortoise.init(config=tortoise_config(url, pool_max=2), _enable_global_fallback=True)
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


@app.command()
def serve(
    demo: Annotated[bool, typer.Option(help="Load the Lào Cai pilot demo data.")] = False,
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Migrate and serve the API (embedded PostgreSQL when DATABASE_URL is unset)."""
    import uvicorn

    from api.app import create_app

    settings = get_settings()
    if problem := settings.jwt_secret_problem():
        typer.echo(problem, err=True)
        raise typer.Exit(2)
    if not settings.database_url:
        settings.debug = True  # embedded database = a development machine: GraphiQL on
        settings.allowed_origins = settings.allowed_origins or DEV_ORIGINS
    elif settings.jwt_secret is None and settings.jwt_private_key_file is None:
        # A secret generated per machine would make each replica refuse the others' tokens.
        typer.echo(
            "PAHT_JWT_SECRET (or PAHT_JWT_PRIVATE_KEY_FILE) is required with DATABASE_URL.",
            err=True,
        )
        raise typer.Exit(2)
    host = host or settings.host
    port = port or settings.port
    db = database(settings)
    with db as urls:
        asyncio.run(migrate(urls.owner))
        if demo:
            from api.demo import load_demo

            accounts = asyncio.run(_with_orm(urls.app, load_demo))
            _print_demo_accounts(accounts, f"http://{host}:{port}/graphql")
        app_ = create_app(settings, urls.app, on_shutdown=db.stop)
        configure_logging(settings.debug)
        uvicorn.run(app_, host=host, port=port, log_config=None)


@app.command("demo")
def demo_command(
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Serve with the Lào Cai pilot demo data (same as `serve --demo`)."""
    serve(demo=True, host=host, port=port)


@app.command("migrate")
def migrate_command() -> None:
    """Apply pending migrations as the owner role."""
    with database(get_settings()) as urls:
        asyncio.run(migrate(urls.owner))
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
    """Onboard a locality from a YAML document (see tenants/demo/*.yaml)."""
    from api.demo import SYSTEM_PROVINCE
    from core.errors import DomainError
    from permissions.session import scoped_transaction
    from tenants.onboarding import load_plan, onboard

    async def work() -> Any:
        async with scoped_transaction(SYSTEM_PROVINCE):
            return await onboard(SYSTEM_PROVINCE, load_plan(file))

    with database(get_settings()) as urls:
        asyncio.run(migrate(urls.owner))
        try:
            result = asyncio.run(_with_orm(urls.app, work))
        except DomainError as error:
            for detail in error.details:
                typer.echo(f"{detail.code} {detail.field or ''}: {detail.message_en}", err=True)
            raise typer.Exit(1) from error
    typer.echo(f"Onboarded {result.tenant.code} ({result.tenant.name_vi}).")
    typer.echo(f"Tenant admin: {result.admin_username}")
    if result.admin_password:
        typer.echo(f"Generated password (shown once): {result.admin_password}")


from api.admins_cli import build_admins_app  # noqa: E402 - needs the helpers above

app.add_typer(build_admins_app(database, _with_orm), name="admins")

if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
