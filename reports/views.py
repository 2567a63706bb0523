"""What each kind of reader sees of a report: staff, its reporter, the public.

One place for the rules a reporter's app and the public feed depend on: which steps of the
history and which comments are disclosed (``reports.workflow.DISCLOSURE``), the result once the
centre has approved it, which photos belong to what, and how a sensitive location is blurred.
The GraphQL types only render what these functions decide."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from core.labels import Labelled
from permissions.actions import Action
from permissions.scope import Scope
from reports.models import Attachment, InfoRequest, Report, ReportEvent
from reports.workflow import (
    Disclosure,
    InfoRequestStatus,
    SideAction,
    WorkflowAction,
    disclosure,
)

BLUR_DECIMALS = 2  # ~1 km: the public (and non-privileged) view of a sensitive location


class Viewer(StrEnum):
    STAFF = "STAFF"  # sees the report through a grant: the whole history
    REPORTER = "REPORTER"  # its reporter (logged in, or holding its tracking code)
    PUBLIC = "PUBLIC"  # anyone else (a published report)


def viewer_of(scope: Scope, report: Report, tracked: Collection[uuid.UUID] = ()) -> Viewer:
    agencies = (report.lead_agency_id, *(report.coordinating_agency_ids or ()))
    if any(scope.allows_on(Action.REPORT_VIEW, a, report.field_id) for a in agencies):
        return Viewer.STAFF
    own = scope.user_id is not None and scope.user_id == report.reporter_user_id
    if own or report.id in tracked:
        return Viewer.REPORTER
    return Viewer.PUBLIC


# --- the history ------------------------------------------------------------------------------
@dataclass(frozen=True)
class EventView:
    event: ReportEvent
    comment_shown: bool
    data_shown: bool


def history(events: Iterable[ReportEvent], viewer: Viewer) -> list[EventView]:
    """Staff see every event, with what was written. The reporter and the public see the steps
    the workflow discloses, and the comments it owes them; never internal notes or the data."""
    if viewer is Viewer.STAFF:
        return [EventView(e, True, True) for e in events]
    views = []
    for e in events:
        shown = disclosure(e.action, e.public)
        if shown is not Disclosure.INTERNAL:
            views.append(EventView(e, shown is Disclosure.STEP_AND_COMMENT, False))
    return views


_STEPS = frozenset(a.value for a in WorkflowAction)


# --- the result -------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResultView:
    event: ReportEvent
    approved: bool
    outcome: str | None
    approved_at: Any


def result(report: Report, events: Sequence[ReportEvent], viewer: Viewer) -> ResultView | None:
    """The agency's latest result. Staff see it as soon as it is submitted; the reporter and
    the public only once the centre approved it (a result sent back for rework never was)."""
    steps = [e for e in events if e.action in _STEPS]
    submitted = [i for i, e in enumerate(steps) if e.action == WorkflowAction.SUBMIT_RESULT]
    if not submitted:
        return None
    last = submitted[-1]
    after = steps[last + 1] if last + 1 < len(steps) else None
    approved = after is not None and after.action == WorkflowAction.APPROVE_RESULT
    if not approved and viewer is not Viewer.STAFF:
        return None
    return ResultView(
        event=steps[last],
        approved=approved,
        outcome=report.outcome if approved else None,
        approved_at=after.created_at if approved and after else None,
    )


# --- questions to the reporter -----------------------------------------------------------------
@dataclass(frozen=True)
class QuestionView:
    question: str
    answer: str | None
    status: InfoRequestStatus
    created_at: Any
    answered_at: Any


def questions(events: Sequence[ReportEvent], asked: Iterable[InfoRequest]) -> list[QuestionView]:
    """Both kinds of question, oldest first: the centre's while screening (a REQUEST_INFO step,
    answered by the reporter's PROVIDE_INFO) and the agency's (an InfoRequest row)."""
    found: list[QuestionView] = []
    pending: ReportEvent | None = None
    for e in events:
        if e.action == WorkflowAction.REQUEST_INFO:
            pending = e
        elif e.action == WorkflowAction.PROVIDE_INFO and pending is not None:
            found.append(
                QuestionView(pending.comment or "", e.comment, InfoRequestStatus.ANSWERED,
                             pending.created_at, e.created_at)
            )  # fmt: skip
            pending = None
        elif pending is not None and e.action in _STEPS:  # rejected or withdrawn meanwhile
            pending = None
    if pending is not None:
        found.append(
            QuestionView(pending.comment or "", None, InfoRequestStatus.OPEN, pending.created_at,
                         None)
        )  # fmt: skip
    found += [
        QuestionView(q.question, q.answer, InfoRequestStatus(q.status), q.created_at,
                     q.answered_at)
        for q in asked
    ]  # fmt: skip
    return sorted(found, key=lambda q: q.created_at)


# --- photos and videos ------------------------------------------------------------------------
class AttachmentOrigin(Labelled):
    SUBMISSION = "SUBMISSION", "kèm phản ánh", "with the report"
    RESULT = "RESULT", "kèm kết quả xử lý", "with the result"
    INFORMATION = "INFORMATION", "kèm thông tin bổ sung", "with added information"
    REOPEN = "REOPEN", "kèm phản ánh lại", "with the reopening"
    COMMENT = "COMMENT", "kèm bình luận", "with a comment"


_ORIGIN_OF = {
    WorkflowAction.SUBMIT_RESULT.value: AttachmentOrigin.RESULT,
    WorkflowAction.PROVIDE_INFO.value: AttachmentOrigin.INFORMATION,
    SideAction.ANSWER_INFO.value: AttachmentOrigin.INFORMATION,
    WorkflowAction.REOPEN.value: AttachmentOrigin.REOPEN,
    SideAction.COMMENT.value: AttachmentOrigin.COMMENT,
}


def origin(
    attachment: Attachment, events: dict[uuid.UUID, ReportEvent] | None = None
) -> AttachmentOrigin:
    """From the step the file came with: its action as loaded with it (reports.loaders), or
    looked up in the history."""
    if attachment.event_id is None:
        return AttachmentOrigin.SUBMISSION
    action = getattr(attachment, "event_action", None)
    if action is None and events is not None and attachment.event_id in events:
        action = events[attachment.event_id].action
    return _ORIGIN_OF.get(action or "", AttachmentOrigin.COMMENT)


def attachments(
    report: Report,
    rows: Iterable[Attachment],
    events: Sequence[ReportEvent],
    viewer: Viewer,
) -> list[tuple[Attachment, AttachmentOrigin]]:
    """Staff see every file. Others see the submission's photos, the approved result's, and
    those of steps disclosed to them with their comment."""
    by_id = {e.id: e for e in events}
    shown_events = {v.event.id for v in history(events, viewer) if v.comment_shown}
    approved = result(report, events, viewer)
    out = []
    for row in rows:
        kind = origin(row, by_id)
        if viewer is Viewer.STAFF or kind is AttachmentOrigin.SUBMISSION:
            out.append((row, kind))
        elif kind is AttachmentOrigin.RESULT:
            if approved is not None and approved.event.id == row.event_id:
                out.append((row, kind))
        elif row.event_id in shown_events:
            out.append((row, kind))
    return out


# --- where ------------------------------------------------------------------------------------
def location(
    latitude: float, longitude: float, sensitive: bool, precise_allowed: bool
) -> tuple[float, float, bool]:
    """A sensitive field's location is blurred to ~1 km for whoever may not see it exactly."""
    if sensitive and not precise_allowed:
        return round(latitude, BLUR_DECIMALS), round(longitude, BLUR_DECIMALS), False
    return latitude, longitude, True
