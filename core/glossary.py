"""What every message calls each kind of object, in Vietnamese and English: one name per
concept. The deploying locality is always "đơn vị triển khai", an agency always "cơ quan", an
administrative unit always "đơn vị hành chính" — never a bare "đơn vị", which would name all
three. States, actions, reasons and roles carry their own names where they are defined
(reports/workflow.py, permissions/actions.py, permissions/templates.py)."""

from __future__ import annotations

from core.labels import Labelled


class Term(Labelled):
    REPORT = "report", "phản ánh", "report"
    TENANT = "tenant", "đơn vị triển khai", "locality"
    AGENCY = "agency", "cơ quan", "agency"
    FIELD = "field", "lĩnh vực", "field"
    UNIT = "unit", "đơn vị hành chính", "administrative unit"
    USER = "user", "tài khoản", "account"
    ROLE = "role", "vai trò", "role"
    MEMBERSHIP = "membership", "quyền đã cấp", "grant"
    ATTACHMENT = "attachment", "tệp đính kèm", "attachment"
    EXTENSION = "extension", "đề nghị gia hạn", "extension request"
    INFO_REQUEST = "info_request", "câu hỏi cho người phản ánh", "question to the reporter"
    NOTIFICATION = "notification", "thông báo", "notification"
    WEBHOOK_ENDPOINT = "webhook_endpoint", "địa chỉ nhận sự kiện", "webhook endpoint"
    OUTBOX_MESSAGE = "outbox_message", "tin gửi đi", "outgoing message"
    CLIENT_APP = "client_app", "ứng dụng kết nối", "client application"
    OBJECT = "object", "đối tượng", "object"

    @classmethod
    def of_type(cls, graphql_type: str) -> Term:
        """The term for a GraphQL object type (as a global ID names it)."""
        return _BY_TYPE.get(graphql_type, cls.OBJECT)


_BY_TYPE = {
    "Report": Term.REPORT,
    "Tenant": Term.TENANT,
    "Agency": Term.AGENCY,
    "Field": Term.FIELD,
    "AdministrativeUnit": Term.UNIT,
    "User": Term.USER,
    "Membership": Term.MEMBERSHIP,
    "Attachment": Term.ATTACHMENT,
    "Notification": Term.NOTIFICATION,
    "WebhookEndpoint": Term.WEBHOOK_ENDPOINT,
    "OutboxMessage": Term.OUTBOX_MESSAGE,
    "Open311Client": Term.CLIENT_APP,
}
