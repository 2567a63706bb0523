"""`paht tenants end`: a locality ended by a reform (tenants/service.py ``end_tenant``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

import typer

from core.errors import DomainError

OnDatabase = Callable[[Callable[[], Any]], Any]


def add_lifecycle_commands(tenants: typer.Typer, on_database: OnDatabase) -> None:
    """``on_database`` is api/cli.py's: the ORM on the configured (or embedded) database."""

    @tenants.command("end")
    def end_command(
        code: Annotated[str, typer.Argument(help="code of the tenant")],
        last_day: Annotated[
            str | None,
            typer.Option(
                "--last-day", help="its last day, YYYY-MM-DD (e.g. 2025-06-30); omit to undo"
            ),
        ] = None,
    ) -> None:
        """A locality ended by a reform: after its last day it no longer holds its units (new
        reports go to whoever holds the place; the new units' tenant can be onboarded). It keeps
        working its reports until it is merged."""
        from api.demo import SYSTEM_PROVINCE
        from tenants.models import Tenant
        from tenants.service import end_tenant

        try:
            day = date.fromisoformat(last_day) if last_day else None
        except ValueError:
            raise typer.BadParameter("expected YYYY-MM-DD", param_hint="--last-day") from None

        async def work() -> Any:
            tenant = await Tenant.get_or_none(code=code)
            if tenant is None:
                return f"unknown tenant {code}"
            try:
                await end_tenant(SYSTEM_PROVINCE, tenant.id, day)
            except DomainError as error:
                return "; ".join(
                    f"{d.code}: {d.message_vi} / {d.message_en}" for d in error.details
                )
            return None

        problem = on_database(work)
        if problem:
            typer.echo(problem, err=True)
            raise typer.Exit(1)
        typer.echo(f"{code}: last day {day}" if day else f"{code}: not ended")
