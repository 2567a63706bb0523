"""What a submission is given: the input, its validation (typed errors, every one at once),
and the fingerprint an idempotent retry must repeat. Used by ``reports.submission``."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from core.errors import Validator
from reports.media import ProcessedMedia
from reports.models import Channel, ReporterKind
from tenants.sla import Urgency


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


def channel_of(data: SubmitInput) -> str:
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


def validate(data: SubmitInput, v: Validator) -> tuple[str, str, Urgency | None]:
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
