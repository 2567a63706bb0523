"""`paht admins`: provincial administrators from the command line.

A fresh installation has no account at all; ``paht admins create`` makes the first provincial
administrator (who then onboards tenants). The commands act on the database as the system
itself on the provincial path (api/demo.py ``SYSTEM_PROVINCE``), after applying migrations.
A password is typed at a hidden prompt, twice, or generated (``--generate``): a generated one is
printed once, to standard output only, and must be changed at the first login."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any

import typer

from api.database import migrate
from api.settings import get_settings
from core.errors import DomainError

RunWithOrm = Callable[[str, Callable[[], Awaitable[Any]]], Coroutine[Any, Any, Any]]


def _fail(error: DomainError) -> typer.Exit:
    for detail in error.details:
        typer.echo(f"{detail.code} {detail.field or ''}: {detail.message_en}", err=True)
    return typer.Exit(1)


def build_admins_app(database: Callable[[Any], Any], with_orm: RunWithOrm) -> typer.Typer:
    """``database`` and ``with_orm`` are api/cli.py's: the configured (or embedded) database,
    and Tortoise around one piece of work."""
    admins = typer.Typer(help="Provincial administrators.", no_args_is_help=True)

    def run(work: Callable[[Any], Awaitable[Any]]) -> Any:
        from api.demo import SYSTEM_PROVINCE
        from permissions.session import scoped_transaction

        async def as_province() -> Any:
            async with scoped_transaction(SYSTEM_PROVINCE):
                return await work(SYSTEM_PROVINCE)

        with database(get_settings()) as urls:
            asyncio.run(migrate(urls.owner))
            try:
                return asyncio.run(with_orm(urls.app, as_province))
            except DomainError as error:
                raise _fail(error) from error

    @admins.command("create")
    def create(
        username: Annotated[str, typer.Argument(help="Login name (unique among provincial ones).")],
        full_name: Annotated[str, typer.Option(help="Shown in the console.")] = "",
        email: Annotated[str | None, typer.Option()] = None,
        generate: Annotated[
            bool, typer.Option(help="Generate a one-time password and print it once.")
        ] = False,
    ) -> None:
        """Create a provincial administrator (the first one of a fresh installation too)."""
        from accounts import provincial
        from accounts.service import NewUser, validate_new_user
        from core.errors import Validator

        password = None
        if not generate:
            # Prompts on stderr: stdout carries only results (a script may read them).
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
        data = NewUser(username, password, full_name or username, email)
        v = Validator()
        validate_new_user(data, v)  # before the database starts: a typo costs nothing
        try:
            v.check()
        except DomainError as error:
            raise _fail(error) from error
        created = run(lambda scope: provincial.create_provincial_admin(scope, data))
        typer.echo(f"Created provincial administrator {created.user.username}.")
        if created.generated_password:
            typer.echo(
                "One-time password (shown once; it must be changed at the first login): "
                f"{created.generated_password}"
            )

    @admins.command("list")
    def list_admins(
        all_: Annotated[bool, typer.Option("--all", help="Include deactivated ones.")] = False,
    ) -> None:
        """List provincial administrators."""
        from accounts import provincial

        rows = run(lambda scope: provincial.provincial_admins(scope, include_inactive=all_))
        if not rows:
            typer.echo("No provincial administrator yet: create one with `paht admins create`.")
        for user in rows:
            state = "active" if user.is_active else "deactivated"
            typer.echo(f"{user.username:<32} {state:<12} {user.full_name}")

    @admins.command("deactivate")
    def deactivate(username: str) -> None:
        """Deactivate a provincial administrator: every session ends at once."""
        from accounts import provincial

        async def work(scope: Any) -> Any:
            user = await provincial.provincial_admin_named(scope, username)
            return await provincial.deactivate_provincial_admin(scope, user.id)

        user = run(work)
        typer.echo(f"Deactivated {user.username}; their sessions have ended.")

    @admins.command("reset-password")
    def reset_password(username: str) -> None:
        """Give a provincial administrator a one-time password, printed once."""
        from accounts import password_change, provincial

        async def work(scope: Any) -> Any:
            user = await provincial.provincial_admin_named(scope, username)
            return await password_change.reset_password(user, scope.user_id)

        reset = run(work)
        typer.echo(f"Reset the password of {reset.user.username}; their sessions have ended.")
        typer.echo(
            "One-time password (shown once; it must be changed at the next login): "
            f"{reset.password}"
        )

    return admins
