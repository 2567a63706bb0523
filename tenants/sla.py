"""SLA table and deadline arithmetic for the workflow stages (docs/domain.md §4).

Rules are configurable per tenant × field (lĩnh vực) × urgency (mức độ); the table carries a
version that is stored on each report, so a later edit never moves existing deadlines. Urgent
items run on calendar time 24/7; the others on the tenant's :class:`WorkingCalendar`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any

from core.errors import DomainError
from core.labels import Labelled
from tenants.calendar import WorkingCalendar

#: "Sắp trễ" (due soon) once this share of the stage time is used; 50% is an earlier reminder.
DUE_SOON_FRACTION = 0.8
#: Normal resolve period for fields checkable and fixable at once (hạ tầng đô thị, VSMT, ...).
QUICK_FIX_RESOLVE_DAYS = 3
#: Urgent reports: the resolve rule (4 h, 24/7) is the agency's first response; once it has
#: answered, the full result is due within this many working days of its acceptance.
URGENT_RESULT_WORKING_DAYS = 1


class Stage(Labelled):
    """Clocked steps of the workflow, each with its own deadline."""

    SCREEN = "screen", "tiếp nhận, phân loại", "screening"
    ACCEPT = "accept", "nhận xử lý", "acceptance"
    RESOLVE = "resolve", "xử lý", "resolution"
    REVIEW = "review", "duyệt kết quả", "review of the result"


class Urgency(Labelled):
    """Mức độ: urgent reports run on calendar time, 24/7; complex ones involve several
    agencies or a legal procedure."""

    URGENT = "urgent", "khẩn cấp", "urgent"
    NORMAL = "normal", "thông thường", "normal"
    COMPLEX = "complex", "phức tạp", "complex"


class DurationUnit(Labelled):
    """How a rule's amount is counted."""

    CALENDAR_MINUTES = "calendar_minutes", "phút theo lịch", "calendar minutes"
    WORKING_HOURS = "working_hours", "giờ làm việc", "working hours"
    WORKING_DAYS = "working_days", "ngày làm việc", "working days"


def _invalid(field_name: str | None, message_vi: str, message_en: str) -> DomainError:
    return DomainError("INVALID_SLA", message_vi, message_en, field_name)


def _enum(kind: type[Enum], value: Any, field_name: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        allowed = ", ".join(str(m.value) for m in kind)
        labels = ", ".join(m.label_vi if isinstance(m, Labelled) else str(m.value) for m in kind)
        raise _invalid(
            field_name,
            f"Giá trị không hợp lệ (chọn một trong: {labels}).",
            f"Invalid value {value!r} (allowed: {allowed}).",
        ) from None


MAX_AMOUNT = {
    DurationUnit.CALENDAR_MINUTES: 90 * 24 * 60,  # 90 days
    DurationUnit.WORKING_HOURS: 60 * 8,  # about 60 working days
    DurationUnit.WORKING_DAYS: 120,
}


@dataclass(frozen=True)
class SlaDuration:
    """An amount of time in one unit; kept symbolic because the unit decides the clock."""

    amount: int
    unit: DurationUnit

    def __post_init__(self) -> None:
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount <= 0:
            raise _invalid(
                "amount",
                "Thời hạn phải là số nguyên dương.",
                "The amount must be a positive integer.",
            )
        if not isinstance(self.unit, DurationUnit):
            object.__setattr__(self, "unit", _enum(DurationUnit, self.unit, "unit"))
        limit = MAX_AMOUNT[self.unit]
        if self.amount > limit:
            # A deadline years away is a typo, and computing it would stall the event loop.
            raise _invalid(
                "amount",
                f"Thời hạn tối đa {limit} {self.unit.label_vi}.",
                f"At most {limit} {self.unit.value}.",
            )

    def as_calendar_time(self) -> timedelta:
        """The same amount read as calendar time (urgent items: hours → hours, days → 24 h)."""
        if self.unit is DurationUnit.CALENDAR_MINUTES:
            return timedelta(minutes=self.amount)
        if self.unit is DurationUnit.WORKING_HOURS:
            return timedelta(hours=self.amount)
        return timedelta(days=self.amount)

    def to_config(self) -> dict[str, Any]:
        return {"amount": self.amount, "unit": self.unit.value}

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SlaDuration:
        if not isinstance(config, Mapping) or "amount" not in config or "unit" not in config:
            raise _invalid(
                None,
                "Cần có thời lượng và đơn vị tính thời gian.",
                "Both amount and unit are required.",
            )
        return cls(config["amount"], _enum(DurationUnit, config["unit"], "unit"))


@dataclass(frozen=True)
class SlaRule:
    """Deadline for one stage and urgency; ``field_code`` None applies to every field."""

    stage: Stage
    urgency: Urgency
    duration: SlaDuration
    field_code: str | None = None

    def to_config(self) -> dict[str, Any]:
        """Flat dict, one row of the admin's SLA table."""
        return {
            "stage": self.stage.value,
            "urgency": self.urgency.value,
            "field_code": self.field_code,
            **self.duration.to_config(),
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> SlaRule:
        if not isinstance(config, Mapping):
            raise _invalid(None, "Mỗi quy tắc phải là một đối tượng.", "Each rule is an object.")
        field_code = config.get("field_code")
        if field_code is not None and (not isinstance(field_code, str) or not field_code):
            raise _invalid("field_code", "Mã lĩnh vực không hợp lệ.", "Invalid field code.")
        return cls(
            stage=_enum(Stage, config.get("stage"), "stage"),
            urgency=_enum(Urgency, config.get("urgency"), "urgency"),
            duration=SlaDuration.from_config(config),
            field_code=field_code,
        )


def _rule(stage: Stage, urgency: Urgency, amount: int, unit: DurationUnit) -> SlaRule:
    return SlaRule(stage, urgency, SlaDuration(amount, unit))


_S, _A, _R, _V = Stage.SCREEN, Stage.ACCEPT, Stage.RESOLVE, Stage.REVIEW
_U, _N, _C = Urgency.URGENT, Urgency.NORMAL, Urgency.COMPLEX
_MIN, _WH, _WD = (
    DurationUnit.CALENDAR_MINUTES,
    DurationUnit.WORKING_HOURS,
    DurationUnit.WORKING_DAYS,
)

#: docs/domain.md §4 defaults. Urgent resolve is the 4 h first response; the full result
#: (``urgent_result_due``) follows from the calendar, not from this table.
DEFAULT_SLA_RULES: tuple[SlaRule, ...] = (
    _rule(_S, _U, 30, _MIN),
    _rule(_S, _N, 4, _WH),
    _rule(_S, _C, 4, _WH),
    _rule(_A, _U, 60, _MIN),
    _rule(_A, _N, 8, _WH),
    _rule(_A, _C, 8, _WH),
    _rule(_R, _U, 240, _MIN),
    _rule(_R, _N, 5, _WD),
    _rule(_R, _C, 10, _WD),
    _rule(_V, _U, 120, _MIN),
    _rule(_V, _N, 4, _WH),
    _rule(_V, _C, 1, _WD),
)


def quick_fix_rules(field_codes: Iterable[str]) -> tuple[SlaRule, ...]:
    """Field-specific overrides: normal resolve in 3 working days for quick-fix fields."""
    duration = SlaDuration(QUICK_FIX_RESOLVE_DAYS, DurationUnit.WORKING_DAYS)
    return tuple(SlaRule(_R, _N, duration, code) for code in sorted(set(field_codes)))


@dataclass(frozen=True)
class SlaTable:
    """A versioned set of rules with at most one rule per (stage, urgency, field)."""

    rules: tuple[SlaRule, ...]
    version: int = 1
    _index: dict[tuple[Stage, Urgency, str | None], SlaRule] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        object.__setattr__(self, "rules", tuple(self.rules))
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise _invalid(
                "version", "Phiên bản phải là số nguyên ≥ 1.", "Version must be an integer ≥ 1."
            )
        index: dict[tuple[Stage, Urgency, str | None], SlaRule] = {}
        for position, rule in enumerate(self.rules):
            key = (rule.stage, rule.urgency, rule.field_code)
            if key in index:
                raise _invalid(
                    f"rules[{position}]",
                    "Quy tắc bị trùng (cùng bước, mức độ và lĩnh vực).",
                    "Duplicate rule (same stage, urgency and field).",
                )
            index[key] = rule
        object.__setattr__(self, "_index", index)

    def rule_for(self, stage: Stage, field_code: str | None, urgency: Urgency) -> SlaRule:
        """The field's own rule if there is one, otherwise the rule for every field."""
        rule = self._index.get((stage, urgency, field_code)) or self._index.get(
            (stage, urgency, None)
        )
        if rule is None:
            raise DomainError(
                "SLA_RULE_MISSING",
                f"Chưa cấu hình thời hạn cho bước {stage.label_vi}, mức độ {urgency.label_vi}.",
                f"No SLA rule for stage {stage.value}, urgency {urgency.value}.",
            )
        return rule

    def to_config(self) -> list[dict[str, Any]]:
        return [rule.to_config() for rule in self.rules]

    @classmethod
    def from_config(cls, config: Iterable[Mapping[str, Any]] | None, version: int = 1) -> SlaTable:
        """Parse the tenant's rule list; an empty list (the stored default) means the defaults."""
        if config is None or (isinstance(config, list | tuple) and not config):
            return cls(DEFAULT_SLA_RULES, version)
        if not isinstance(config, list | tuple):
            raise _invalid("rules", "Bảng thời hạn phải là danh sách.", "Rules must be a list.")
        rules = []
        for position, item in enumerate(config):
            try:
                rules.append(SlaRule.from_config(item))
            except DomainError as error:
                inner = f".{error.field}" if error.field else ""
                detail = error.details[0]
                raise _invalid(
                    f"rules[{position}]{inner}", detail.message_vi, detail.message_en
                ) from None
        return cls(tuple(rules), version)


def default_sla_table(quick_fix_fields: Iterable[str] = (), version: int = 1) -> SlaTable:
    """Defaults plus the 3-working-day override for the tenant's quick-fix fields."""
    return SlaTable(DEFAULT_SLA_RULES + quick_fix_rules(quick_fix_fields), version)


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


def _calendar_add(calendar: WorkingCalendar, start: datetime, delta: timedelta) -> datetime:
    """Absolute-time addition (via UTC), shown in the tenant's zone."""
    return (start.astimezone(UTC) + delta).astimezone(calendar.timezone)


def compute_due(
    calendar: WorkingCalendar, start: datetime, duration: SlaDuration, urgency: Urgency
) -> datetime:
    """Deadline of a stage that starts at ``start``.

    Urgent items always run on calendar time 24/7 and are never moved. Otherwise working units
    use the calendar; a calendar-minute deadline landing on a non-working day moves to the end of
    the next working day (docs/domain.md §4 clock rules)."""
    _require_aware(start, "start")
    if urgency is Urgency.URGENT:
        return _calendar_add(calendar, start, duration.as_calendar_time())
    if duration.unit is DurationUnit.WORKING_HOURS:
        return calendar.add_working_time(start, timedelta(hours=duration.amount))
    if duration.unit is DurationUnit.WORKING_DAYS:
        return calendar.add_working_days(start, duration.amount)
    due = _calendar_add(calendar, start, duration.as_calendar_time())
    if not calendar.is_working_day(due.date()):
        due = calendar.end_of_day(calendar.next_working_day(due.date()))
    return due


def urgent_result_due(calendar: WorkingCalendar, accepted_at: datetime) -> datetime:
    """The full result of an urgent report: close of office hours of the working day after the
    agency accepted it (a period in days starts the next day, Bộ luật Dân sự 2015, Art. 147)."""
    _require_aware(accepted_at, "accepted_at")
    return calendar.add_working_days(accepted_at, URGENT_RESULT_WORKING_DAYS)


def extend_due_for_pause(
    calendar: WorkingCalendar,
    due: datetime,
    paused_at: datetime,
    resumed_at: datetime,
    urgency: Urgency,
) -> datetime:
    """Push ``due`` by the time the clock stood still (working time, or calendar time if urgent).

    A pause that starts at or after the deadline does not help: the stage was already late,
    and an open information request must not erase a breach."""
    for value, name in ((due, "due"), (paused_at, "paused_at"), (resumed_at, "resumed_at")):
        _require_aware(value, name)
    if resumed_at <= paused_at or paused_at >= due:
        return due.astimezone(calendar.timezone)
    if urgency is Urgency.URGENT:
        return _calendar_add(calendar, due, resumed_at - paused_at)
    paused = calendar.working_time_between(paused_at, resumed_at)
    if paused <= timedelta(0):
        return due.astimezone(calendar.timezone)
    return calendar.add_working_time(due, paused)


def fraction_used(
    calendar: WorkingCalendar, start: datetime, due: datetime, now: datetime, urgency: Urgency
) -> float:
    """Share of the stage time used at ``now`` (0 before start, > 1 when overdue).

    Non-urgent stages measure office-hour time; if the whole window lies outside office hours
    (a calendar-minute rule at night) calendar time is used so the figure still moves."""
    for value, name in ((start, "start"), (due, "due"), (now, "now")):
        _require_aware(value, name)
    if now <= start:
        return 0.0
    if urgency is not Urgency.URGENT:
        total = calendar.working_time_between(start, due)
        if total > timedelta(0):
            return calendar.working_time_between(start, now) / total
    total = due - start
    if total <= timedelta(0):
        return 1.0 if now >= due else 0.0
    return (now - start) / total
