"""Report submission: validated, idempotent, located, with its first deadline and event.
Use it through ``reports.service``."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core import clock, throttle
from core.batch import Batch, columns_of, from_row
from core.errors import DomainError, Validator
from core.ids import new_id
from permissions.actions import Action
from permissions.scope import Scope
from reports import locator
from reports.attachments import WrittenFiles, check_media, cleanup_on_error, write_media_files
from reports.codes import code_in, new_tracking_code
from reports.duplicates import DuplicateView, as_shown, nearby_open_reports
from reports.media import ProcessedMedia
from reports.models import (
    Attachment,
    Report,
    ReporterContact,
    ReportEvent,
)
from reports.records import due_for, stage_event, tenant_and_rules
from reports.storage import Storage
from reports.submit_input import (
    ContactInput,
    SubmitInput,
    channel_of,
    fingerprint,
    validate,
)
from reports.workflow import SUBMIT, ActorKind, ReportState
from tenants import catalog as tenant_catalog
from tenants.models import Tenant
from tenants.questions import parse_questions, validate_answers
from tenants.sla import Stage


@dataclass(frozen=True)
class SubmitResult:
    report: Report
    created: bool  # False when an idempotent retry returned the first report
    tracking_code: str | None = None  # shown once to anonymous reporters
    # Open reports of the same field nearby, nearest first, with their distance in metres.
    possible_duplicates: list[tuple[Report, float]] = field(default_factory=list)
    # The same, as the submitter may see them (reports.duplicates.as_shown).
    shown_duplicates: list[DuplicateView] = field(default_factory=list)


def _out_of_area(tenant: Tenant, where_vi: str, where_en: str) -> DomainError:
    return DomainError(
        "OUT_OF_AREA",
        f"Vị trí phản ánh {where_vi}, không thuộc địa bàn {tenant.name_vi}.",
        f"The location {where_en}, outside the area of {tenant.name_en}.",
        "latitude",
    )


async def _unit_code(
    tenant: Tenant, latitude: float, longitude: float, on_behalf: bool = False
) -> str | None:
    """The tenant's unit containing the point; OUT_OF_AREA when it lies elsewhere.

    A point inside another tenant's unit is refused, naming that locality, except in a hotline
    entry: the caller rang this locality, so the operator takes the call (with no unit) and
    transfers the report to the locality it belongs to (reports/transfer.py). A point inside no
    known unit is refused when the tenant's own area is known (its units have boundaries);
    without boundaries the report is accepted with no unit."""
    found = await locator.locate(latitude, longitude, prefer_tenant=tenant.id)
    if found.tenant_id == tenant.id:
        return found.unit_code
    if found.tenant_id is not None and on_behalf:
        return None
    if found.tenant_id is not None:
        unit = found.unit_name or found.unit_code or ""
        raise _out_of_area(
            tenant,
            f"thuộc {unit} ({found.tenant_name_vi})",
            f"is in {unit} ({found.tenant_name_en})",
        )
    if await locator.has_boundaries(tenant.id):
        raise _out_of_area(
            tenant, "nằm ngoài các đơn vị hành chính đã biết", "is in no known administrative unit"
        )
    return None


def _existing_sql() -> str:
    return (
        f"SELECT {columns_of(Report, 'r')}, e.id AS e_id, e.actor_user_id AS e_actor_user_id, "
        f"e.data AS e_data FROM {Report._meta.db_table} r "
        f"LEFT JOIN {ReportEvent._meta.db_table} e ON e.tenant_id = r.tenant_id "
        "AND e.report_id = r.id AND e.action = $3 "
        "WHERE r.tenant_id = $1 AND r.idempotency_key = $2 ORDER BY e.created_at, e.id LIMIT 1"
    )


async def _existing(
    tenant_id: uuid.UUID, key: str, scope: Scope, data: SubmitInput
) -> Report | None:
    """The report first submitted with ``key`` and its SUBMIT event, in one statement."""
    rows = await connections.get("default").execute_query_dict(
        _existing_sql(), [tenant_id, key, SUBMIT]
    )
    if not rows:
        return None
    row = rows[0]
    report = from_row(Report, row)
    has_event = row["e_id"] is not None
    event_data = (
        ReportEvent._meta.fields_map["data"].to_python_value(row["e_data"]) if has_event else None
    )
    # Anonymous or entered on behalf of a caller: the key is the submitter's (the operator's
    # retry must find the first report; nobody else may).
    submitter = report.reporter_user_id or (row["e_actor_user_id"] if has_event else None)
    same_request = has_event and (event_data or {}).get("request") == fingerprint(data)
    if submitter != scope.user_id or not same_request:
        raise DomainError(
            "IDEMPOTENCY_KEY_REUSED",
            "Khóa gửi lại đã được dùng cho một phản ánh khác.",
            "This idempotency key was already used for another report.",
            "idempotencyKey",
        )
    return report


# Anonymous requests are limited per client address. Vietnamese mobile carriers put many
# phones behind one address (carrier-grade NAT), so the limits are generous: they stop a
# script, not a busy street.
ANONYMOUS_SUBMISSIONS = throttle.SlidingWindow(
    "anonymous-submit", limit=30, window=timedelta(minutes=10)
)


async def admit_anonymous(scope: Scope, client_address: str) -> None:
    """Count an anonymous submission before its uploads are read (TOO_MANY_ATTEMPTS)."""
    if scope.user_id is None:
        await throttle.take(ANONYMOUS_SUBMISSIONS, client_address, clock.now())


async def submit_report(
    scope: Scope, data: SubmitInput, storage: Storage | None = None
) -> SubmitResult:
    tenant_id = scope.require_tenant()
    if data.on_behalf:
        # A grant narrowed to fields covers hotline entries of those fields only.
        scope.require_on(Action.REPORT_SUBMIT_ON_BEHALF, None, data.field_id)
    elif scope.user_id is not None:
        scope.require(Action.REPORT_SUBMIT)
    # An unauthenticated scope (``anonymous_in``) may submit anonymously with a tracking code.
    # Everything is read and computed first; the rows are then written in one statement whose
    # first step allocates the code, so the tenant's counter row is locked only from that last
    # statement to the commit.
    v = Validator()
    title, description, urgency = validate(data, v)
    catalog = await tenant_catalog.load(tenant_id)  # no query once this process has it
    field_row = catalog.fields.get(data.field_id)
    if field_row is None or not field_row.active:
        v.add("NOT_FOUND", "fieldId", "Lĩnh vực không tồn tại.", "Unknown or inactive field.")
    v.check()
    assert urgency is not None and field_row is not None
    answers = validate_answers(parse_questions(field_row.questions), data.answers)
    check_media(data.media, storage)

    if data.idempotency_key and (
        first := await _existing(tenant_id, data.idempotency_key, scope, data)
    ):
        return await _retried(scope, first, field_row.sensitive)

    tenant, rules = await tenant_and_rules(tenant_id)
    assert tenant is not None  # the scope's own tenant
    unit_code = await _unit_code(tenant, data.latitude, data.longitude, data.on_behalf)
    radius = float(rules.tenant_options.duplicate_radius_m)
    duplicates = await nearby_open_reports(
        scope, field_row.id, data.latitude, data.longitude, radius_m=radius
    )
    shown = await as_shown(scope, field_row.id, duplicates, sensitive=field_row.sensitive)
    now = clock.now()  # the one instant of this submission: created_at and the deadline
    own = scope.user_id is not None and not data.on_behalf
    channel = channel_of(data)
    anonymous = data.anonymous or scope.user_id is None
    tracking = new_tracking_code() if anonymous or not own else None
    # The code is allocated inside the statement: until then the rows (and the messages that
    # quote it) hold this unguessable marker in its place.
    marker = f"PAHT{secrets.token_hex(12)}"  # 28 characters: the code column holds 32
    report = Report(
        id=new_id(),
        tenant_id=tenant_id,
        code=marker,
        title=title,
        description=description,
        field_id=field_row.id,
        unit_code=unit_code,
        latitude=data.latitude,
        longitude=data.longitude,
        address=(data.address or "").strip(),
        urgency=urgency.value,
        state=ReportState.SUBMITTED.value,
        reporter_user_id=scope.user_id if own else None,
        anonymous=anonymous,
        tracking_code=tracking,
        idempotency_key=data.idempotency_key,
        sla_version=rules.sla.version,
        answers=answers or None,
        reporter_kind=data.reporter_kind,
        channel=channel,
        created_at=now,
    )
    report.screen_due_at = due_for(rules, field_row.code, urgency, Stage.SCREEN, now)
    contact = _contact_row(tenant_id, report.id, data.contact, now)
    try:
        # A savepoint: a lost idempotency race or any failure leaves no row, and the files
        # written so far are deleted again.
        async with cleanup_on_error(storage) as written, in_transaction():
            batch = Batch()
            code = code_in(batch, tenant, now.astimezone(rules.calendar.timezone).year)
            batch.substitute(marker, code)
            batch.insert(report)
            if contact is not None:
                batch.insert(contact)
            attachments = await _files(tenant_id, report.id, data.media, written, now)
            batch.insert(*attachments)
            await stage_event(
                batch,
                scope,
                report,
                SUBMIT,
                ActorKind.STAFF if data.on_behalf else ActorKind.REPORTER,
                at=now,
                contact=contact,
                tenant=tenant,
                from_state=None,
                to_state=ReportState.SUBMITTED.value,
                data={
                    **_submit_data(report, len(attachments), duplicates),
                    "request": fingerprint(data),
                },
            )
            rows = await batch.execute("SELECT code FROM counter")
            report.code = rows[0]["code"]
    except IntegrityError:
        # A concurrent retry with the same key committed first: return its report.
        if data.idempotency_key and (
            first := await _existing(tenant_id, data.idempotency_key, scope, data)
        ):
            return await _retried(scope, first, field_row.sensitive)
        raise
    return SubmitResult(
        report,
        created=True,
        tracking_code=tracking,
        possible_duplicates=duplicates,
        shown_duplicates=shown,
    )


def _contact_row(
    tenant_id: uuid.UUID, report_id: uuid.UUID, c: ContactInput | None, now: datetime
) -> ReporterContact | None:
    if c is None:
        return None
    return ReporterContact(
        tenant_id=tenant_id,
        report_id=report_id,
        name=(c.name or "").strip()[:200],
        phone=c.phone,
        email=c.email,
        language=c.language,
        notify_by=c.notify_by,
        created_at=now,
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _submit_data(
    report: Report, attachments: int, duplicates: list[tuple[Report, float]]
) -> dict[str, object]:
    data: dict[str, object] = {
        "screen_due_at": _iso(report.screen_due_at),
        "unit_code": report.unit_code,
    }
    if attachments:
        data["attachments"] = attachments
    if duplicates:  # what the reporter was shown, for the operator's duplicate check
        data["possible_duplicates"] = [str(r.id) for r, _ in duplicates]
    return data


async def _files(
    tenant_id: uuid.UUID,
    report_id: uuid.UUID,
    media: Sequence[ProcessedMedia],
    written: WrittenFiles | None,
    now: datetime,
) -> list[Attachment]:
    if not media:
        return []
    assert written is not None  # check_media refused media without storage
    return await write_media_files(tenant_id, report_id, media, written, now)


async def _retried(scope: Scope, first: Report, sensitive: bool) -> SubmitResult:
    """The answer to an idempotent retry: the first report; nothing is stored again.

    The tracking code is repeated: whoever holds the (secret, client-made) key is the submitter
    whose first response was lost, and without the code an anonymous reporter could never follow
    the report. ``sensitive``: the field's flag (the retry repeats the field, fingerprint)."""
    duplicates = await nearby_open_reports(
        scope, first.field_id, first.latitude, first.longitude, exclude_id=first.id
    )
    return SubmitResult(
        first,
        created=False,
        tracking_code=first.tracking_code,
        possible_duplicates=duplicates,
        shown_duplicates=await as_shown(scope, first.field_id, duplicates, sensitive=sensitive),
    )
