"""GraphQL of the evaluation exports (``stats.exports``): ``exportEvaluation`` asks for one (run
by the background pass), ``evaluationExport`` shows its progress and, when done, a signed and
expiring download link (served by the media route)."""

from __future__ import annotations

import datetime
from typing import Self, TypeAlias

import strawberry
from strawberry import relay

from core import clock
from core.graphql import Info, UserError, labelled_enum, run_mutation
from core.labels import Labelled
from core.relay import decode
from permissions.actions import Action
from permissions.graphql import requires
from stats import exports, models
from stats.schema_inputs import PeriodInput


class ExportState(Labelled):
    PENDING = "pending", "Đang chờ", "Waiting"
    RUNNING = "running", "Đang lập", "Being built"
    DONE = "done", "Đã xong", "Done"
    FAILED = "failed", "Không lập được", "Failed"
    EXPIRED = "expired", "Đã hết hạn lưu (tệp đã xoá)", "Expired (the file was removed)"


class ExportLanguage(Labelled):
    VI = "vi", "Tiếng Việt", "Vietnamese"
    EN = "en", "Tiếng Anh", "English"


ExportStateEnum: TypeAlias = ExportState
ExportLanguageEnum: TypeAlias = ExportLanguage
labelled_enum(ExportStateEnum, "EvaluationExportState")
labelled_enum(ExportLanguageEnum, "EvaluationExportLanguage")


@strawberry.type(description="An evaluation export: one XLSX per tenant and its CSVs, zipped.")
class EvaluationExport:
    id: relay.GlobalID
    state: ExportStateEnum
    done: int = strawberry.field(description="Steps done: one per tenant, then the zip.")
    steps: int
    first: datetime.date
    last: datetime.date
    download_url: str | None = strawberry.field(
        description="When done: a signed link that expires (one to two hours)."
    )

    @classmethod
    def of(cls, row: models.StatsExport, info: Info) -> Self:
        url = None
        if row.state == ExportState.DONE.value and row.file_key:
            url = info.context.media.signed(row.file_key, clock.now())
        return cls(
            id=relay.GlobalID("EvaluationExport", str(row.id)),
            state=ExportState(row.state),
            done=row.done,
            steps=row.steps,
            first=row.starts_on,
            last=row.ends_on,
            download_url=url,
        )


@strawberry.input
class ExportEvaluationInput:
    tenant_ids: list[relay.GlobalID] = strawberry.field(
        default_factory=list, description="Default: the caller's tenant."
    )
    period: PeriodInput
    language: ExportLanguageEnum = ExportLanguage.VI


@strawberry.type
class ExportEvaluationPayload:
    export: EvaluationExport | None
    errors: list[UserError]


@strawberry.type
class ExportQuery:
    @strawberry.field(
        extensions=requires(Action.STATS_VIEW),
        description="An export's progress and link: for whoever asked and provincial roles.",
    )
    async def evaluation_export(self, info: Info, id: relay.GlobalID) -> EvaluationExport:
        row = await exports.get_export(info.context.scope, decode(id, "EvaluationExport", "id"))
        return EvaluationExport.of(row, info)


@strawberry.type
class ExportMutation:
    @strawberry.mutation(
        extensions=requires(Action.STATS_VIEW),
        description="Ask for the evaluation workbook(s) of a period, built in the background.",
    )
    async def export_evaluation(
        self, info: Info, input: ExportEvaluationInput
    ) -> ExportEvaluationPayload:
        async def work() -> models.StatsExport:
            return await exports.request_export(
                info.context.scope,
                [decode(t, "Tenant", "tenantIds") for t in input.tenant_ids],
                input.period.period(),
                ExportLanguage(input.language).value,
            )

        return await run_mutation(
            info,
            work,
            lambda row, errors: ExportEvaluationPayload(
                export=EvaluationExport.of(row, info) if row else None, errors=errors
            ),
        )
