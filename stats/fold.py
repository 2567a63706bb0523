"""One report's history folded into its statistics: the flows it contributes per local day and
its open spans (``stats.indicators`` defines what they mean). Pure: the caller reads the events.

The same function serves the incremental refresh and ``paht stats rebuild``, so the two can only
differ by what they were given (tests/stats/test_rebuild.py proves they give the same tables)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from reports.workflow import (
    OPEN_STATES,
    RUNNING_STAGE,
    SUBMIT,
    TERMINAL_STATES,
    ReportState,
    SideAction,
    WorkflowAction,
)
from stats.indicators import Flow, Standing
from tenants.calendar import WorkingCalendar
from tenants.sla import DUE_SOON_FRACTION, Stage, Urgency

# After an approved result the handling is over, whether the rating is awaited or a low one is
# under the centre's review: only a reopening starts a new cycle.
AFTER_RESULT: frozenset[ReportState] = frozenset({ReportState.RESOLVED, ReportState.RATING_REVIEW})
HANDLING: frozenset[ReportState] = OPEN_STATES - AFTER_RESULT
DONE: frozenset[ReportState] = TERMINAL_STATES | AFTER_RESULT
_RATINGS = {WorkflowAction.RATE.value, WorkflowAction.RATE_DISSATISFIED.value}
_DUE_KEYS = {f"{s.value}_due_at": s for s in Stage}
_WORKFLOW = {a.value for a in WorkflowAction}
_FINISH_FLOW = {
    ReportState.RESOLVED: Flow.RESOLVED,
    ReportState.REJECTED: Flow.REJECTED,
    ReportState.DUPLICATE: Flow.DUPLICATE,
    ReportState.WITHDRAWN: Flow.WITHDRAWN,
    ReportState.CLOSED: Flow.CLOSED_UNRESOLVED,
    ReportState.TRANSFERRED: Flow.TRANSFERRED,
}
# A transferred report's copy carries the sending tenant's history, which that tenant counts:
# the receiving tenant's statistics start at the RECEIVE_TRANSFER event, as at a submission.
_RECEIVED = {SUBMIT, SideAction.RECEIVE_TRANSFER.value}
_SIDE_FLOW = {
    SideAction.REQUEST_EXTENSION.value: Flow.EXTENSION_REQUESTED,
    SideAction.APPROVE_EXTENSION.value: Flow.EXTENSION_APPROVED,
    WorkflowAction.RETURN.value: Flow.RETURNED,
    WorkflowAction.REQUEST_REWORK.value: Flow.REWORKED,
    WorkflowAction.REOPEN.value: Flow.REOPENED,
}


@dataclass(frozen=True)
class Event:
    """What the fold reads of a ``report_event`` row."""

    action: str
    to_state: str
    created_at: datetime
    reason_code: str | None = None
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class Span:
    """A stretch of one handling cycle in one state: ``stage`` runs with deadline ``due`` (and is
    due soon from ``soon``); ``late_before``: a stage of this cycle was already late at ``start``.
    ``end`` is None while the report is still in that state."""

    cycle: int
    start: datetime
    end: datetime | None
    stage: Stage | None
    due: datetime | None
    soon: datetime | None
    late_before: bool

    def covers_just_before(self, at: datetime) -> bool:
        return self.start < at and (self.end is None or at <= self.end)

    def standing_just_before(self, at: datetime) -> Standing:
        """At the instant just before ``at`` (exactly at the deadline is not yet overdue)."""
        if self.late_before or (self.due is not None and at > self.due):
            return Standing.OVERDUE
        if self.soon is not None and at > self.soon:
            return Standing.DUE_SOON
        return Standing.WITHIN

    def to_json(self) -> list[Any]:
        return [
            self.cycle,
            _iso(self.start),
            _iso(self.end),
            self.stage.value if self.stage else None,
            _iso(self.due),
            _iso(self.soon),
            self.late_before,
        ]

    @classmethod
    def from_json(cls, row: list[Any]) -> Span:
        cycle, start, end, stage, due, soon, late = row
        return cls(
            cycle,
            _dt(start),
            _dt(end) if end else None,
            Stage(stage) if stage else None,
            _dt(due) if due else None,
            _dt(soon) if soon else None,
            late,
        )


@dataclass(frozen=True)
class StageRun:
    """One run of a stage's clock (a stretch in a state where it runs) that stopped on ``day``
    (local) after ``seconds`` of working time (``stats.indicators.StageTime``)."""

    day: date
    stage: Stage
    seconds: int


@dataclass
class Folded:
    """A report's contribution: flows by (local day, flow, detail), its open spans, and the
    working time of each stage run that stopped."""

    flows: Counter[tuple[date, str, str]] = field(default_factory=Counter)
    spans: list[Span] = field(default_factory=list)
    runs: list[StageRun] = field(default_factory=list)
    received_at: datetime | None = None

    def cycles(self) -> list[tuple[datetime, datetime | None]]:
        """Each handling cycle as [start, end] (end None while open): for the range index."""
        out: dict[int, list[Any]] = {}
        for s in self.spans:
            out.setdefault(s.cycle, [s.start, s.end])[1] = s.end
        return [(a, b) for a, b in out.values()]


def standing_just_before(spans: Iterable[Span], at: datetime) -> Standing | None:
    """None when the report was not being handled just before ``at``."""
    for span in spans:
        if span.covers_just_before(at):
            return span.standing_just_before(at)
    return None


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None


def _dt(value: str | datetime) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _soon(calendar: WorkingCalendar, start: datetime, due: datetime, urgency: Urgency) -> datetime:
    """When ``DUE_SOON_FRACTION`` of the stage time is used (tenants.sla.fraction_used)."""
    if urgency is not Urgency.URGENT:
        total = calendar.working_time_between(start, due)
        if total > timedelta(0):
            return calendar.add_working_time(start, total * DUE_SOON_FRACTION).astimezone(UTC)
    return start + (due - start) * DUE_SOON_FRACTION


def _midnights_open(
    spans: list[Span], until: datetime, calendar: WorkingCalendar
) -> Counter[tuple[date, str, str]]:
    """``Flow.OPEN_AT`` per local day: the report's standing just before each local midnight
    (the first instant of that day) up to ``until`` at which it was being handled. Spans meet
    end to start, so at most one covers a midnight (``Span.covers_just_before``)."""
    tz = calendar.timezone
    out: Counter[tuple[date, str, str]] = Counter()
    for span in spans:
        limit = until if span.end is None else min(span.end, until)
        day = span.start.astimezone(tz).date() + timedelta(days=1)
        midnight = datetime.combine(day, time(), tz)
        while midnight <= limit:
            out[day, Flow.OPEN_AT.value, span.standing_just_before(midnight).value] += 1
            day += timedelta(days=1)
            midnight = datetime.combine(day, time(), tz)
    return out


def fold(
    events: Iterable[Event], calendar: WorkingCalendar, urgency: str, until: datetime | None = None
) -> Folded:
    """Fold ``events`` (in order of time, then id) of one report into its ``Folded``; with
    ``until`` (the moment of folding) also the balances at each local midnight up to it."""
    out = Folded()
    tz = calendar.timezone
    level = Urgency(urgency) if urgency in {u.value for u in Urgency} else Urgency.NORMAL
    dues: dict[Stage, datetime | None] = {}
    state: ReportState | None = None
    since: datetime | None = None
    cycle, cycle_late, late_at_start = 0, False, False
    # The finish flows of the last finish, and whether the cycle was late before it: an
    # UNMARK_DUPLICATE takes that finish back (the report was being handled all along).
    last_finish: list[tuple[date, str, str]] = []
    late_before_finish = False

    def add(at: datetime, flow: Flow, detail: str = "", n: int = 1) -> None:
        out.flows[at.astimezone(tz).date(), flow.value, detail] += n

    def take_dues(data: dict[str, Any] | None) -> None:
        for key, value in (data or {}).items():
            if key in _DUE_KEYS:
                dues[_DUE_KEYS[key]] = _dt(value) if value else None

    def close_span(at: datetime | None) -> bool:
        """The span of the current state ends at ``at``; True if its stage stopped late."""
        if state not in HANDLING or since is None:
            return False
        stage = RUNNING_STAGE.get(state)
        due = dues.get(stage) if stage else None
        soon = _soon(calendar, since, due, level) if due and due > since else None
        out.spans.append(Span(cycle, since, at, stage, due, soon, late_at_start))
        if at is None or stage is None:
            return False
        late = due is not None and at > due
        add(at, Flow.STAGE_LATE if late else Flow.STAGE_ON_TIME, stage.value)
        worked = calendar.working_time_between(since, at)
        out.runs.append(StageRun(at.astimezone(tz).date(), stage, int(worked.total_seconds())))
        return late

    for e in events:
        at = _dt(e.created_at)
        if e.action in _RECEIVED:
            if e.action != SUBMIT:
                out, dues = Folded(), {}
                cycle, cycle_late, late_at_start = 0, False, False
            out.received_at = at
            add(at, Flow.RECEIVED)
            state, since = ReportState(e.to_state), at
            take_dues(e.data)
            continue
        if e.action in _SIDE_FLOW:
            add(at, _SIDE_FLOW[e.action])
        if e.action not in _WORKFLOW or state is None:
            take_dues(e.data)
            continue
        new = ReportState(e.to_state)
        if e.action == WorkflowAction.UNMARK_DUPLICATE.value and state is ReportState.DUPLICATE:
            # A wrong duplicate: its finish is taken back and the stretch it spent marked is
            # part of the same cycle (open, no clock running); the screening restarts.
            for key in last_finish:
                out.flows[key] -= 1
                if not out.flows[key]:
                    del out.flows[key]
            last_finish = []
            if since is not None:
                out.spans.append(Span(cycle, since, at, None, None, None, late_before_finish))
            take_dues(e.data)
            state, since, late_at_start = new, at, cycle_late
            continue
        if close_span(at):
            cycle_late = True
        if state in HANDLING and new in DONE:
            late_before_finish = cycle_late
            day = at.astimezone(tz).date()
            ended = Flow.FINISHED_LATE if cycle_late else Flow.FINISHED_ON_TIME
            finish = _FINISH_FLOW[new]
            detail = (e.reason_code or "") if finish is Flow.REJECTED else ""
            last_finish = [(day, ended.value, ""), (day, finish.value, detail)]
            for key in last_finish:
                out.flows[key] += 1
        if e.action in _RATINGS and (e.data or {}).get("rating"):
            rating = int(e.data["rating"])  # type: ignore[index]
            add(at, Flow.RATED)
            add(at, Flow.RATING_SUM, n=rating)
            if rating >= 4:
                add(at, Flow.SATISFIED)
        if state not in HANDLING and new in HANDLING:  # a reopening: a new cycle
            cycle, cycle_late = cycle + 1, False
        take_dues(e.data)
        state, since, late_at_start = new, at, cycle_late
    close_span(None)
    if until is not None:
        out.flows.update(_midnights_open(out.spans, until, calendar))
    return out
