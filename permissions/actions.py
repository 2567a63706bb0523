"""The permission actions PAHT knows, with their meaning in Vietnamese and English.

Every permission check names one of these (casbin's ``act``); a grant of an unknown action is
refused. Workflow transitions name the action they need (reports/workflow.py)."""

from __future__ import annotations

from core.labels import Labelled


class Action(Labelled):
    # fmt: off
    REPORT_SUBMIT = "report:submit", "Gửi phản ánh", "Submit a report"
    REPORT_SUBMIT_ON_BEHALF = ("report:submit_on_behalf",
                               "Nhập phản ánh thay người dân (đường dây nóng)",
                               "Enter a report on behalf of a caller (hotline)")
    REPORT_VIEW = "report:view", "Xem phản ánh", "View reports"
    REPORT_VIEW_REPORTER = ("report:view_reporter", "Xem thông tin người phản ánh",
                            "See the reporter's identity")
    REPORT_SCREEN = ("report:screen", "Sàng lọc: không tiếp nhận, đánh dấu trùng, yêu cầu bổ sung",
                     "Screen: reject, mark as duplicate, request information")
    REPORT_ASSIGN = "report:assign", "Chuyển xử lý, điều chuyển cơ quan", "Assign or re-route"
    REPORT_ACCEPT = ("report:accept", "Nhận xử lý, giao cán bộ xử lý hoặc trả lại",
                     "Accept, hand to an officer, or return")
    REPORT_PROCESS = "report:process", "Xử lý phản ánh", "Work on a report"
    REPORT_SUBMIT_RESULT = "report:submit_result", "Gửi kết quả xử lý", "Submit the result"
    REPORT_SIGN_OFF = ("report:sign_off", "Lãnh đạo cơ quan ký duyệt kết quả xử lý",
                       "Sign off the agency's result (agency leader)")
    REPORT_REVIEW = ("report:review", "Duyệt kết quả hoặc yêu cầu xử lý lại",
                     "Approve the result or request rework")
    REPORT_PUBLISH = "report:publish", "Quyết định công khai", "Decide publication"
    REPORT_REOPEN = "report:reopen", "Phản ánh lại", "Reopen a resolved report"
    REPORT_CLOSE = "report:close", "Đóng phản ánh", "Close a report"
    REPORT_COMMENT = "report:comment", "Bình luận, đính kèm tệp", "Comment and attach files"
    REPORT_WITHDRAW = "report:withdraw", "Rút phản ánh của mình", "Withdraw one's own report"
    REPORT_PROVIDE_INFO = ("report:provide_info", "Bổ sung thông tin phản ánh của mình",
                           "Add information to one's own report")
    REPORT_RATE = ("report:rate", "Đánh giá kết quả phản ánh của mình",
                   "Rate the result of one's own report")
    EXTENSION_REQUEST = "extension:request", "Đề nghị gia hạn", "Request a deadline extension"
    EXTENSION_APPROVE = "extension:approve", "Duyệt gia hạn", "Approve or deny an extension"
    STATS_VIEW = "stats:view", "Xem thống kê", "View statistics"
    TENANT_MANAGE = ("tenant:manage",
                     "Quản trị đơn vị triển khai (lĩnh vực, cơ quan, thời hạn, lịch, người dùng)",
                     "Administer the tenant (fields, agencies, deadlines, calendar, users)")
    TENANT_ONBOARD = "tenant:onboard", "Thêm đơn vị triển khai mới", "Onboard new tenants"
    PROVINCE_MANAGE_ADMINS = ("province:manage_admins", "Quản lý quản trị viên cấp tỉnh",
                              "Manage provincial administrators")
    # fmt: on
