"""Role templates (docs/domain.md §2). Onboarding installs them into each new tenant.

Agency-bound roles get their agency from the grant: their template rules say "any agency" and a
grant narrows them (a handler granted for the Phòng Y tế acts only on reports assigned to it)."""

from __future__ import annotations

from dataclasses import dataclass

from permissions.actions import Action as A

PROVINCIAL_ADMIN = "provincial_admin"
TENANT_ADMIN = "tenant_admin"
CITIZEN = "citizen"


@dataclass(frozen=True)
class RoleTemplate:
    code: str
    name_vi: str
    name_en: str
    actions: tuple[A, ...]
    agency_bound: bool = False  # a grant of this role must name an agency


_OPERATOR = (
    A.REPORT_VIEW,
    A.REPORT_VIEW_REPORTER,
    A.REPORT_SCREEN,
    A.REPORT_ASSIGN,
    A.REPORT_SUBMIT_ON_BEHALF,
    A.REPORT_COMMENT,
    A.REPORT_REOPEN,
    A.REPORT_CLOSE,
)
_HANDLER = (
    A.REPORT_VIEW,
    A.REPORT_PROCESS,
    A.REPORT_SUBMIT_RESULT,
    A.REPORT_COMMENT,
    A.EXTENSION_REQUEST,
)

TENANT_TEMPLATES: tuple[RoleTemplate, ...] = (
    RoleTemplate(
        CITIZEN,
        "Công dân",
        "Citizen",
        (A.REPORT_SUBMIT, A.REPORT_WITHDRAW, A.REPORT_PROVIDE_INFO, A.REPORT_RATE, A.REPORT_REOPEN),
    ),
    RoleTemplate("intake_operator", "Cán bộ tiếp nhận", "Intake operator", _OPERATOR),
    RoleTemplate(
        "centre_supervisor",
        "Lãnh đạo Trung tâm",
        "Centre supervisor",
        (*_OPERATOR, A.REPORT_REVIEW, A.REPORT_PUBLISH, A.EXTENSION_APPROVE, A.STATS_VIEW),
    ),
    RoleTemplate(
        "agency_contact",
        "Đầu mối cơ quan",
        "Agency contact",
        (A.REPORT_VIEW, A.REPORT_ACCEPT, A.REPORT_COMMENT),
        agency_bound=True,
    ),
    RoleTemplate("handler", "Cán bộ xử lý", "Handler", _HANDLER, agency_bound=True),
    RoleTemplate(
        "agency_leader",
        "Lãnh đạo cơ quan",
        "Agency leader",
        (*_HANDLER, A.REPORT_ACCEPT, A.REPORT_SIGN_OFF, A.STATS_VIEW),
        agency_bound=True,
    ),
    RoleTemplate(
        "coordinating_unit",
        "Cơ quan phối hợp",
        "Coordinating unit",
        (A.REPORT_VIEW, A.REPORT_COMMENT),
        agency_bound=True,
    ),
    RoleTemplate(
        "locality_leader",
        "Lãnh đạo UBND",
        "Locality leader",
        (A.REPORT_VIEW, A.REPORT_ASSIGN, A.REPORT_COMMENT, A.STATS_VIEW),
    ),
    RoleTemplate(
        TENANT_ADMIN,
        "Quản trị đơn vị triển khai",
        "Tenant administrator",
        (A.TENANT_MANAGE, A.REPORT_VIEW, A.STATS_VIEW),
    ),
)

PROVINCIAL_TEMPLATE = RoleTemplate(
    PROVINCIAL_ADMIN,
    "Quản trị tỉnh",
    "Provincial administrator",
    (A.TENANT_ONBOARD, A.PROVINCE_MANAGE_ADMINS, A.TENANT_MANAGE, A.REPORT_VIEW, A.STATS_VIEW),
)

TEMPLATES_BY_CODE = {t.code: t for t in (*TENANT_TEMPLATES, PROVINCIAL_TEMPLATE)}
