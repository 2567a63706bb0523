"""The report workflow as data (docs/domain.md §3, docs/architecture.md §4).

``TRANSITIONS`` is the whole state machine: each entry names the action, the states it leaves, the
state it enters, the permission it needs, who may take it, whether a reason and a comment are
required, and what happens to the SLA clocks. ``find_transition`` and ``validate_reason`` are the
only logic; services and resolvers ask them instead of branching on states. Pure Python, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Flag, StrEnum, auto
from typing import TYPE_CHECKING

from core.errors import DomainError, ErrorDetail
from core.labels import Labelled
from permissions.actions import Action
from tenants.options import WorkflowOption
from tenants.sla import Stage


class ReportState(Labelled):
    SUBMITTED = "SUBMITTED", "Chờ tiếp nhận", "Awaiting intake"
    NEED_INFO = "NEED_INFO", "Chờ bổ sung", "Awaiting information"
    ASSIGNED = "ASSIGNED", "Đã chuyển xử lý", "Assigned"
    RETURNED = "RETURNED", "Cơ quan trả lại", "Returned by the agency"
    IN_PROGRESS = "IN_PROGRESS", "Đang xử lý", "In progress"
    LEADER_REVIEW = (
        "LEADER_REVIEW",
        "Chờ lãnh đạo cơ quan duyệt",
        "Awaiting the agency leader's sign-off",
    )
    RESULT_SUBMITTED = "RESULT_SUBMITTED", "Chờ duyệt kết quả", "Result awaiting review"
    RESOLVED = "RESOLVED", "Đã xử lý", "Resolved"
    REOPENED = "REOPENED", "Phản ánh lại", "Reopened"
    RATING_REVIEW = "RATING_REVIEW", "Chờ xem xét đánh giá thấp", "Low rating under review"
    CLOSED = "CLOSED", "Đã đóng", "Closed"
    REJECTED = "REJECTED", "Không tiếp nhận", "Rejected"
    DUPLICATE = "DUPLICATE", "Trùng lặp", "Duplicate"
    WITHDRAWN = "WITHDRAWN", "Đã rút", "Withdrawn"
    TRANSFERRED = (
        "TRANSFERRED",
        "Đã chuyển đơn vị triển khai khác",
        "Transferred to another locality",
    )

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATES


TERMINAL_STATES: frozenset[ReportState] = frozenset(
    {
        ReportState.CLOSED,
        ReportState.REJECTED,
        ReportState.DUPLICATE,
        ReportState.WITHDRAWN,
        ReportState.TRANSFERRED,
    }
)
OPEN_STATES: frozenset[ReportState] = frozenset(ReportState) - TERMINAL_STATES
# The stage whose deadline runs in each state; none while the reporter or the centre holds it.
# The database keeps report.due_at by the same map (trigger report_running_due, migration 0004;
# tests/reports/test_workflow.py holds the two together).
RUNNING_STAGE: dict[ReportState, Stage] = {
    ReportState.SUBMITTED: Stage.SCREEN,
    ReportState.REOPENED: Stage.SCREEN,
    ReportState.ASSIGNED: Stage.ACCEPT,
    ReportState.IN_PROGRESS: Stage.RESOLVE,
    ReportState.LEADER_REVIEW: Stage.RESOLVE,  # inside the agency: its clock keeps running
    ReportState.RESULT_SUBMITTED: Stage.REVIEW,
}
STATE_LABELS_VI: dict[ReportState, str] = {s: s.label_vi for s in ReportState}
STATE_LABELS_EN: dict[ReportState, str] = {s: s.label_en for s in ReportState}


class WorkflowAction(Labelled):
    REJECT = "REJECT", "Không tiếp nhận", "Reject"
    MARK_DUPLICATE = "MARK_DUPLICATE", "Đánh dấu trùng lặp", "Mark as duplicate"
    UNMARK_DUPLICATE = "UNMARK_DUPLICATE", "Bỏ đánh dấu trùng lặp", "Unmark as duplicate"
    REQUEST_INFO = "REQUEST_INFO", "Yêu cầu bổ sung", "Request information"
    PROVIDE_INFO = "PROVIDE_INFO", "Bổ sung thông tin", "Provide information"
    ASSIGN = "ASSIGN", "Chuyển xử lý", "Assign"
    REROUTE = "REROUTE", "Điều chuyển cơ quan chủ trì", "Re-route to another lead agency"
    TRANSFER = "TRANSFER", "Chuyển đơn vị triển khai khác", "Transfer to another locality"
    ACCEPT = "ACCEPT", "Nhận xử lý", "Accept"
    RETURN = "RETURN", "Trả lại", "Return"
    SUBMIT_RESULT = "SUBMIT_RESULT", "Gửi kết quả", "Submit result"
    SIGN_OFF = "SIGN_OFF", "Lãnh đạo cơ quan ký duyệt kết quả", "Leader signs off the result"
    SEND_BACK = "SEND_BACK", "Lãnh đạo cơ quan trả lại cán bộ xử lý", "Leader sends the result back"
    APPROVE_RESULT = "APPROVE_RESULT", "Duyệt kết quả", "Approve result"
    REQUEST_REWORK = "REQUEST_REWORK", "Yêu cầu xử lý lại", "Request rework"
    REOPEN = "REOPEN", "Phản ánh lại", "Reopen"
    CLOSE = "CLOSE", "Đóng", "Close"
    WITHDRAW = "WITHDRAW", "Rút phản ánh", "Withdraw"
    RATE = "RATE", "Đánh giá", "Rate"
    RATE_DISSATISFIED = "RATE_DISSATISFIED", "Đánh giá không hài lòng", "Rate as dissatisfied"


class ClockEffect(StrEnum):
    NONE = "NONE"  # no clock changes
    WAIT_REPORTER = "WAIT_REPORTER"  # screening stops; the reporter's reply window opens
    RESTART_SCREEN = "RESTART_SCREEN"  # waiting ends; a new screening clock starts (centre acts)
    START_ACCEPT = "START_ACCEPT"  # running clock stops; deadlines computed, accept clock starts
    START_RESOLVE = "START_RESOLVE"  # accept clock stops; resolve clock starts
    PAUSE_AGENCY = "PAUSE_AGENCY"  # agency clock pauses while the centre holds the returned report
    START_REVIEW = "START_REVIEW"  # resolve clock pauses; review clock starts
    RESUME_RESOLVE = "RESUME_RESOLVE"  # review stops; resolve resumes, remaining time (min 1 w.d.)
    OPEN_WINDOWS = "OPEN_WINDOWS"  # review stops; rating (7 d) and reopen (15 d) windows open
    STOP_ALL = "STOP_ALL"  # terminal: every clock and window stops, statistics freeze


class ActorKind(Flag):
    """Who may take a transition; a transition may allow several (``STAFF | SYSTEM``)."""

    STAFF = auto()  # a staff member holding the transition's permission in scope
    REPORTER = auto()  # the report's own reporter (ownership checked by the permission system)
    SYSTEM = auto()  # a background job (auto-close, auto-reject after the reply window)


@dataclass(frozen=True)
class Transition:
    action: WorkflowAction
    from_states: frozenset[ReportState]
    to_state: ReportState
    permission: Action
    reason_required: bool
    comment_required: bool
    clock: ClockEffect
    actor: ActorKind
    # Set when the transition exists only if the tenant enables this option.
    tenant_option: WorkflowOption | None = None
    # Set when the step is open only this long after the report was resolved (resolved_at).
    window: timedelta | None = None
    # Set when the transition exists only while the tenant has NOT enabled this option (the
    # same step then takes the option's route instead, e.g. a result via the agency leader).
    without_option: WorkflowOption | None = None


S, A, C, P = ReportState, WorkflowAction, ClockEffect, Action
STAFF, REPORTER, SYSTEM = ActorKind.STAFF, ActorKind.REPORTER, ActorKind.SYSTEM
ALLOW_LATE_RETURN = WorkflowOption.ALLOW_LATE_RETURN
LEADER_SIGN_OFF = WorkflowOption.LEADER_SIGN_OFF
RATING_WINDOW = timedelta(days=7)  # after RESOLVED; then the system closes the report
REOPEN_WINDOW = timedelta(days=15)  # after RESOLVED, closed or not; reopening needs a reason
LOW_RATING_MAX = 2  # ratings 1-2 go to the centre's review queue instead of closing
# A close from these states is the centre's decision after hearing the reporter out (a reason
# and a comment are required): reopening it from CLOSED is refused (CLOSED_BY_DECISION), while
# a report closed by the rating window, by its rating or by a routine close stays reopenable
# within REOPEN_WINDOW.
DECIDED_CLOSE_FROM: frozenset[ReportState] = frozenset(
    {ReportState.RATING_REVIEW, ReportState.REOPENED}
)


def _t(
    action, froms, to, perm, clock, actor=STAFF, *, reason=False, comment=False, option=None,
    window=None, without=None,
):  # fmt: skip
    return Transition(
        action, frozenset(froms), to, perm, reason, comment, clock, actor, option, window,
        without,
    )  # fmt: skip


# fmt: off
TRANSITIONS: tuple[Transition, ...] = (
    _t(A.REJECT, {S.SUBMITTED, S.RETURNED}, S.REJECTED, P.REPORT_SCREEN, C.STOP_ALL,
       reason=True, comment=True),
    _t(A.REJECT, {S.NEED_INFO}, S.REJECTED, P.REPORT_SCREEN, C.STOP_ALL, STAFF | SYSTEM,
       reason=True, comment=True),
    _t(A.MARK_DUPLICATE, {S.SUBMITTED}, S.DUPLICATE, P.REPORT_SCREEN, C.STOP_ALL),
    # A wrong duplicate goes back to intake (the link to the master is cleared), with a reason.
    _t(A.UNMARK_DUPLICATE, {S.DUPLICATE}, S.SUBMITTED, P.REPORT_SCREEN, C.RESTART_SCREEN,
       comment=True),
    _t(A.REQUEST_INFO, {S.SUBMITTED}, S.NEED_INFO, P.REPORT_SCREEN, C.WAIT_REPORTER,
       comment=True),
    _t(A.PROVIDE_INFO, {S.NEED_INFO}, S.SUBMITTED, P.REPORT_PROVIDE_INFO, C.RESTART_SCREEN,
       REPORTER),
    _t(A.WITHDRAW, {S.SUBMITTED, S.NEED_INFO}, S.WITHDRAWN, P.REPORT_WITHDRAW, C.STOP_ALL,
       REPORTER),
    _t(A.ASSIGN, {S.SUBMITTED, S.RETURNED, S.REOPENED}, S.ASSIGNED, P.REPORT_ASSIGN,
       C.START_ACCEPT),
    # The centre moves a report the agency holds to another lead agency, with a reason: the
    # new agency's accept clock starts; its resolve clock starts when it accepts.
    _t(A.REROUTE, {S.ASSIGNED, S.IN_PROGRESS}, S.ASSIGNED, P.REPORT_ASSIGN, C.START_ACCEPT,
       comment=True),
    # A report that belongs to another locality (or to the province) is transferred, not
    # rejected: the receiving tenant gets a copy with its history (reports/transfer.py); this
    # one stays behind, read-only, pointing to it.
    _t(A.TRANSFER, {S.SUBMITTED, S.RETURNED, S.REOPENED}, S.TRANSFERRED, P.REPORT_ASSIGN,
       C.STOP_ALL, comment=True),
    _t(A.ACCEPT, {S.ASSIGNED}, S.IN_PROGRESS, P.REPORT_ACCEPT, C.START_RESOLVE),
    _t(A.RETURN, {S.ASSIGNED}, S.RETURNED, P.REPORT_ACCEPT, C.PAUSE_AGENCY,
       reason=True, comment=True),
    _t(A.RETURN, {S.IN_PROGRESS}, S.RETURNED, P.REPORT_ACCEPT, C.PAUSE_AGENCY,
       reason=True, comment=True, option=ALLOW_LATE_RETURN),
    _t(A.SUBMIT_RESULT, {S.IN_PROGRESS}, S.RESULT_SUBMITTED, P.REPORT_SUBMIT_RESULT,
       C.START_REVIEW, comment=True, without=LEADER_SIGN_OFF),
    # With the tenant's leader sign-off, an officer's result goes to the agency leader first:
    # the agency's resolve clock keeps running until the leader signs it off to the centre.
    _t(A.SUBMIT_RESULT, {S.IN_PROGRESS}, S.LEADER_REVIEW, P.REPORT_SUBMIT_RESULT, C.NONE,
       comment=True, option=LEADER_SIGN_OFF),
    _t(A.SIGN_OFF, {S.LEADER_REVIEW}, S.RESULT_SUBMITTED, P.REPORT_SIGN_OFF, C.START_REVIEW,
       option=LEADER_SIGN_OFF),
    _t(A.SEND_BACK, {S.LEADER_REVIEW}, S.IN_PROGRESS, P.REPORT_SIGN_OFF, C.NONE, comment=True,
       option=LEADER_SIGN_OFF),
    _t(A.APPROVE_RESULT, {S.RESULT_SUBMITTED}, S.RESOLVED, P.REPORT_REVIEW, C.OPEN_WINDOWS),
    _t(A.REQUEST_REWORK, {S.RESULT_SUBMITTED}, S.IN_PROGRESS, P.REPORT_REVIEW, C.RESUME_RESOLVE,
       reason=True, comment=True),
    _t(A.RATE, {S.RESOLVED}, S.CLOSED, P.REPORT_RATE, C.STOP_ALL, REPORTER),
    # A rating of 1-2 (LOW_RATING_MAX) does not close: the centre reviews it (reopens or closes
    # with a reason); the reporter may still reopen within the window.
    _t(A.RATE_DISSATISFIED, {S.RESOLVED}, S.RATING_REVIEW, P.REPORT_RATE, C.NONE, REPORTER),
    _t(A.CLOSE, {S.RESOLVED}, S.CLOSED, P.REPORT_CLOSE, C.STOP_ALL, STAFF | SYSTEM),
    # Reopening is open for REOPEN_WINDOW after the result was approved, whether or not the
    # rating window closed the report meanwhile (auto-close does not cut it short).
    _t(A.REOPEN, {S.RESOLVED, S.RATING_REVIEW, S.CLOSED}, S.REOPENED, P.REPORT_REOPEN,
       C.RESTART_SCREEN, STAFF | REPORTER, reason=True, comment=True, window=REOPEN_WINDOW),
    _t(A.CLOSE, {S.REOPENED, S.RATING_REVIEW}, S.CLOSED, P.REPORT_CLOSE, C.STOP_ALL,
       reason=True, comment=True),
)
# fmt: on

REPORTER_PERMISSIONS: frozenset[Action] = frozenset(
    t.permission for t in TRANSITIONS if REPORTER in t.actor
)
del S, A, C, P, STAFF, REPORTER, SYSTEM


def _exclusive(a: Transition, b: Transition) -> bool:
    """Can never both be enabled: one needs an option the other needs to be off."""
    return (a.tenant_option is not None and a.tenant_option == b.without_option) or (
        b.tenant_option is not None and b.tenant_option == a.without_option
    )


def _index() -> dict[tuple[ReportState, WorkflowAction], tuple[Transition, ...]]:
    index: dict[tuple[ReportState, WorkflowAction], tuple[Transition, ...]] = {}
    for t in TRANSITIONS:
        for state in t.from_states:
            others = index.get((state, t.action), ())
            if any(not _exclusive(t, o) for o in others):
                raise RuntimeError(f"ambiguous transition {state.value} × {t.action.value}")
            index[state, t.action] = (*others, t)
    return index


_INDEX = _index()


def _enabled(t: Transition | None, options: Collection[str]) -> bool:
    return (
        t is not None
        and (t.tenant_option is None or t.tenant_option in options)
        and (t.without_option is None or t.without_option not in options)
    )


def _pick(
    state: ReportState, action: WorkflowAction, options: Collection[str]
) -> Transition | None:
    return next((t for t in _INDEX.get((state, action), ()) if _enabled(t, options)), None)


def find_transition(
    state: ReportState, action: WorkflowAction, *, options: Collection[str] = ()
) -> Transition:
    """The transition ``action`` takes from ``state``; ``options`` are the tenant's enabled
    workflow options (e.g. ``ALLOW_LATE_RETURN``). Raises ``INVALID_TRANSITION`` otherwise."""
    t = _pick(state, action, options)
    if t is None:
        raise DomainError(
            "INVALID_TRANSITION",
            f"Không thể thực hiện thao tác «{action.label_vi}» khi phản ánh đang ở trạng thái "
            f"«{state.label_vi}».",
            f"Action {action.value} ({action.label_en}) is not allowed in state "
            f"{state.value} ({state.label_en}).",
            None,
        )
    return t


def rating_action(rating: int) -> WorkflowAction:
    """The step a rating takes: a low one (1-2) goes to the centre's review queue."""
    return WorkflowAction.RATE_DISSATISFIED if rating <= LOW_RATING_MAX else WorkflowAction.RATE


def window_open(t: Transition, resolved_at: datetime | None, now: datetime) -> bool:
    """Is ``t`` still open at ``now`` (its window counted from the report's ``resolved_at``)?"""
    return t.window is None or (resolved_at is not None and now <= resolved_at + t.window)


def window_closed_error(t: Transition) -> DomainError:
    days = t.window.days if t.window else 0
    return DomainError(
        "WINDOW_CLOSED",
        f"Đã quá {days} ngày kể từ khi có kết quả xử lý: không thể thực hiện "
        f"«{t.action.label_vi}».",
        f"More than {days} days have passed since the result was approved: "
        f"{t.action.value} is no longer possible.",
        None,
    )


def closed_by_decision_error() -> DomainError:
    return DomainError(
        "CLOSED_BY_DECISION",
        "Trung tâm đã đóng phản ánh sau khi xem xét ý kiến của người phản ánh: không thể "
        f"«{WorkflowAction.REOPEN.label_vi}». Hãy gửi phản ánh mới nếu sự việc tái diễn.",
        "The centre closed this report after reviewing the reporter's objection: it cannot be "
        "reopened. Submit a new report if the issue recurs.",
        None,
    )


def available_actions(state: ReportState, *, options: Collection[str] = ()) -> list[WorkflowAction]:
    """The actions allowed from ``state``, in ``WorkflowAction`` order (permissions not checked)."""
    return [a for a in WorkflowAction if _pick(state, a, options) is not None]


# fmt: off
class RejectReason(Labelled):
    OUT_OF_SCOPE = "OUT_OF_SCOPE", "Không thuộc phạm vi / lĩnh vực tiếp nhận", "Out of scope"
    OUT_OF_AREA = "OUT_OF_AREA", "Không thuộc địa bàn", "Outside the area"
    DUPLICATE = "DUPLICATE", "Trùng lặp", "Duplicate"
    INSUFFICIENT_INFO = ("INSUFFICIENT_INFO", "Thiếu thông tin (địa điểm, nội dung, hình ảnh)",
                         "Insufficient information (location, content, photos)")
    UNFOUNDED = "UNFOUNDED", "Nội dung sai sự thật / không có cơ sở", "Untrue or unfounded"
    OFFENSIVE = ("OFFENSIVE",
                 "Ngôn từ thiếu văn hóa, xúc phạm, nội dung xấu độc, vi phạm pháp luật",
                 "Offensive, harmful or unlawful content")
    COMPLAINT_OR_DENUNCIATION = ("COMPLAINT_OR_DENUNCIATION",
                                 "Là khiếu nại / tố cáo / kiến nghị về TTHC",
                                 "A complaint, denunciation or administrative-procedure petition")
    ALREADY_HANDLED = ("ALREADY_HANDLED", "Đã / đang được giải quyết, có bản án hoặc quyết định",
                       "Already being handled or settled by a judgment or decision")
    FAKE_OR_TEST = "FAKE_OR_TEST", "Tin giả / thử hệ thống", "Fake or test report"


class ReturnReason(Labelled):
    NOT_COMPETENT = "NOT_COMPETENT", "Không đúng thẩm quyền", "Not within the agency's competence"
    WRONG_AREA = "WRONG_AREA", "Không thuộc địa bàn của cơ quan", "Outside the agency's area"
    INSUFFICIENT_INFO = "INSUFFICIENT_INFO", "Thiếu thông tin để xử lý", "Insufficient information"


class Outcome(Labelled):
    """The outcome recorded at ``RESOLVED``, kept distinct so the "fixed" rate is honest."""

    FIXED = "FIXED", "Đã khắc phục", "Fixed"
    CANNOT_FIX = "CANNOT_FIX", "Không thể khắc phục", "Cannot be fixed"
    NOT_RESPONSIBLE = ("NOT_RESPONSIBLE", "Không thuộc trách nhiệm của cơ quan nhà nước",
                       "Not the authorities' responsibility")
# fmt: on


class SideAction(Labelled):
    """Event actions of side steps (``ReportEvent.action``), next to ``WorkflowAction``."""

    COMMENT = "COMMENT", "Bình luận", "Comment"
    PUBLISH = "PUBLISH", "Quyết định công khai", "Publication decision"
    REQUEST_EXTENSION = "REQUEST_EXTENSION", "Đề nghị gia hạn", "Extension requested"
    APPROVE_EXTENSION = "APPROVE_EXTENSION", "Duyệt gia hạn", "Extension approved"
    DENY_EXTENSION = "DENY_EXTENSION", "Không duyệt gia hạn", "Extension denied"
    ASK_INFO = "ASK_INFO", "Đề nghị người phản ánh bổ sung", "Information requested"
    ANSWER_INFO = "ANSWER_INFO", "Người phản ánh trả lời", "Information provided"
    SET_COORDINATORS = (
        "SET_COORDINATORS",
        "Cập nhật cơ quan phối hợp",
        "Coordinating agencies changed",
    )
    HAND_OFF = "HAND_OFF", "Giao cán bộ xử lý", "Handed to an officer"
    ESCALATE = "ESCALATE", "Chuyển cấp trên theo dõi", "Escalated"
    RECEIVE_TRANSFER = (
        "RECEIVE_TRANSFER",
        "Tiếp nhận phản ánh do đơn vị triển khai khác chuyển đến",
        "Received by transfer from another locality",
    )


SUBMIT = "SUBMIT"  # the event a submission records (not a transition: nothing precedes it)
if TYPE_CHECKING:  # a type checker cannot read members built from other sets

    class EventAction(Labelled):
        """What an event records: the submission, a transition or a side action."""

else:
    EventAction = Labelled(
        "EventAction",
        [
            ("SUBMIT", (SUBMIT, "Gửi phản ánh", "Submitted")),
            *((a.name, (a.value, a.label_vi, a.label_en)) for a in WorkflowAction),
            *((a.name, (a.value, a.label_vi, a.label_en)) for a in SideAction),
        ],
    )
EventAction.__doc__ = "What an event of the history records: a submission, a step, a side step."


class Disclosure(StrEnum):
    """What the reporter (and the public history of a published report) sees of an event."""

    INTERNAL = "INTERNAL"  # staff only: the agency's and the centre's own business
    STEP = "STEP"  # that it happened, when, for which agency; not what was written
    STEP_AND_COMMENT = "STEP_AND_COMMENT"  # and what was written: owed to the reporter


_D = Disclosure
DISCLOSURE: dict[str, Disclosure] = {
    SUBMIT: _D.STEP_AND_COMMENT,
    WorkflowAction.REJECT: _D.STEP_AND_COMMENT,  # the reason is owed to the citizen
    WorkflowAction.MARK_DUPLICATE: _D.STEP_AND_COMMENT,  # which report it repeats
    WorkflowAction.UNMARK_DUPLICATE: _D.STEP_AND_COMMENT,  # why it is handled after all
    WorkflowAction.REQUEST_INFO: _D.STEP_AND_COMMENT,  # the question itself
    WorkflowAction.PROVIDE_INFO: _D.STEP_AND_COMMENT,
    WorkflowAction.WITHDRAW: _D.STEP_AND_COMMENT,
    WorkflowAction.ASSIGN: _D.STEP,  # routed to an agency; instructions stay internal
    WorkflowAction.REROUTE: _D.STEP,  # now with another agency; the reason stays internal
    WorkflowAction.TRANSFER: _D.STEP_AND_COMMENT,  # where it went and why: the reporter's
    WorkflowAction.ACCEPT: _D.STEP,
    WorkflowAction.RETURN: _D.INTERNAL,  # between the agency and the centre
    WorkflowAction.SUBMIT_RESULT: _D.INTERNAL,  # the result is shown once approved (result)
    WorkflowAction.SIGN_OFF: _D.INTERNAL,  # inside the agency
    WorkflowAction.SEND_BACK: _D.INTERNAL,
    WorkflowAction.APPROVE_RESULT: _D.STEP,
    WorkflowAction.REQUEST_REWORK: _D.INTERNAL,
    WorkflowAction.RATE: _D.STEP_AND_COMMENT,
    WorkflowAction.RATE_DISSATISFIED: _D.STEP_AND_COMMENT,
    WorkflowAction.CLOSE: _D.STEP_AND_COMMENT,
    WorkflowAction.REOPEN: _D.STEP_AND_COMMENT,
    SideAction.COMMENT: _D.INTERNAL,  # unless the author made it public (event.public)
    SideAction.PUBLISH: _D.STEP,
    SideAction.REQUEST_EXTENSION: _D.INTERNAL,
    SideAction.APPROVE_EXTENSION: _D.STEP_AND_COMMENT,  # the new deadline is the reporter's too
    SideAction.DENY_EXTENSION: _D.INTERNAL,
    SideAction.ASK_INFO: _D.STEP_AND_COMMENT,  # a question to the reporter
    SideAction.ANSWER_INFO: _D.STEP_AND_COMMENT,
    SideAction.SET_COORDINATORS: _D.INTERNAL,
    SideAction.HAND_OFF: _D.INTERNAL,  # inside the agency; the reporter never sees officers
    SideAction.RECEIVE_TRANSFER: _D.STEP,  # the locality now handling it
    SideAction.ESCALATE: _D.INTERNAL,  # between the centre and its leadership
}
del _D


def disclosure(action: str, public: bool) -> Disclosure:
    """Of one event: by its action, or by the author's choice for a public comment."""
    if public:
        return Disclosure.STEP_AND_COMMENT
    return DISCLOSURE.get(action, Disclosure.INTERNAL)


class EscalationLevel(Labelled):
    """Who watches a report that breached (or was escalated on demand), in order."""

    LOCALITY = "locality", "Lãnh đạo UBND đơn vị triển khai", "The locality's leadership"
    PROVINCE = "province", "Cấp tỉnh", "The province"


class ExtensionStatus(Labelled):
    PENDING = "pending", "chờ duyệt", "pending"
    APPROVED = "approved", "đã duyệt", "approved"
    DENIED = "denied", "không duyệt", "denied"


class InfoRequestStatus(Labelled):
    OPEN = "open", "chờ trả lời", "awaiting the answer"
    ANSWERED = "answered", "đã trả lời", "answered"


_VI = ("Rất không hài lòng", "Không hài lòng", "Bình thường", "Hài lòng", "Rất hài lòng")
_EN = ("Very dissatisfied", "Dissatisfied", "Neutral", "Satisfied", "Very satisfied")
RATING_LABELS_VI: dict[int, str] = dict(enumerate(_VI, start=1))
RATING_LABELS_EN: dict[int, str] = dict(enumerate(_EN, start=1))
# Actions whose reason must be one of these codes; other actions take a free comment and an
# optional tenant-defined code (upper-case identifier).
REASON_CODES: dict[WorkflowAction, type[Labelled]] = {
    WorkflowAction.REJECT: RejectReason,
    WorkflowAction.RETURN: ReturnReason,
    WorkflowAction.APPROVE_RESULT: Outcome,  # recorded on the report too (report.outcome)
    WorkflowAction.MARK_DUPLICATE: RejectReason,  # always DUPLICATE
}


def permission_of(action: WorkflowAction) -> Action:
    """The one permission an action needs, whichever state it leaves (checked at import)."""
    (permission,) = {t.permission for t in TRANSITIONS if t.action is action}
    return permission


for _action in WorkflowAction:
    permission_of(_action)
_FREE_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")


def _clean(text: str | None) -> str | None:
    return (text or "").strip() or None


def validate_reason(transition: Transition, reason_code: str | None, comment: str | None) -> None:
    """Check the reason code and comment given for ``transition``; names every problem at once.

    A required reason is a code where the action has a code list (``REASON_CODES``), otherwise
    the comment itself."""
    code, text = _clean(reason_code), _clean(comment)
    codes = REASON_CODES.get(transition.action)
    errors: list[ErrorDetail] = []
    if transition.reason_required and codes is not None and code is None:
        errors.append(
            ErrorDetail("REASON_REQUIRED", "Cần chọn lý do.", "A reason is required.", "reasonCode")
        )
    if code is not None and not (
        code in codes.__members__ if codes is not None else _FREE_CODE.fullmatch(code)
    ):
        errors.append(
            ErrorDetail(
                "INVALID_REASON",
                f"Mã lý do «{code}» không hợp lệ cho thao tác «{transition.action.label_vi}».",
                f"Reason code {code!r} is not valid for {transition.action.value}.",
                "reasonCode",
            )
        )
    if text is None and (
        transition.comment_required or (transition.reason_required and codes is None)
    ):
        errors.append(
            ErrorDetail(
                "COMMENT_REQUIRED", "Cần nhập nội dung.", "A comment is required.", "comment"
            )
        )
    if errors:
        raise DomainError.many(errors)
