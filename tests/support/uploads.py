"""Multipart uploads of report photos over GraphQL."""

from __future__ import annotations

from typing import Any

from permissions.session import scoped_transaction
from reports.models import Report
from tests.conftest import GraphQLClient
from tests.support.workflow import (
    OPERATOR,
    SUBMIT,
    Env,
    multipart,
    report_input,
)

File = tuple[str, bytes, str]


def attach(files: list[File]) -> list[tuple[str, File]]:
    return [(f"variables.i.attachments.{n}", file) for n, file in enumerate(files)]


async def submit(
    gql: GraphQLClient,
    env: Env,
    files: list[File],
    *,
    token: str | None = None,
    tenant: str | None = None,
    **overrides: Any,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Submit with ``files``; returns the payload and the input sent."""
    data = report_input(env, attachments=[None] * len(files), **overrides)
    body = await multipart(gql, SUBMIT, {"i": data}, attach(files), token=token, tenant=tenant)
    assert "errors" not in body, body
    return body["data"]["submitReport"], data


async def reports_with_key(env: Env, key: str) -> int:
    async with scoped_transaction(env.scopes[OPERATOR]):
        return await Report.filter(tenant_id=env.tenant.id, idempotency_key=key).count()
