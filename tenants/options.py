"""The tenant's options: the choices its regulation leaves to the locality, typed and validated.

Stored in ``tenant_settings.options``; read by the workflow (optional transitions), duplicate
detection, the job runner (how long a reporter has to answer) and publication. Set at
onboarding (the YAML's ``options``) and by the tenant admin (``updateTenantOptions``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.errors import Validator
from core.labels import Labelled


class WorkflowOption(Labelled):
    """Steps of the workflow a tenant may switch on."""

    ALLOW_LATE_RETURN = (
        "allow_late_return",
        "Cho phép cơ quan trả lại phản ánh đã nhận xử lý",
        "Let an agency return a report it has already accepted",
    )
    LEADER_SIGN_OFF = (
        "leader_sign_off",
        "Kết quả của cán bộ xử lý do lãnh đạo cơ quan ký duyệt trước khi gửi Trung tâm",
        "An officer's result is signed off by the agency leader before it reaches the centre",
    )


@dataclass(frozen=True)
class TenantOptions:
    workflow_options: frozenset[WorkflowOption] = field(default_factory=frozenset)
    duplicate_radius_m: int = 200
    """Open reports of the same field this close are shown as possible duplicates."""
    reply_window_days: int = 7
    """A request for information not answered in this many days rejects the report."""
    publish_on_approval: bool = False
    """Approved results appear in the public feed at once, without a separate decision."""
    contact_retention_days: int = 730
    """Reporters' contact data (name, phone, e-mail) is anonymised this many days after the
    report is finished (Decree 13/2023/ND-CP: kept no longer than its purpose needs); the
    report and the statistics stay."""

    RADIUS_RANGE = (10, 5_000)
    REPLY_RANGE = (1, 60)
    RETENTION_RANGE = (30, 3_650)

    @classmethod
    def from_config(
        cls, config: dict[str, Any] | None, v: Validator | None = None
    ) -> TenantOptions:
        """Stored or submitted options. With a validator, bad values are reported (field
        names as the client sent them); without, they fall back to the defaults."""
        config = config or {}
        default = cls()
        report = v is not None

        def number(key: str, name: str, bounds: tuple[int, int], fallback: int) -> int:
            value = config.get(key, fallback)
            ok = isinstance(value, int) and not isinstance(value, bool)
            if ok and bounds[0] <= value <= bounds[1]:
                return int(value)
            if report:
                v.add(  # type: ignore[union-attr]
                    "OUT_OF_RANGE",
                    name,
                    f"Giá trị phải là số nguyên từ {bounds[0]} đến {bounds[1]}.",
                    f"Must be a whole number from {bounds[0]} to {bounds[1]}.",
                )
            return fallback

        chosen: set[WorkflowOption] = set()
        for i, value in enumerate(config.get("workflow_options") or ()):
            if value in WorkflowOption._value2member_map_:
                chosen.add(WorkflowOption(value))
            elif report:
                v.add(  # type: ignore[union-attr]
                    "INVALID_CHOICE",
                    f"workflowOptions[{i}]",
                    "Tuỳ chọn quy trình không có trong danh sách.",
                    "Not one of the workflow options.",
                )
        publish = config.get("publish_on_approval", default.publish_on_approval)
        if not isinstance(publish, bool):
            if report:
                v.add(  # type: ignore[union-attr]
                    "INVALID_CHOICE",
                    "publishOnApproval",
                    "Phải là có hoặc không.",
                    "Must be true or false.",
                )
            publish = default.publish_on_approval
        return cls(
            workflow_options=frozenset(chosen),
            duplicate_radius_m=number(
                "duplicate_radius_m",
                "duplicateRadiusM",
                cls.RADIUS_RANGE,
                default.duplicate_radius_m,
            ),
            reply_window_days=number(
                "reply_window_days", "replyWindowDays", cls.REPLY_RANGE, default.reply_window_days
            ),
            publish_on_approval=publish,
            contact_retention_days=number(
                "contact_retention_days",
                "contactRetentionDays",
                cls.RETENTION_RANGE,
                default.contact_retention_days,
            ),
        )

    def to_config(self) -> dict[str, Any]:
        return {
            "workflow_options": sorted(o.value for o in self.workflow_options),
            "duplicate_radius_m": self.duplicate_radius_m,
            "reply_window_days": self.reply_window_days,
            "publish_on_approval": self.publish_on_approval,
            "contact_retention_days": self.contact_retention_days,
        }
