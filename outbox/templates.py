"""The wording of each message: the tenant's own template (outbox_template) when it has one,
otherwise the default below, in the recipient's language. Placeholders are ``{name}``; an
unknown one is left as written, so a tenant's typo shows instead of failing the delivery."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from outbox.models import MessageTemplate
from outbox.vocabulary import Channel, EventType, Language


@dataclass(frozen=True)
class Wording:
    subject: str
    body: str


_E = EventType
_SIGN_VI = "\n\n{tenant_name}\nThư này được gửi tự động, xin đừng trả lời."
_SIGN_EN = "\n\n{tenant_name}\nThis message was sent automatically; please do not reply."

# (event type, language) -> subject, body: the e-mail. SMS and Zalo use the subject alone.
DEFAULTS: dict[tuple[EventType, Language], Wording] = {
    (_E.REPORT_RECEIVED, Language.VI): Wording(
        "Đã tiếp nhận phản ánh {code}",
        "Phản ánh «{title}» của bạn đã được tiếp nhận với mã {code}.{tracking_line_vi}" + _SIGN_VI,
    ),
    (_E.REPORT_RECEIVED, Language.EN): Wording(
        "Report {code} received",
        "Your report “{title}” was received under the code {code}.{tracking_line_en}" + _SIGN_EN,
    ),
    (_E.REPORT_NEEDS_INFO, Language.VI): Wording(
        "Phản ánh {code} cần bổ sung thông tin",
        "Cơ quan xử lý cần bạn bổ sung thông tin cho phản ánh {code}: {comment}" + _SIGN_VI,
    ),
    (_E.REPORT_NEEDS_INFO, Language.EN): Wording(
        "Report {code} needs more information",
        "Please add information to your report {code}: {comment}" + _SIGN_EN,
    ),
    (_E.REPORT_TRANSFERRED, Language.VI): Wording(
        "Phản ánh {code} đã được chuyển cơ quan xử lý",
        "Phản ánh {code} của bạn đã được chuyển đến {agency_vi}." + _SIGN_VI,
    ),
    (_E.REPORT_TRANSFERRED, Language.EN): Wording(
        "Report {code} was passed to an agency",
        "Your report {code} was passed to {agency_en}." + _SIGN_EN,
    ),
    (_E.REPORT_IN_PROGRESS, Language.VI): Wording(
        "Phản ánh {code} đang được xử lý",
        "{agency_vi} đã nhận xử lý phản ánh {code} của bạn." + _SIGN_VI,
    ),
    (_E.REPORT_IN_PROGRESS, Language.EN): Wording(
        "Report {code} is being handled",
        "{agency_en} is now handling your report {code}." + _SIGN_EN,
    ),
    (_E.REPORT_RESOLVED, Language.VI): Wording(
        "Phản ánh {code} đã có kết quả xử lý",
        "Phản ánh {code} của bạn đã có kết quả xử lý. Mời bạn xem kết quả và đánh giá." + _SIGN_VI,
    ),
    (_E.REPORT_RESOLVED, Language.EN): Wording(
        "Report {code} has a result",
        "Your report {code} has been resolved. Please look at the result and rate it." + _SIGN_EN,
    ),
    (_E.REPORT_PUBLISHED, Language.VI): Wording(
        "Kết quả phản ánh {code} đã được công khai",
        "Kết quả xử lý phản ánh {code} đã được công khai trên cổng thông tin." + _SIGN_VI,
    ),
    (_E.REPORT_PUBLISHED, Language.EN): Wording(
        "The result of report {code} is public",
        "The result of your report {code} is now on the public portal." + _SIGN_EN,
    ),
    (_E.REPORT_REOPENED, Language.VI): Wording(
        "Phản ánh {code} đã được phản ánh lại",
        "Phản ánh {code} đã được mở lại để xử lý tiếp: {comment}" + _SIGN_VI,
    ),
    (_E.REPORT_REOPENED, Language.EN): Wording(
        "Report {code} was reopened",
        "Your report {code} was reopened for further handling: {comment}" + _SIGN_EN,
    ),
    (_E.REPORT_REJECTED, Language.VI): Wording(
        "Phản ánh {code} không được tiếp nhận",
        "Phản ánh {code} của bạn không được tiếp nhận. Lý do: {comment}" + _SIGN_VI,
    ),
    (_E.REPORT_REJECTED, Language.EN): Wording(
        "Report {code} was not accepted",
        "Your report {code} was not accepted. Reason: {comment}" + _SIGN_EN,
    ),
    (_E.REPORT_CLOSED, Language.VI): Wording(
        "Phản ánh {code} đã đóng", "Phản ánh {code} của bạn đã đóng. {comment}" + _SIGN_VI
    ),
    (_E.REPORT_CLOSED, Language.EN): Wording(
        "Report {code} is closed", "Your report {code} is closed. {comment}" + _SIGN_EN
    ),
    (_E.DEADLINE_REMINDER, Language.VI): Wording(
        "Nhắc hạn xử lý phản ánh {code}", "{message_vi}" + _SIGN_VI
    ),
    (_E.DEADLINE_REMINDER, Language.EN): Wording(
        "Deadline reminder for report {code}", "{message_en}" + _SIGN_EN
    ),
    (_E.ENDPOINT_DISABLED, Language.VI): Wording(
        "Địa chỉ nhận sự kiện đã bị tắt",
        "Địa chỉ nhận sự kiện {url} đã bị tắt sau {failures} lần gửi không thành công liên tiếp."
        + _SIGN_VI,
    ),
    (_E.ENDPOINT_DISABLED, Language.EN): Wording(
        "A webhook endpoint was disabled",
        "The webhook endpoint {url} was disabled after {failures} failed deliveries in a row."
        + _SIGN_EN,
    ),
}


class _Keep(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def fill(text: str, values: dict[str, Any]) -> str:
    try:
        return text.format_map(_Keep(values))
    except (ValueError, IndexError, AttributeError):  # a stray brace in a tenant's template
        return text


async def wording(
    tenant_id: uuid.UUID, event_type: EventType, channel: Channel, language: Language
) -> Wording | None:
    """The tenant's template for this channel and language, else the default (None: nothing
    to say for this event)."""
    own = await MessageTemplate.get_or_none(
        tenant_id=tenant_id, event_type=event_type.value, channel=channel.value,
        language=language.value,
    )  # fmt: skip
    if own is not None:
        return Wording(own.subject, own.body)
    return DEFAULTS.get((event_type, language))


def render(template: Wording, values: dict[str, Any]) -> Wording:
    return Wording(fill(template.subject, values), fill(template.body, values))
