"""GraphQL: the tenant's working calendar, SLA table and options."""

from __future__ import annotations

import datetime
from typing import Any, Self, TypeAlias

import strawberry

from core import clock
from core.graphql import Info, UserError, labelled_enum, run_mutation
from permissions.actions import Action
from permissions.graphql import login_required, requires
from tenants import regulation
from tenants.calendar import DayEnd as DayEndEnum
from tenants.calendar import WorkingCalendar as Calendar
from tenants.models import TenantSettings
from tenants.options import TenantOptions as OptionsValue
from tenants.options import WorkflowOption as WorkflowOptionEnum
from tenants.sla import DurationUnit as DurationUnitEnum
from tenants.sla import SlaTable
from tenants.sla import Stage as StageEnum
from tenants.types import Urgency

Stage: TypeAlias = StageEnum
labelled_enum(Stage, "SlaStage")
DurationUnit: TypeAlias = DurationUnitEnum
labelled_enum(DurationUnit, "DurationUnit")
WorkflowOption: TypeAlias = WorkflowOptionEnum
labelled_enum(WorkflowOption, "WorkflowOption")
DayDeadlineEnd: TypeAlias = DayEndEnum
labelled_enum(DayDeadlineEnd, "DayDeadlineEnd")


@strawberry.type
class OfficePeriod:
    start: str = strawberry.field(description="HH:MM, local time.")
    end: str


@strawberry.type(description="Lịch làm việc: office hours and the tenant's own days.")
class WorkingCalendar:
    timezone: str
    office_hours: list[OfficePeriod]
    working_weekdays: list[int] = strawberry.field(description="ISO: 1 = Monday … 7 = Sunday.")
    extra_days_off: list[datetime.date]
    extra_working_days: list[datetime.date] = strawberry.field(
        description="Make-up working days (làm bù), e.g. Saturdays."
    )
    public_holidays: list[datetime.date] = strawberry.field(
        description="Vietnamese public holidays this year (from the holidays package)."
    )
    day_deadline_end: DayDeadlineEnd = strawberry.field(
        description="Where a deadline counted in days ends: office close or midnight."
    )


@strawberry.type
class SlaRule:
    stage: Stage
    urgency: Urgency
    field_code: str | None = strawberry.field(description="null: every field.")
    amount: int
    unit: DurationUnit


@strawberry.type(description="The choices the regulation leaves to the locality.")
class TenantOptions:
    workflow_options: list[WorkflowOption] = strawberry.field(
        description="Optional workflow steps the tenant has switched on."
    )
    duplicate_radius_m: int = strawberry.field(
        description="Open reports of the same field this close are possible duplicates."
    )
    reply_window_days: int = strawberry.field(
        description="Days a reporter has to answer a request for information."
    )
    publish_on_approval: bool = strawberry.field(
        description="Approved results go to the public feed without a separate decision."
    )
    contact_retention_days: int = strawberry.field(
        description="Days after a report is finished before its reporter's contact data is "
        "anonymised (the report and statistics stay)."
    )

    @classmethod
    def from_options(cls, options: OptionsValue) -> Self:
        return cls(
            workflow_options=sorted(options.workflow_options),
            duplicate_radius_m=options.duplicate_radius_m,
            reply_window_days=options.reply_window_days,
            publish_on_approval=options.publish_on_approval,
            contact_retention_days=options.contact_retention_days,
        )


@strawberry.type(description="The tenant's regulation (quy chế) as configuration.")
class Regulation:
    calendar: WorkingCalendar
    sla_rules: list[SlaRule]
    sla_version: int
    options: TenantOptions

    @classmethod
    def from_row(cls, row: TenantSettings) -> Self:
        calendar = Calendar.from_config(row.calendar)
        config = calendar.to_config()
        year = clock.now().astimezone(calendar.timezone).year  # the tenant's year, not the server's
        holidays = sorted(
            d
            for d in (datetime.date(year, 1, 1) + datetime.timedelta(days=i) for i in range(366))
            if d.year == year
            and d.weekday() < 5
            and not calendar.is_working_day(d)
            and d not in calendar.extra_days_off
        )
        table = SlaTable.from_config(row.sla_rules, row.sla_version)
        return cls(
            calendar=WorkingCalendar(
                timezone=config["timezone"],
                office_hours=[OfficePeriod(start=s, end=e) for s, e in config["office_hours"]],
                working_weekdays=config["working_weekdays"],
                extra_days_off=sorted(calendar.extra_days_off),
                extra_working_days=sorted(calendar.extra_working_days),
                public_holidays=holidays,
                day_deadline_end=calendar.day_deadline_end,
            ),
            sla_rules=[
                SlaRule(
                    stage=r.stage,
                    urgency=r.urgency,
                    field_code=r.field_code,
                    amount=r.duration.amount,
                    unit=r.duration.unit,
                )
                for r in table.rules
            ],
            sla_version=table.version,
            options=TenantOptions.from_options(regulation.options_of(row)),
        )


@strawberry.input
class OfficePeriodInput:
    start: str
    end: str


@strawberry.input
class CalendarInput:
    timezone: str = "Asia/Ho_Chi_Minh"
    office_hours: list[OfficePeriodInput] = strawberry.field(default_factory=list)
    working_weekdays: list[int] | None = None
    extra_days_off: list[datetime.date] = strawberry.field(default_factory=list)
    extra_working_days: list[datetime.date] = strawberry.field(default_factory=list)
    day_deadline_end: DayDeadlineEnd = DayEndEnum.OFFICE_CLOSE


@strawberry.input
class SlaRuleInput:
    stage: Stage
    urgency: Urgency
    amount: int
    unit: DurationUnit
    field_code: str | None = None


@strawberry.input
class UpdateSlaRulesInput:
    rules: list[SlaRuleInput]


@strawberry.input
class TenantOptionsInput:
    workflow_options: list[WorkflowOption] = strawberry.field(default_factory=list)
    duplicate_radius_m: int = OptionsValue.duplicate_radius_m
    reply_window_days: int = OptionsValue.reply_window_days
    publish_on_approval: bool = OptionsValue.publish_on_approval
    contact_retention_days: int = OptionsValue.contact_retention_days


@strawberry.type
class RegulationPayload:
    regulation: Regulation | None
    errors: list[UserError]


@strawberry.input
class ProvinceCalendarInput:
    province_code: str = strawberry.field(description="Mã tỉnh, e.g. 10 for Lào Cai.")
    extra_days_off: list[datetime.date] = strawberry.field(default_factory=list)
    extra_working_days: list[datetime.date] = strawberry.field(
        default_factory=list, description="Make-up working days (làm bù) for the whole province."
    )


@strawberry.type(
    description="The province's day swaps, inherited by each of its tenants (whose own days win)."
)
class ProvinceCalendar:
    province_code: str
    extra_days_off: list[datetime.date]
    extra_working_days: list[datetime.date]

    @classmethod
    def of(cls, row: Any) -> ProvinceCalendar:
        days = row.days
        return cls(
            province_code=row.province_code,
            extra_days_off=[datetime.date.fromisoformat(d) for d in days["extra_days_off"]],
            extra_working_days=[datetime.date.fromisoformat(d) for d in days["extra_working_days"]],
        )


@strawberry.type
class ProvinceCalendarPayload:
    province_calendar: ProvinceCalendar | None
    errors: list[UserError]


def _province_payload(row: Any, errors: list[UserError]) -> ProvinceCalendarPayload:
    calendar = ProvinceCalendar.of(row) if row is not None else None
    return ProvinceCalendarPayload(province_calendar=calendar, errors=errors)


def _payload(row: TenantSettings | None, errors: list[UserError]) -> RegulationPayload:
    return RegulationPayload(regulation=Regulation.from_row(row) if row else None, errors=errors)


@strawberry.type
class RegulationQuery:
    @strawberry.field(
        extensions=login_required(), description="The current tenant's calendar and SLA table."
    )
    async def regulation(self, info: Info) -> Regulation:
        return Regulation.from_row(await regulation.settings_of(info.context.scope))

    @strawberry.field(
        extensions=requires(Action.TENANT_ONBOARD),
        description="The province's day swaps as they stand (empty until entered), which "
        "`updateProvinceCalendar` replaces.",
    )
    async def province_calendar(self, info: Info, province_code: str) -> ProvinceCalendar:
        row = await regulation.province_calendar(info.context.scope, province_code)
        return ProvinceCalendar.of(row)


@strawberry.type
class RegulationMutation:
    @strawberry.mutation(
        extensions=requires(Action.TENANT_ONBOARD),
        description="Replace the province's day swaps (hoán đổi ngày làm việc), entered once by "
        "the province for every tenant of it; a tenant's own days off and make-up days win.",
    )
    async def update_province_calendar(
        self, info: Info, input: ProvinceCalendarInput
    ) -> ProvinceCalendarPayload:
        config = {
            "extra_days_off": [d.isoformat() for d in input.extra_days_off],
            "extra_working_days": [d.isoformat() for d in input.extra_working_days],
        }

        async def work() -> Any:
            return await regulation.update_province_calendar(
                info.context.scope, input.province_code, config
            )

        return await run_mutation(info, work, _province_payload)

    @strawberry.mutation(
        extensions=requires(Action.TENANT_MANAGE),
        description="Replace the working calendar (office hours, days off, make-up working days).",
    )
    async def update_calendar(self, info: Info, input: CalendarInput) -> RegulationPayload:
        config: dict[str, Any] = {
            "timezone": input.timezone,
            "extra_days_off": [d.isoformat() for d in input.extra_days_off],
            "extra_working_days": [d.isoformat() for d in input.extra_working_days],
            "day_deadline_end": str(input.day_deadline_end.value),
        }
        if input.office_hours:
            config["office_hours"] = [[p.start, p.end] for p in input.office_hours]
        if input.working_weekdays is not None:
            config["working_weekdays"] = input.working_weekdays

        async def work() -> TenantSettings:
            return await regulation.update_calendar(info.context.scope, config)

        return await run_mutation(info, work, _payload)

    @strawberry.mutation(
        extensions=requires(Action.TENANT_MANAGE),
        description="Replace the SLA table; its version goes up by one.",
    )
    async def update_sla_rules(self, info: Info, input: UpdateSlaRulesInput) -> RegulationPayload:
        rules = [
            {
                "stage": r.stage.value,
                "urgency": r.urgency.value,
                "field_code": r.field_code,
                "amount": r.amount,
                "unit": r.unit.value,
            }
            for r in input.rules
        ]

        async def work() -> TenantSettings:
            return await regulation.update_sla_rules(info.context.scope, rules)

        return await run_mutation(info, work, _payload)

    @strawberry.mutation(
        extensions=requires(Action.TENANT_MANAGE),
        description="Replace the tenant's options (optional workflow steps, duplicate radius, "
        "reply window, publication on approval).",
    )
    async def update_tenant_options(
        self, info: Info, input: TenantOptionsInput
    ) -> RegulationPayload:
        config = {
            "workflow_options": [o.value for o in input.workflow_options],
            "duplicate_radius_m": input.duplicate_radius_m,
            "reply_window_days": input.reply_window_days,
            "publish_on_approval": input.publish_on_approval,
            "contact_retention_days": input.contact_retention_days,
        }

        async def work() -> TenantSettings:
            return await regulation.update_options(info.context.scope, config)

        return await run_mutation(info, work, _payload)
