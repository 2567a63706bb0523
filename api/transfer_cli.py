"""`paht tenants export` / `paht tenants import`: one tenant's whole data to another PAHT
installation (tenants/transfer.py), on the configured database and file storage."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from api.settings import get_settings
from core.errors import DomainError

OnDatabase = Callable[[Callable[[], Any]], Any]


def add_transfer_commands(tenants: typer.Typer, on_database: OnDatabase) -> None:
    """``on_database`` is api/cli.py's: the ORM on the configured (or embedded) database."""

    def run(work: Callable[[Any], Any]) -> Any:
        from api.services import make_storage

        storage = make_storage(get_settings())

        async def guarded() -> Any:
            try:
                return await work(storage)
            except DomainError as error:
                return error

        result = on_database(guarded)
        if isinstance(result, DomainError):
            for d in result.details:
                typer.echo(f"{d.code}: {d.message_vi} / {d.message_en}", err=True)
            raise typer.Exit(1)
        return result

    @tenants.command("export")
    def export_command(
        tenant: Annotated[str, typer.Option("--tenant", help="code of the tenant")],
        out: Annotated[Path, typer.Option("--out", help="an empty or new directory")],
        allow_missing_files: Annotated[
            bool,
            typer.Option(help="list stored files the storage no longer holds instead of stopping"),
        ] = False,
    ) -> None:
        """Export one tenant's whole data: JSON lines per table, its stored files, a manifest
        with row counts and SHA-256 checksums (tenants/transfer.py)."""
        from tenants.transfer import export_tenant

        result = run(
            lambda storage: export_tenant(
                tenant, out, storage, allow_missing_files=allow_missing_files
            )
        )
        rows = sum(result.rows.values())
        typer.echo(f"Exported {result.code}: {rows} rows, {result.files} files into {out}")

    @tenants.command("import")
    def import_command(
        directory: Annotated[Path, typer.Argument(exists=True, file_okay=False)],
    ) -> None:
        """Import a tenant exported by `paht tenants export`: every checksum is verified first,
        the tenant code must be free here, and everything is written in one transaction."""
        from tenants.transfer import import_tenant

        result = run(lambda storage: import_tenant(directory, storage))
        rows = sum(result.rows.values())
        typer.echo(f"Imported {result.code}: {rows} rows, {result.files} files")
        if result.cut_accounts:
            typer.echo(
                f"  {result.cut_accounts} links to accounts of other localities were cut "
                "(the reports keep their contact)"
            )
        if result.cut_transfers:
            typer.echo(
                f"  {result.cut_transfers} transfer links to localities not held here were cut "
                "(the other side's report codes are kept)"
            )
        for username, password in result.passwords.items():
            typer.echo(f"  one-time password for {username}: {password}")
        typer.echo(
            "Statistics: run `paht stats rebuild`. Passwords are not exported: the tenant "
            "administrators above change theirs at the first login and reset the others'."
        )
