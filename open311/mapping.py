"""PAHT's report states as Open311 sees them: ``open`` or ``closed``, the public status note,
which deadline is the ``expected_datetime`` and whether the lead agency is named
(docs/open311.md; the table follows the shared Open311 mapping)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from core.labels import Labelled
from reports.workflow import ReportState as S


class Status(Labelled):
    OPEN = "open", "đang mở", "open"
    CLOSED = "closed", "đã đóng", "closed"


class Note(Labelled):
    """The public status notes that are not the published result or a reason's label."""

    AWAITING_INTAKE = "AWAITING_INTAKE", "Chờ tiếp nhận", "Awaiting intake"
    AWAITING_INFO = ("AWAITING_INFO", "Chờ người phản ánh bổ sung thông tin",
                     "Awaiting more information from the reporter")  # fmt: skip
    ASSIGNED = "ASSIGNED", "Đã chuyển cơ quan xử lý", "Passed to the handling agency"
    IN_PROGRESS = "IN_PROGRESS", "Đang xử lý", "In progress"
    RESOLVED = "RESOLVED", "Đã xử lý", "Resolved"
    REOPENED = "REOPENED", "Người dân phản ánh lại", "Reopened by the reporter"
    WITHDRAWN = "WITHDRAWN", "Người phản ánh đã rút", "Withdrawn by the reporter"
    DUPLICATE = "DUPLICATE", "Trùng với phản ánh {code}", "Duplicate of report {code}"
    TRANSFERRED = ("TRANSFERRED", "Đã chuyển đơn vị triển khai khác xử lý",
                   "Transferred to another locality")  # fmt: skip


class NoteSource(StrEnum):
    FIXED = "FIXED"  # the row's Note
    RESULT = "RESULT"  # the published result (Kết quả xử lý), else the row's Note
    REASON = "REASON"  # the public label of the rejection reason
    MASTER = "MASTER"  # Note.DUPLICATE with the master's code


class Deadline(StrEnum):
    SCREEN = "screen_due_at"
    RESOLVE = "resolve_due_at"


@dataclass(frozen=True)
class StateView:
    status: Status
    note: Note | None
    source: NoteSource = NoteSource.FIXED
    expected: Deadline | None = None
    agency: bool = False  # agency_responsible = the lead agency's name


STATES: dict[S, StateView] = {
    S.SUBMITTED: StateView(Status.OPEN, Note.AWAITING_INTAKE, expected=Deadline.SCREEN),
    S.NEED_INFO: StateView(Status.OPEN, Note.AWAITING_INFO),  # the clock is paused
    S.ASSIGNED: StateView(Status.OPEN, Note.ASSIGNED, expected=Deadline.RESOLVE, agency=True),
    # Internal re-routing is not shown: as ASSIGNED, without the agency that returned it.
    S.RETURNED: StateView(Status.OPEN, Note.ASSIGNED, expected=Deadline.RESOLVE),
    S.IN_PROGRESS: StateView(Status.OPEN, Note.IN_PROGRESS, expected=Deadline.RESOLVE, agency=True),
    # The result is not public until approved.
    S.RESULT_SUBMITTED: StateView(
        Status.OPEN, Note.IN_PROGRESS, expected=Deadline.RESOLVE, agency=True
    ),
    # The agency leader's sign-off is the agency's own business: still in progress.
    S.LEADER_REVIEW: StateView(
        Status.OPEN, Note.IN_PROGRESS, expected=Deadline.RESOLVE, agency=True
    ),
    S.RESOLVED: StateView(Status.CLOSED, Note.RESOLVED, NoteSource.RESULT, Deadline.RESOLVE, True),
    # A low rating under the centre's review: the result stands until the report is reopened.
    S.RATING_REVIEW: StateView(
        Status.CLOSED, Note.RESOLVED, NoteSource.RESULT, Deadline.RESOLVE, True
    ),
    S.REOPENED: StateView(Status.OPEN, Note.REOPENED, agency=True),
    S.CLOSED: StateView(Status.CLOSED, Note.RESOLVED, NoteSource.RESULT, Deadline.RESOLVE, True),
    S.REJECTED: StateView(Status.CLOSED, None, NoteSource.REASON),
    S.DUPLICATE: StateView(Status.CLOSED, Note.DUPLICATE, NoteSource.MASTER),
    S.WITHDRAWN: StateView(Status.CLOSED, Note.WITHDRAWN),
    # Closed here; the receiving locality's copy is a request of its own there.
    S.TRANSFERRED: StateView(Status.CLOSED, Note.TRANSFERRED),
}

STATES_OF: dict[Status, frozenset[S]] = {
    status: frozenset(s for s, view in STATES.items() if view.status is status) for status in Status
}
