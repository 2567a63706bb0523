"""GraphQL types of the parts of a report: where it is, who reported it, its photos, its
history, its result, the extension and the questions to the reporter."""

from __future__ import annotations

import datetime
from typing import Self, TypeAlias

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from core import clock
from core.graphql import Info, labelled_enum
from outbox.graphql_enums import NotifyBy
from reports import loaders, models, service, views
from reports import workflow as wf
from reports.media_formats import MediaKind as MediaKindEnum
from tenants.types import Agency

ReportState: TypeAlias = wf.ReportState
labelled_enum(ReportState, "ReportState")
ReporterKind: TypeAlias = models.ReporterKind
labelled_enum(ReporterKind, "ReporterKind")
Channel: TypeAlias = models.Channel
labelled_enum(Channel, "Channel")
WorkflowAction: TypeAlias = wf.WorkflowAction
labelled_enum(WorkflowAction, "WorkflowAction")
EventAction: TypeAlias = wf.EventAction
labelled_enum(EventAction, "EventAction")
RejectReason: TypeAlias = wf.RejectReason
labelled_enum(RejectReason, "RejectReason")
ReturnReason: TypeAlias = wf.ReturnReason
labelled_enum(ReturnReason, "ReturnReason")
ResultOutcome: TypeAlias = wf.Outcome
labelled_enum(ResultOutcome, "ResultOutcome")
ExtensionStatus: TypeAlias = wf.ExtensionStatus
labelled_enum(ExtensionStatus, "ExtensionStatus")
EscalationLevel: TypeAlias = wf.EscalationLevel
labelled_enum(EscalationLevel, "EscalationLevel")
InfoRequestStatus: TypeAlias = wf.InfoRequestStatus
labelled_enum(InfoRequestStatus, "InfoRequestStatus")
MediaKind: TypeAlias = MediaKindEnum
labelled_enum(MediaKind, "MediaKind")
AttachmentOrigin: TypeAlias = views.AttachmentOrigin
labelled_enum(AttachmentOrigin, "AttachmentOrigin")


@strawberry.type(
    description="Where the problem is. Blurred (~1 km) for sensitive fields unless the caller "
    "holds report:view_reporter for it, or reported it."
)
class Location:
    latitude: float
    longitude: float
    precise: bool

    @classmethod
    def of(cls, latitude: float, longitude: float, sensitive: bool, precise_allowed: bool) -> Self:
        lat, lng, precise = views.location(latitude, longitude, sensitive, precise_allowed)
        return cls(latitude=lat, longitude=lng, precise=precise)


@strawberry.type(description="The reporter's contact. Personal data: centre staff only.")
class ReporterContact:
    name: str
    phone: str | None
    email: str | None


@strawberry.type(
    description="What a report holds about its reporter, shown to that reporter only (the "
    "tracking code's holder or the signed-in reporter), and until when it is kept."
)
class HeldContact:
    name: str
    phone: str | None
    email: str | None
    notify_by: NotifyBy | None
    anonymised_at: datetime.datetime | None = strawberry.field(
        description="When it was blanked: at the end of the retention period or on request."
    )
    kept_until: datetime.datetime | None = strawberry.field(
        description="When it will be blanked (the tenant's retention period after the report "
        "is finished); null while the report is open, or once blanked."
    )

    @classmethod
    def of(cls, held: service.HeldContact) -> Self:
        return cls(
            name=held.name,
            phone=held.phone,
            email=held.email,
            notify_by=NotifyBy(held.notify_by) if held.notify_by else None,
            anonymised_at=held.anonymised_at,
            kept_until=held.kept_until,
        )


@strawberry.type
class Attachment:
    id: relay.GlobalID
    kind: MediaKind
    origin: AttachmentOrigin = strawberry.field(
        description="What it came with: the report, the result, added information…"
    )
    content_type: str
    url: str = strawberry.field(
        description="Absolute. Not a public photo: signed, and working for one to two hours."
    )
    thumbnail_url: str | None = strawberry.field(description="As url; null for videos.")
    width: int | None
    height: int | None
    size: int

    @classmethod
    def from_row(
        cls,
        row: models.Attachment,
        origin: views.AttachmentOrigin,
        info: Info,
        *,
        public: bool = False,
    ) -> Self:
        """``public``: one of the public feed's photos, linked plainly; anything else gets
        signed, expiring links."""
        media = info.context.media
        now = clock.now()

        def link(key: str) -> str:
            return media.public(key) if public else media.signed(key, now)

        return cls(
            id=relay.GlobalID("Attachment", str(row.id)),
            kind=MediaKindEnum(row.kind),
            origin=origin,
            content_type=row.content_type,
            url=link(row.storage_key),
            thumbnail_url=link(row.thumbnail_key) if row.thumbnail_key else None,
            width=row.width,
            height=row.height,
            size=row.size,
        )


@strawberry.type(description="Gia hạn: one extension per report, decided by the centre.")
class ExtensionRequest:
    status: ExtensionStatus
    reason: str
    requested_due_at: datetime.datetime
    decision_comment: str | None
    created_at: datetime.datetime
    decided_at: datetime.datetime | None

    @classmethod
    def from_row(cls, row: models.ExtensionRequest) -> Self:
        return cls(
            status=wf.ExtensionStatus(row.status),
            reason=row.reason,
            requested_due_at=row.requested_due_at,
            decision_comment=row.decision_comment,
            created_at=row.created_at,
            decided_at=row.decided_at,
        )


@strawberry.type(
    description="A question to the reporter and its answer: the centre's (requestInfo, while "
    "screening) or the agency's (askReporter, which pauses its clock)."
)
class InfoRequest:
    question: str
    answer: str | None
    status: InfoRequestStatus
    created_at: datetime.datetime
    answered_at: datetime.datetime | None

    @classmethod
    def from_row(cls, row: models.InfoRequest) -> Self:
        return cls(
            question=row.question,
            answer=row.answer,
            status=wf.InfoRequestStatus(row.status),
            created_at=row.created_at,
            answered_at=row.answered_at,
        )


@strawberry.type(description="One step of the history (append-only).")
class ReportEvent:
    id: relay.GlobalID
    action: EventAction
    from_state: ReportState | None
    to_state: ReportState
    actor_role: str = strawberry.field(
        description="The actor's role (reporter, system, or staff role codes); never a person."
    )
    reason_code: str | None
    comment: str | None = strawberry.field(
        description="For the reporter: only what the step owes them (a rejection's reason, a "
        "question)."
    )
    public: bool
    data: JSON | None = strawberry.field(description="Staff only: deadlines and ids set.")
    created_at: datetime.datetime
    row: strawberry.Private[models.ReportEvent]

    @classmethod
    def from_view(cls, view: views.EventView) -> Self:
        row = view.event
        return cls(
            id=relay.GlobalID("ReportEvent", str(row.id)),
            action=wf.EventAction(row.action),
            from_state=wf.ReportState(row.from_state) if row.from_state else None,
            to_state=wf.ReportState(row.to_state),
            actor_role=row.actor_role,
            reason_code=row.reason_code,
            comment=row.comment if view.comment_shown else None,
            public=row.public,
            data=row.data if view.data_shown else None,
            created_at=row.created_at,
            row=row,
        )

    @strawberry.field(description="The reason in the request's language, when it is from a list.")
    def reason(self, info: Info) -> str | None:
        codes = (
            wf.REASON_CODES.get(wf.WorkflowAction(self.row.action))
            if (self.row.action in wf.WorkflowAction._value2member_map_)
            else None
        )
        code = self.row.reason_code
        if codes is None or code is None or code not in codes._value2member_map_:
            return None
        return codes(code).label(info.context.lang)

    @strawberry.field(description="The agency the step was taken for (never the person).")
    async def actor_agency(self, info: Info) -> Agency | None:
        if self.row.actor_agency_id is None:
            return None
        row = await loaders.agency_loader(info.context).load(self.row.actor_agency_id)
        return Agency.from_row(row) if row else None


@strawberry.type(description="Kết quả xử lý: the agency's answer, with its photos.")
class ReportResult:
    text: str | None
    outcome: ResultOutcome | None = strawberry.field(description="Set once approved.")
    approved: bool = strawberry.field(
        description="Staff also see a result awaiting review; reporters only approved ones."
    )
    submitted_at: datetime.datetime
    approved_at: datetime.datetime | None
    attachments: list[Attachment]


@strawberry.type(
    description="Where a transferred report went (on the record left behind) or came from (on "
    "the receiving locality's copy)."
)
class ReportTransfer:
    sent: bool = strawberry.field(description="True on the record left behind.")
    tenant_code: str = strawberry.field(description="The other locality, e.g. sa-pa.")
    tenant_name: str = strawberry.field(description="Its name in the request's language.")
    report_code: str | None = strawberry.field(description="The report's code there.")
    tracking_code: str | None = strawberry.field(
        description="The code to follow the copy by: shown to the reporter only, on the record "
        "left behind (the same code as here for an anonymous reporter)."
    )


@strawberry.type(
    description="The master of a duplicate, as the duplicate's reporter follows it: its code, "
    "where it stands and the outcome of its approved result."
)
class MasterOutcome:
    code: str
    state: ReportState
    outcome: ResultOutcome | None
    resolved_at: datetime.datetime | None


@strawberry.type(description="One reveal of a reporter's identity: who saw it, when.")
class ReporterView:
    viewer_id: relay.GlobalID
    viewed_at: datetime.datetime
