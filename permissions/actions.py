"""The actions PAHT knows, with their meaning in Vietnamese and English.

Every permission check names one of these; a grant of an unknown action is refused."""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    REPORT_SUBMIT = "report:submit"
    REPORT_SUBMIT_ON_BEHALF = "report:submit_on_behalf"
    REPORT_VIEW = "report:view"
    REPORT_VIEW_REPORTER = "report:view_reporter"
    REPORT_SCREEN = "report:screen"
    REPORT_ASSIGN = "report:assign"
    REPORT_ACCEPT = "report:accept"
    REPORT_PROCESS = "report:process"
    REPORT_SUBMIT_RESULT = "report:submit_result"
    REPORT_REVIEW = "report:review"
    REPORT_PUBLISH = "report:publish"
    REPORT_REOPEN = "report:reopen"
    REPORT_CLOSE = "report:close"
    REPORT_COMMENT = "report:comment"
    REPORT_WITHDRAW = "report:withdraw"
    REPORT_PROVIDE_INFO = "report:provide_info"
    REPORT_RATE = "report:rate"
    EXTENSION_REQUEST = "extension:request"
    EXTENSION_APPROVE = "extension:approve"
    STATS_VIEW = "stats:view"
    TENANT_MANAGE = "tenant:manage"
    TENANT_ONBOARD = "tenant:onboard"
    PROVINCE_MANAGE_ADMINS = "province:manage_admins"


ACTION_LABELS: dict[Action, tuple[str, str]] = {
    Action.REPORT_SUBMIT: ("Gửi phản ánh", "Submit a report"),
    Action.REPORT_SUBMIT_ON_BEHALF: (
        "Nhập phản ánh thay người dân",
        "Submit on behalf of a caller",
    ),
    Action.REPORT_VIEW: ("Xem phản ánh", "View reports"),
    Action.REPORT_VIEW_REPORTER: ("Xem thông tin người phản ánh", "See the reporter's identity"),
    Action.REPORT_SCREEN: ("Tiếp nhận, phân loại, từ chối", "Screen, classify, reject"),
    Action.REPORT_ASSIGN: ("Chuyển xử lý", "Assign to an agency"),
    Action.REPORT_ACCEPT: ("Nhận xử lý hoặc trả lại", "Accept or return"),
    Action.REPORT_PROCESS: ("Xử lý phản ánh", "Process a report"),
    Action.REPORT_SUBMIT_RESULT: ("Gửi kết quả xử lý", "Submit the result"),
    Action.REPORT_REVIEW: ("Duyệt kết quả", "Review the result"),
    Action.REPORT_PUBLISH: ("Công khai kết quả", "Publish the result"),
    Action.REPORT_REOPEN: ("Mở lại phản ánh", "Reopen a report"),
    Action.REPORT_CLOSE: ("Đóng phản ánh", "Close a report"),
    Action.REPORT_COMMENT: ("Bình luận, đính kèm", "Comment and attach"),
    Action.REPORT_WITHDRAW: ("Rút phản ánh của mình", "Withdraw one's own report"),
    Action.REPORT_PROVIDE_INFO: ("Bổ sung thông tin", "Provide more information"),
    Action.REPORT_RATE: ("Đánh giá kết quả", "Rate the result"),
    Action.EXTENSION_REQUEST: ("Đề nghị gia hạn", "Request an extension"),
    Action.EXTENSION_APPROVE: ("Duyệt gia hạn", "Approve an extension"),
    Action.STATS_VIEW: ("Xem thống kê", "View statistics"),
    Action.TENANT_MANAGE: ("Quản trị đơn vị triển khai", "Administer the tenant"),
    Action.TENANT_ONBOARD: ("Thêm đơn vị triển khai", "Onboard tenants"),
    Action.PROVINCE_MANAGE_ADMINS: (
        "Quản lý quản trị viên cấp tỉnh",
        "Manage provincial administrators",
    ),
}
