"""Report submission: validated, idempotent, located, with its first deadline and event.
Use it through ``reports.service``."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core import clock, throttle
from core.errors import DomainError, Validator
from core.ids import new_id
from permissions.actions import Action
from permissions.scope import Scope
from reports import locator
from reports.attachments import WrittenFiles, check_media, cleanup_on_error, store_media
from reports.duplicates import DuplicateView, as_shown, nearby_open_reports
from reports.media import ProcessedMedia
from reports.models import (
    Channel,
    Report,
    ReportCounter,
    ReporterContact,
    ReporterKind,
    ReportEvent,
)
from reports.records import due_at, record_event, tenant_rules
from reports.storage import Storage
from reports.workflow import SUBMIT, ActorKind, ReportState
from tenants.models import Field, Tenant
from tenants.questions import parse_questions, validate_answers
from tenants.sla import Stage, Urgency

_TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I
_COUNTER_SQL = (
    f"INSERT INTO {ReportCounter._meta.db_table} (id, tenant_id, year, last) "
    "VALUES ($1, $2, $3, 1) ON CONFLICT (tenant_id, year) "
    f"DO UPDATE SET last = {ReportCounter._meta.db_table}.last + 1 RETURNING last"
)


@dataclass(frozen=True)
class ContactInput:
    """The reporter's contact details (a hotline caller's, or a citizen's own)."""

    name: str = ""
    phone: str | None = None
    email: str | None = None
    language: str = "vi"  # of the messages they are sent (outbox.vocabulary.Language)
    notify_by: str | None = None  # the channel they chose (outbox.vocabulary.NotifyBy)


@dataclass(frozen=True)
class SubmitInput:
    title: str
    description: str
    field_id: uuid.UUID
    latitude: float
    longitude: float
    address: str = ""
    urgency: str = Urgency.NORMAL.value
    anonymous: bool = False
    idempotency_key: str | None = None
    contact: ContactInput | None = None
    on_behalf: bool = False  # entered by an operator for a hotline caller
    reporter_kind: str = ReporterKind.PERSON.value
    channel: str | None = None  # default: hotline when entered on behalf, else the app
    answers: dict[str, Any] | None = None  # to the field's questions (tenants.questions)
    media: tuple[ProcessedMedia, ...] = ()  # from reports.media.process_upload


def _channel(data: SubmitInput) -> str:
    """The channel given, else the hotline for an operator's entry and the app otherwise;
    kind and channel must be known values (INVALID_CHOICE)."""
    v = Validator()
    if data.reporter_kind not in ReporterKind._value2member_map_:
        v.add(
            "INVALID_CHOICE", "reporterKind", "Loại người phản ánh không hợp lệ.", "Unknown kind."
        )
    channel = data.channel or (Channel.HOTLINE if data.on_behalf else Channel.APP).value
    if channel not in Channel._value2member_map_:
        v.add("INVALID_CHOICE", "channel", "Kênh tiếp nhận không hợp lệ.", "Unknown channel.")
    v.check()
    return channel


@dataclass(frozen=True)
class SubmitResult:
    report: Report
    created: bool  # False when an idempotent retry returned the first report
    tracking_code: str | None = None  # shown once to anonymous reporters
    # Open reports of the same field nearby, nearest first, with their distance in metres.
    possible_duplicates: list[tuple[Report, float]] = field(default_factory=list)
    # The same, as the submitter may see them (reports.duplicates.as_shown).
    shown_duplicates: list[DuplicateView] = field(default_factory=list)


# --- submission ---------------------------------------------------------------------------------
def _validate(data: SubmitInput, v: Validator) -> tuple[str, str, Urgency | None]:
    title = v.text("title", data.title, min_len=5, max_len=200) or ""
    if title and len(title) < 5:
        v.add("TOO_SHORT", "title", "Tối thiểu 5 ký tự.", "At least 5 characters.")
    description = v.text("description", data.description, max_len=5000) or ""
    v.text("address", data.address, max_len=500, required=False)
    if not -90 <= data.latitude <= 90:
        v.add("OUT_OF_RANGE", "latitude", "Vĩ độ không hợp lệ.", "Latitude must be in [-90, 90].")
    if not -180 <= data.longitude <= 180:
        v.add(
            "OUT_OF_RANGE",
            "longitude",
            "Kinh độ không hợp lệ.",
            "Longitude must be in [-180, 180].",
        )
    try:
        urgency: Urgency | None = Urgency(data.urgency)
    except ValueError:
        urgency = None
        v.add("INVALID_CHOICE", "urgency", "Mức độ không hợp lệ.", "Unknown urgency.")
    if data.contact is not None:
        v.text("contact.name", data.contact.name, max_len=200, required=False)
        phone = v.text("contact.phone", data.contact.phone, max_len=20, required=False)
        if phone and not re.fullmatch(r"\+?[0-9 .-]{6,20}", phone):
            v.add(
                "INVALID_PHONE",
                "contact.phone",
                "Số điện thoại không hợp lệ.",
                "Invalid phone number.",
            )
        email = v.text("contact.email", data.contact.email, max_len=254, required=False)
        if email and "@" not in email:
            v.add("INVALID_EMAIL", "contact.email", "Email không hợp lệ.", "Invalid email.")
        needs = {"EMAIL": ("email", email), "SMS": ("phone", phone), "ZALO": ("phone", phone)}
        if data.contact.notify_by in needs and not needs[data.contact.notify_by][1]:
            name = needs[data.contact.notify_by][0]
            v.add(
                "REQUIRED",
                f"contact.{name}",
                "Cần địa chỉ nhận thông báo theo cách bạn đã chọn.",
                "The channel you chose needs this address.",
            )
    key = data.idempotency_key
    if key is not None and not 1 <= len(key) <= 128:
        v.add("INVALID", "idempotencyKey", "Khóa không hợp lệ.", "Key must be 1–128 characters.")
    return title, description, urgency


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


def fingerprint(data: SubmitInput) -> str:
    """What a retry must repeat exactly. A key presented with other content is not a retry
    (and an anonymous caller who learnt someone else's key gets nothing back)."""
    contact = data.contact
    canonical = json.dumps(
        [
            str(data.field_id),
            data.title.strip(),
            data.description.strip(),
            data.latitude,
            data.longitude,
            (data.address or "").strip(),
            data.urgency,
            data.anonymous,
            data.on_behalf,
            [contact.name, contact.phone, contact.email] if contact else None,
            [m.sha256 for m in data.media],
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _existing(
    tenant_id: uuid.UUID, key: str, scope: Scope, data: SubmitInput
) -> Report | None:
    report = await Report.get_or_none(tenant_id=tenant_id, idempotency_key=key)
    if report is None:
        return None
    event = await ReportEvent.get_or_none(tenant_id=tenant_id, report_id=report.id, action="SUBMIT")
    # Anonymous or entered on behalf of a caller: the key is the submitter's (the operator's
    # retry must find the first report; nobody else may).
    submitter = report.reporter_user_id or (event.actor_user_id if event else None)
    same_request = event is not None and (event.data or {}).get("request") == fingerprint(data)
    if submitter != scope.user_id or not same_request:
        raise DomainError(
            "IDEMPOTENCY_KEY_REUSED",
            "Khóa gửi lại đã được dùng cho một phản ánh khác.",
            "This idempotency key was already used for another report.",
            "idempotencyKey",
        )
    return report


def new_tracking_code() -> str:
    return "".join(secrets.choice(_TRACKING_ALPHABET) for _ in range(12))


async def allocate_code(tenant: Tenant, year: int) -> str:
    """The tenant's next human report code for ``year`` ("SP-2026-000123")."""
    conn = connections.get("default")
    # execute_query_dict: execute_query drops RETURNING rows of an INSERT.
    rows = await conn.execute_query_dict(_COUNTER_SQL, [new_id(), tenant.id, year])
    return f"{tenant.report_prefix}-{year}-{rows[0]['last']:06d}"


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
    v = Validator()
    title, description, urgency = _validate(data, v)
    field_row = await Field.get_or_none(tenant_id=tenant_id, id=data.field_id, active=True)
    if field_row is None:
        v.add("NOT_FOUND", "fieldId", "Lĩnh vực không tồn tại.", "Unknown or inactive field.")
    v.check()
    assert urgency is not None and field_row is not None
    answers = validate_answers(parse_questions(field_row.questions), data.answers)
    check_media(data.media, storage)

    if data.idempotency_key and (
        first := await _existing(tenant_id, data.idempotency_key, scope, data)
    ):
        return await _retried(scope, first)

    tenant = await Tenant.get(id=tenant_id)
    unit_code = await _unit_code(tenant, data.latitude, data.longitude, data.on_behalf)
    duplicates = await nearby_open_reports(scope, field_row.id, data.latitude, data.longitude)
    rules = await tenant_rules(tenant_id)
    now = clock.now()  # the one instant of this submission: created_at and the deadline
    own = scope.user_id is not None and not data.on_behalf
    channel = _channel(data)
    anonymous = data.anonymous or scope.user_id is None
    tracking = new_tracking_code() if anonymous or not own else None
    try:
        # A savepoint: a lost idempotency race or any failure leaves no row, and the files
        # written so far are deleted again.
        async with cleanup_on_error(storage) as written, in_transaction():
            code = await allocate_code(tenant, now.astimezone(rules.calendar.timezone).year)
            report = Report(
                id=new_id(),
                tenant_id=tenant_id,
                code=code,
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
            report.screen_due_at = await due_at(rules, report, Stage.SCREEN, now)
            await report.save()
            if data.contact is not None:
                c = data.contact
                await ReporterContact.create(
                    tenant_id=tenant_id,
                    report_id=report.id,
                    name=(c.name or "").strip()[:200],
                    phone=c.phone,
                    email=c.email,
                    language=c.language,
                    notify_by=c.notify_by,
                    created_at=now,
                )
            attachments = await _store(scope, report.id, data.media, written, now)
            await record_event(
                scope,
                report,
                SUBMIT,
                ActorKind.STAFF if data.on_behalf else ActorKind.REPORTER,
                at=now,
                from_state=None,
                to_state=ReportState.SUBMITTED.value,
                data={
                    **_submit_data(report, attachments, duplicates),
                    "request": fingerprint(data),
                },
            )
    except IntegrityError:
        # A concurrent retry with the same key committed first: return its report.
        if data.idempotency_key and (
            first := await _existing(tenant_id, data.idempotency_key, scope, data)
        ):
            return await _retried(scope, first)
        raise
    return SubmitResult(
        report,
        created=True,
        tracking_code=tracking,
        possible_duplicates=duplicates,
        shown_duplicates=await as_shown(scope, field_row.id, duplicates),
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


async def _store(
    scope: Scope,
    report_id: uuid.UUID,
    media: Sequence[ProcessedMedia],
    written: WrittenFiles | None,
    now: datetime,
) -> int:
    if not media:
        return 0
    assert written is not None  # check_media refused media without storage
    rows = await store_media(scope, report_id, media, written.storage, written=written, now=now)
    return len(rows)


async def _retried(scope: Scope, first: Report) -> SubmitResult:
    """The answer to an idempotent retry: the first report; nothing is stored again.

    The tracking code is repeated: whoever holds the (secret, client-made) key is the submitter
    whose first response was lost, and without the code an anonymous reporter could never follow
    the report."""
    duplicates = await nearby_open_reports(
        scope, first.field_id, first.latitude, first.longitude, exclude_id=first.id
    )
    return SubmitResult(
        first,
        created=False,
        tracking_code=first.tracking_code,
        possible_duplicates=duplicates,
        shown_duplicates=await as_shown(scope, first.field_id, duplicates),
    )
