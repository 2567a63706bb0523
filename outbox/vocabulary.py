"""The outbox's fixed sets: channels, message statuses, languages and the event types other
systems (and citizens) are told about. The event types are the outbox's published contract: a
writer above (reports/) maps its own steps onto them."""

from __future__ import annotations

from core.labels import Labelled


class Channel(Labelled):
    EMAIL = "EMAIL", "Thư điện tử", "E-mail"
    SMS = "SMS", "Tin nhắn SMS", "SMS"
    ZALO = "ZALO", "Tin nhắn Zalo (ZNS)", "Zalo notification (ZNS)"
    WEBHOOK = "WEBHOOK", "Gọi lại hệ thống khác (webhook)", "Webhook"


class NotifyBy(Labelled):
    """What a citizen may choose to be told through (a subset of ``Channel``)."""

    EMAIL = "EMAIL", "Thư điện tử", "E-mail"
    SMS = "SMS", "Tin nhắn SMS", "SMS"
    ZALO = "ZALO", "Tin nhắn Zalo (ZNS)", "Zalo notification (ZNS)"


class MessageStatus(Labelled):
    PENDING = "PENDING", "Đang chờ gửi", "Pending"
    SENT = "SENT", "Đã gửi", "Sent"
    FAILED = "FAILED", "Gửi không thành công", "Failed"


class Language(Labelled):
    VI = "vi", "Tiếng Việt", "Vietnamese"
    EN = "en", "Tiếng Anh", "English"


class EventType(Labelled):
    REPORT_RECEIVED = "report.received", "Đã tiếp nhận phản ánh", "Report received"
    REPORT_NEEDS_INFO = "report.needs_info", "Cần bổ sung thông tin", "Information needed"
    REPORT_TRANSFERRED = "report.transferred", "Đã chuyển cơ quan xử lý", "Transferred"
    REPORT_IN_PROGRESS = "report.in_progress", "Đang xử lý", "In progress"
    REPORT_RESOLVED = "report.resolved", "Đã có kết quả xử lý", "Resolved"
    REPORT_PUBLISHED = "report.published", "Đã công khai", "Published"
    REPORT_REOPENED = "report.reopened", "Đã phản ánh lại", "Reopened"
    REPORT_REJECTED = "report.rejected", "Không tiếp nhận", "Rejected"
    REPORT_CLOSED = "report.closed", "Đã đóng", "Closed"
    DEADLINE_REMINDER = "deadline.reminder", "Nhắc hạn xử lý", "Deadline reminder"
    ENDPOINT_DISABLED = "webhook.disabled", "Địa chỉ nhận bị tắt", "Endpoint disabled"
    ACCOUNT_MESSAGE = "account.message", "Thư về tài khoản", "Account message"


# Webhook endpoints subscribe to report steps; the others are addressed to people only.
WEBHOOK_EVENT_TYPES = tuple(e for e in EventType if e.value.startswith("report."))
