"""DataLoaders: a page of reports resolves its related rows in one query per relation.

Fields, agencies and units are the tenants domain's loaders, re-exported here for callers.

One loader per request and name (``Context.loader``), so caches never cross requests and all
reads run inside the request's RLS-scoped transaction."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from strawberry.dataloader import DataLoader
from tortoise import connections

from accounts.models import CitizenProfile, User
from core.graphql import Context
from reports.models import (
    Attachment,
    ExtensionRequest,
    InfoRequest,
    Report,
    ReporterContact,
    ReportEvent,
)
from tenants.loaders import agency_loader, field_loader, unit_loader

__all__ = ["agency_loader", "field_loader", "unit_loader"]  # re-exported


def _in_tenant(tenant_id: uuid.UUID | None, **filters: object) -> dict[str, object]:
    """Naming the tenant lets PostgreSQL use the tenant-leading index directly (RLS alone gives
    the same rows but through an OR-shaped filter)."""
    return {**filters, "tenant_id": tenant_id} if tenant_id else filters


async def _events(
    tenant_id: uuid.UUID | None, report_ids: Sequence[uuid.UUID]
) -> list[list[ReportEvent]]:
    grouped: dict[uuid.UUID, list[ReportEvent]] = defaultdict(list)
    for event in await ReportEvent.filter(
        **_in_tenant(tenant_id, report_id__in=list(report_ids))
    ).order_by("created_at", "id"):
        grouped[event.report_id].append(event)
    return [grouped.get(i, []) for i in report_ids]


async def _last_events(report_ids: Sequence[uuid.UUID]) -> list[ReportEvent | None]:
    rows = await connections.get("default").execute_query_dict(
        "SELECT DISTINCT ON (report_id) * FROM report_event WHERE report_id = ANY($1::uuid[]) "
        "ORDER BY report_id, created_at DESC, id DESC",
        [list(report_ids)],
    )
    by_report = {row["report_id"]: ReportEvent._init_from_db(**row) for row in rows}
    return [by_report.get(i) for i in report_ids]


_ATTACHMENTS = """
SELECT a.*, e.action AS event_action FROM attachment a
LEFT JOIN report_event e ON e.tenant_id = a.tenant_id AND e.id = a.event_id
WHERE a.report_id = ANY($1::uuid[]) {tenant}
ORDER BY a.created_at, a.id
"""


async def _attachments(
    tenant_id: uuid.UUID | None, report_ids: Sequence[uuid.UUID]
) -> list[list[Attachment]]:
    """With the action of the step each file came with (``event_action``): what a file is
    (a result's photo, added information) is known without loading the history."""
    sql = _ATTACHMENTS.format(tenant="AND a.tenant_id = $2" if tenant_id else "")
    params: list[object] = [list(report_ids)] + ([tenant_id] if tenant_id else [])
    grouped: dict[uuid.UUID, list[Attachment]] = defaultdict(list)
    for row in await connections.get("default").execute_query_dict(sql, params):
        action = row.pop("event_action")
        attachment = Attachment._init_from_db(**row)
        attachment.event_action = action
        grouped[attachment.report_id].append(attachment)
    return [grouped.get(i, []) for i in report_ids]


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str | None
    email: str | None


async def _contacts(report_ids: Sequence[uuid.UUID]) -> list[Contact | None]:
    """The contact given with the report (a hotline caller's, or what the citizen typed), else
    the reporting account's own details, unless the report was made anonymously."""
    found = {
        r.report_id: Contact(r.name, r.phone, r.email)
        for r in await ReporterContact.filter(report_id__in=list(report_ids))
    }
    missing = [i for i in report_ids if i not in found]
    if missing:
        owners = dict(
            await Report.filter(
                id__in=missing, anonymous=False, reporter_user_id__isnull=False
            ).values_list("id", "reporter_user_id")
        )
        users = {u.id: u for u in await User.filter(id__in=set(owners.values()))}
        for report_id, user_id in owners.items():
            if (user := users.get(user_id)) is not None:
                found[report_id] = Contact(user.full_name, user.phone, user.email)
    return [found.get(i) for i in report_ids]


def events_loader(ctx: Context) -> DataLoader[uuid.UUID, list[ReportEvent]]:
    return ctx.loader(
        "report.events",
        lambda c: DataLoader(lambda keys: _events(c.scope.tenant_id, keys)),
    )


def last_event_loader(ctx: Context) -> DataLoader[uuid.UUID, ReportEvent | None]:
    return ctx.loader("report.last_event", lambda _: DataLoader(_last_events))


def attachments_loader(ctx: Context) -> DataLoader[uuid.UUID, list[Attachment]]:
    return ctx.loader(
        "report.attachments",
        lambda c: DataLoader(lambda keys: _attachments(c.scope.tenant_id, keys)),
    )


def contact_loader(ctx: Context) -> DataLoader[uuid.UUID, Contact | None]:
    return ctx.loader("report.contact", lambda _: DataLoader(_contacts))


async def _contact_rows(report_ids: Sequence[uuid.UUID]) -> list[ReporterContact | None]:
    rows = {r.report_id: r for r in await ReporterContact.filter(report_id__in=list(report_ids))}
    return [rows.get(i) for i in report_ids]


def contact_row_loader(ctx: Context) -> DataLoader[uuid.UUID, ReporterContact | None]:
    """The contact row given with the report itself (no fallback to the account's details)."""
    return ctx.loader("report.contact_row", lambda _: DataLoader(_contact_rows))


async def _verified(tenant_id: uuid.UUID | None, user_ids: Sequence[uuid.UUID]) -> list[bool]:
    """A reporter is verified when their citizen profile in this tenant holds a contact proven
    by a code or an external identity provider (citizens/)."""
    proven = {
        p.user_id
        for p in await CitizenProfile.filter(**_in_tenant(tenant_id, user_id__in=list(user_ids)))
        if p.email_verified_at or p.phone_verified_at or p.external_verified_at
    }
    return [u in proven for u in user_ids]


def reporter_verified_loader(ctx: Context) -> DataLoader[uuid.UUID, bool]:
    return ctx.loader(
        "report.reporter_verified",
        lambda c: DataLoader(lambda keys: _verified(c.scope.tenant_id, keys)),
    )


async def _extensions(report_ids: Sequence[uuid.UUID]) -> list[ExtensionRequest | None]:
    rows = {r.report_id: r for r in await ExtensionRequest.filter(report_id__in=list(report_ids))}
    return [rows.get(i) for i in report_ids]


async def _info_requests(report_ids: Sequence[uuid.UUID]) -> list[list[InfoRequest]]:
    grouped: dict[uuid.UUID, list[InfoRequest]] = defaultdict(list)
    for row in await InfoRequest.filter(report_id__in=list(report_ids)).order_by("created_at"):
        grouped[row.report_id].append(row)
    return [grouped.get(i, []) for i in report_ids]


def extension_loader(ctx: Context) -> DataLoader[uuid.UUID, ExtensionRequest | None]:
    return ctx.loader("report.extension", lambda _: DataLoader(_extensions))


def info_requests_loader(ctx: Context) -> DataLoader[uuid.UUID, list[InfoRequest]]:
    return ctx.loader("report.info_requests", lambda _: DataLoader(_info_requests))
