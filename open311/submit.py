"""POST requests: the form read into the same ``SubmitInput`` GraphQL builds, submitted through
``reports.service.submit_report`` with an anonymous Scope in the tenant (a tracking code is
made, the reporter's contact stored as protected personal data, never echoed), after the
client's api key is checked and its submission counted (``core.throttle``, per client)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from core import clock, throttle
from core.errors import DomainError, TooManyAttempts
from open311.clients import client_for_key
from open311.formats import Open311Error, bad_request
from open311.media_fetch import fetch_image
from open311.reads import when
from open311.services import answers, service_field
from permissions.scope import Scope
from permissions.session import scoped_transaction
from reports.media import MediaLimits, ProcessedMedia
from reports.models import Channel
from reports.records import tenant_rules
from reports.service import ContactInput, SubmitInput, SubmitResult, submit_report
from reports.storage import Storage

MAX_DESCRIPTION = 4000  # the spec's limit (PAHT's own is higher)
TITLE_LENGTH = 120
SUBMISSIONS = throttle.SlidingWindow("open311-submit", limit=60, window=timedelta(minutes=10))

# PAHT's input names as an Open311 client sent them.
FIELD_NAMES = {
    "title": "description",
    "description": "description",
    "fieldId": "service_code",
    "latitude": "lat",
    "longitude": "long",
    "address": "address_string",
    "contact.name": "first_name",
    "contact.phone": "phone",
    "contact.email": "email",
    "attachments": "media_url",
}


def _one(form: Mapping[str, Sequence[str]], name: str) -> str | None:
    """The parameter's value; an empty one counts as absent."""
    values = [v.strip() for v in form.get(name, ()) if v.strip()]
    return values[0] if values else None


def forbidden(lang: str) -> Open311Error:
    return Open311Error(
        403,
        [
            (
                403,
                "Invalid api_key received -- can't proceed with create_request."
                if lang == "en"
                else "Khóa `api_key` không hợp lệ hoặc đã bị thu hồi.",
            )
        ],
    )


def refused(error: DomainError, lang: str) -> Open311Error:
    """The submission's typed errors, every one, with the Open311 parameter concerned."""
    items = []
    for d in error.details:
        name = FIELD_NAMES.get(d.field or "", d.field or "")
        if name.startswith("answers."):
            name = f"attribute[{name.removeprefix('answers.')}]"
        prefix = f"{d.code} ({name})" if name else d.code
        items.append((400, f"{prefix}: {d.message(lang)}"))
    headers = {}
    if isinstance(error, TooManyAttempts) and error.retry_after:
        headers["Retry-After"] = str(error.retry_after)
    return Open311Error(400, items, headers)


def _title(description: str, fallback: str) -> str:
    """Open311 has no title: the description's first line, cut at a word, or the field."""
    first = description.strip().splitlines()[0].strip() if description.strip() else ""
    if len(first) > TITLE_LENGTH:
        cut = first[:TITLE_LENGTH].rsplit(" ", 1)[0]
        first = cut + "…"
    return first if len(first) >= 5 else fallback


def _coordinate(text: str | None, name: str, lang: str) -> float:
    try:
        return float(text or "")
    except ValueError:
        raise bad_request(f"{name} is not a number." if lang == "en"
                          else f"Tọa độ `{name}` không phải là số.") from None  # fmt: skip


@dataclass(frozen=True)
class MediaPolicy:
    storage: Storage | None
    limits: MediaLimits
    allow_private_hosts: bool = False  # fetch media_url from private addresses (tests only)


async def create_request(
    scope: Scope,
    form: Mapping[str, Sequence[str]],
    media: MediaPolicy,
    lang: str,
) -> list[dict[str, str | None]]:
    """Two short tenant-scoped transactions around the photo's download, so that no database
    connection waits on a remote host: the key, the form and the count first; then the
    submission, where any error undoes everything."""
    async with scoped_transaction(scope):
        data, client_id = await _checked(scope, form, lang)
    try:
        await throttle.take(SUBMISSIONS, client_id, clock.now())
        photos: tuple[ProcessedMedia, ...] = ()
        if url := _one(form, "media_url"):
            photos = (
                await fetch_image(url, media.limits, allow_private=media.allow_private_hosts),
            )
        async with scoped_transaction(scope):
            tz = (await tenant_rules(scope.require_tenant())).calendar.timezone
            result = await submit_report(scope, replace(data, media=photos), media.storage)
    except DomainError as error:
        raise refused(error, lang) from None
    return [{"service_request_id": result.report.code, "service_notice": notice(result, tz, lang)}]


async def _checked(
    scope: Scope, form: Mapping[str, Sequence[str]], lang: str
) -> tuple[SubmitInput, str]:
    """The client behind the api key (403 otherwise) and the form as ``SubmitInput``."""
    key = _one(form, "api_key")
    client = await client_for_key(scope, key) if key else None
    if client is None:
        raise forbidden(lang)
    code = _one(form, "service_code")
    if code is None:
        raise bad_request("service_code was not provided." if lang == "en"
                          else "Thiếu mã lĩnh vực `service_code`.")  # fmt: skip
    field = await service_field(scope, code, lang)  # 404 when unknown
    lat, lng = _one(form, "lat"), _one(form, "long")
    if (lat is None) != (lng is None):
        raise bad_request("lat and long must be sent together." if lang == "en"
                          else "Cần gửi cả `lat` và `long`.")  # fmt: skip
    if lat is None:
        raise bad_request(
            "A location is required as lat and long (addresses are not geocoded)."
            if lang == "en"
            else "Cần vị trí bằng `lat` và `long` (địa chỉ chưa được tự xác định tọa độ)."
        )
    description = _one(form, "description") or ""
    if len(description) > MAX_DESCRIPTION:
        raise bad_request(f"description is longer than {MAX_DESCRIPTION} characters."
                          if lang == "en" else
                          f"Nội dung `description` dài quá {MAX_DESCRIPTION} ký tự.")  # fmt: skip
    names = " ".join(n for n in (_one(form, "first_name"), _one(form, "last_name")) if n)
    email, phone = _one(form, "email"), _one(form, "phone")
    contact = ContactInput(names, phone, email) if names or email or phone else None
    data = SubmitInput(
        title=_title(description, field.name_vi),
        description=description,
        field_id=field.id,
        latitude=_coordinate(lat, "lat", lang),
        longitude=_coordinate(lng, "long", lang),
        address=_one(form, "address_string") or "",
        contact=contact,
        answers=answers(field, form),
        channel=Channel.OPEN311.value,
    )
    return data, str(client.id)


def notice(result: SubmitResult, tz: ZoneInfo, lang: str) -> str | None:
    due = when(result.report.screen_due_at, tz)
    if due is None:
        return None
    if lang == "en":
        return f"The report will be screened by {due}."
    return f"Phản ánh sẽ được tiếp nhận, sàng lọc trước {due}."
