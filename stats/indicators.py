"""The pilot's indicators, defined once (docs/domain.md §10; the README's table is this module).

Two kinds of numbers make a period's figures:

* **Flows** — additive counters, one per event of a report's history, kept per local day of the
  tenant (``stats_day``, maintained by ``stats.maintain`` from ``report_event``). A period's flow
  is the sum of its days; a day belongs to the tenant's time zone (its working calendar).
* **Balances** — where each report stands at an instant (open within deadline / due soon /
  overdue) just before the period starts (*carried over*) and just before it ends (*open at the
  end*). Periods start and end at local midnights, so the fold keeps each report's standing
  just before every local midnight it was open over (``Flow.OPEN_AT`` on the day that midnight
  starts, detail the standing; not additive across days) and a period's balances are read from
  its two boundary days. Only a boundary still ahead (a period that ends after today) is
  projected from the open spans of the reports open now (``stats_report.spans``).

A report is *handled* ("đang xử lý") from its submission until it *finishes*: its result is
approved (``RESOLVED``) or it ends without one (``REJECTED``, ``DUPLICATE``, ``WITHDRAWN``, or
``CLOSED`` after a reopening). A reopening starts a new handling cycle. So for every period

    carried over + received + reopened = finished + open at the end        (the balance)

Lateness is charged to the stage that was late (``Stage``: screen, accept, resolve, review).
Each time a stage's clock stops (the report leaves the state in which that stage's deadline
runs, ``reports.workflow.RUNNING_STAGE``) the stage is *on time* when it stopped **at or before**
the deadline in force at that moment (after approved extensions and pauses), otherwise *late*;
one second after the deadline is late. A cycle is late when any of its stages was late, and a
finish is late when its cycle was. Deadlines are the ones the workflow computed on the tenant's
working calendar (``tenants.calendar``): holidays are already in them, nothing is recomputed here.

*Stage times* — how long each run of a stage's clock lasted, in **working hours** of the tenant's
calendar (``WorkingCalendar.working_time_between`` from the moment the report entered the state
in which the stage runs to the moment it left it), one sample per run (``stats_stage_time``, one
row per run, kept by the same fold). A stage that runs twice (an acceptance after a return, a
resolution resumed after rework) gives two samples. See ``StageTime`` for the median and P90.

Pure definitions: no I/O."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from core.labels import Labelled
from tenants.sla import Stage


class Flow(Labelled):
    """Additive counters of ``stats_day``; ``detail`` is the stage or the reason where noted."""

    RECEIVED = "received", "Tiếp nhận trong kỳ", "Received in the period"
    REOPENED = "reopened", "Phản ánh lại", "Reopened"
    FINISHED_ON_TIME = "finished_on_time", "Đã xử lý đúng hạn", "Finished on time"
    FINISHED_LATE = "finished_late", "Đã xử lý trễ hạn", "Finished late"
    RESOLVED = "resolved", "Đã duyệt kết quả", "Result approved"
    REJECTED = "rejected", "Không tiếp nhận", "Rejected"  # detail: the reason code
    DUPLICATE = "duplicate", "Trùng lặp", "Duplicates"
    WITHDRAWN = "withdrawn", "Đã rút", "Withdrawn"
    CLOSED_UNRESOLVED = "closed_unresolved", "Đóng sau phản ánh lại", "Closed after a reopening"
    TRANSFERRED = "transferred", "Chuyển đơn vị triển khai khác", "Transferred to another locality"
    STAGE_ON_TIME = "stage_on_time", "Bước đúng hạn", "Stage on time"  # detail: the stage
    STAGE_LATE = "stage_late", "Bước trễ hạn", "Stage late"  # detail: the stage
    RATED = "rated", "Lượt đánh giá", "Ratings"
    RATING_SUM = "rating_sum", "Tổng điểm đánh giá", "Sum of ratings"
    SATISFIED = "satisfied", "Đánh giá hài lòng (4–5)", "Ratings of 4 or 5"
    EXTENSION_REQUESTED = "extension_requested", "Đề nghị gia hạn", "Extensions requested"
    EXTENSION_APPROVED = "extension_approved", "Được gia hạn", "Extensions granted"
    RETURNED = "returned", "Cơ quan trả lại", "Returned by the agency"
    REWORKED = "reworked", "Yêu cầu xử lý lại", "Sent back for rework"
    # A balance, not a counter: open just before the day's first instant (detail: the standing).
    OPEN_AT = "open_at", "Đang xử lý đầu ngày", "Open at the start of the day"


class Standing(Labelled):
    """Where an open report stands at an instant."""

    WITHIN = "within", "Trong hạn", "Within the deadline"
    DUE_SOON = "due_soon", "Sắp đến hạn", "Due soon"
    OVERDUE = "overdue", "Quá hạn", "Overdue"


FlowKey = tuple[str, str]  # (flow, detail)

MEDIAN, P90 = 0.5, 0.9


def percentile(values: list[float], q: float) -> float | None:
    """The continuous percentile ``q`` of ``values``: sorted ``v``, position ``p = q·(n − 1)``,
    ``v[⌊p⌋] + (p − ⌊p⌋)·(v[⌊p⌋+1] − v[⌊p⌋])`` — PostgreSQL's ``percentile_cont``, which
    ``stats.queries`` runs over ``stats_stage_time`` (this is the reference of that rule)."""
    if not values:
        return None
    v = sorted(values)
    p = q * (len(v) - 1)
    low = int(p)
    high = min(low + 1, len(v) - 1)
    return v[low] + (p - low) * (v[high] - v[low])


@dataclass(frozen=True)
class StageTime:
    """The working time of one stage's runs that stopped in the period (day of the stop).

    ``median_hours`` = ``percentile(hours, 0.5)`` and ``p90_hours`` = ``percentile(hours, 0.9)``
    over the runs' working hours (``percentile``: linear between the two nearest runs); None
    without runs. Percentiles do not add up: a union of slices is computed from its runs, never
    from the slices' percentiles."""

    stage: Stage
    runs: int
    median_hours: float | None
    p90_hours: float | None


def _rate(numerator: int, denominator: int) -> float | None:
    """A share in [0, 1], or None when there is nothing to divide (shown as "—", never 0 %)."""
    return numerator / denominator if denominator else None


@dataclass(frozen=True)
class StageFigures:
    stage: Stage
    on_time: int
    late: int

    @property
    def stopped(self) -> int:
        return self.on_time + self.late

    @property
    def on_time_rate(self) -> float | None:
        """Stops at or before the deadline / all stops of this stage in the period."""
        return _rate(self.on_time, self.stopped)


@dataclass(frozen=True)
class Figures:
    """A period's figures for one slice (a tenant, an agency, a field, a month …).

    Built from flows summed over the period's days and balances at its two ends; every derived
    indicator is a property with its exact rule."""

    flows: Mapping[FlowKey, int] = field(default_factory=dict)
    carried_over: int = 0
    """Open (being handled) just before the period starts."""
    open_at_end: Mapping[Standing, int] = field(default_factory=dict)
    """Open just before the period ends, by standing at that instant: overdue when the running
    stage's deadline has passed or an earlier stage of the cycle was late; due soon once 80 %
    of the running stage's time is used (``tenants.sla.DUE_SOON_FRACTION``); else within."""
    stage_times: Mapping[Stage, StageTime] = field(default_factory=dict)
    """Median and P90 working hours of each stage's runs stopped in the period."""

    def flow(self, flow: Flow, detail: str | None = None) -> int:
        if detail is not None:
            return self.flows.get((flow.value, detail), 0)
        return self._totals.get(flow.value, 0)

    @cached_property
    def _totals(self) -> dict[str, int]:
        """Each flow summed over its details, once (an answer reads every indicator)."""
        totals: dict[str, int] = defaultdict(int)
        for (f, _), n in self.flows.items():
            totals[f] += n
        return dict(totals)

    # --- volumes ------------------------------------------------------------------------
    @property
    def received(self) -> int:
        """Reports submitted in the period (day of the SUBMIT event)."""
        return self.flow(Flow.RECEIVED)

    @property
    def reopened(self) -> int:
        """Reopenings in the period: each starts a new handling cycle."""
        return self.flow(Flow.REOPENED)

    @property
    def to_handle(self) -> int:
        """Cần xử lý: carried over + received + reopened."""
        return self.carried_over + self.received + self.reopened

    @property
    def finished_on_time(self) -> int:
        """Finishes in the period whose cycle had no late stage."""
        return self.flow(Flow.FINISHED_ON_TIME)

    @property
    def finished_late(self) -> int:
        """Finishes in the period whose cycle had a late stage."""
        return self.flow(Flow.FINISHED_LATE)

    @property
    def finished(self) -> int:
        """Đã xử lý: finished on time + finished late."""
        return self.finished_on_time + self.finished_late

    def open(self, standing: Standing | None = None) -> int:
        """Đang xử lý at the end of the period (all, or of one standing)."""
        if standing is None:
            return sum(self.open_at_end.values())
        return self.open_at_end.get(standing, 0)

    @property
    def resolved(self) -> int:
        """Finishes by an approved result (RESOLVED)."""
        return self.flow(Flow.RESOLVED)

    @property
    def rejected(self) -> int:
        return self.flow(Flow.REJECTED)

    def rejected_by_reason(self) -> dict[str, int]:
        """Rejections in the period by reason code (``reports.workflow.RejectReason``)."""
        return {d: n for (f, d), n in self.flows.items() if f == Flow.REJECTED.value and n}

    @property
    def duplicates(self) -> int:
        return self.flow(Flow.DUPLICATE)

    @property
    def withdrawn(self) -> int:
        return self.flow(Flow.WITHDRAWN)

    @property
    def closed_unresolved(self) -> int:
        return self.flow(Flow.CLOSED_UNRESOLVED)

    # --- timeliness ---------------------------------------------------------------------
    @property
    def late_rate(self) -> float | None:
        """Tỉ lệ trễ hạn: (open overdue at the end + finished late) / to handle."""
        return _rate(self.open(Standing.OVERDUE) + self.finished_late, self.to_handle)

    @property
    def on_time_rate(self) -> float | None:
        """Tỉ lệ đúng hạn: 1 − late rate."""
        late = self.late_rate
        return None if late is None else 1 - late

    def stages(self) -> list[StageFigures]:
        """Per stage: its clock stops in the period, on time and late."""
        return [
            StageFigures(
                s, self.flow(Flow.STAGE_ON_TIME, s.value), self.flow(Flow.STAGE_LATE, s.value)
            )
            for s in Stage
        ]

    @property
    def stage_on_time_rate(self) -> float | None:
        """All stages together: stops on time / all stops."""
        on_time, late = self.flow(Flow.STAGE_ON_TIME), self.flow(Flow.STAGE_LATE)
        return _rate(on_time, on_time + late)

    def stage_time(self, stage: Stage) -> StageTime:
        return self.stage_times.get(stage) or StageTime(stage, 0, None, None)

    @property
    def extensions_requested(self) -> int:
        return self.flow(Flow.EXTENSION_REQUESTED)

    @property
    def extensions_approved(self) -> int:
        return self.flow(Flow.EXTENSION_APPROVED)

    @property
    def returned(self) -> int:
        """Returns by the agency (trả lại) in the period."""
        return self.flow(Flow.RETURNED)

    @property
    def reworked(self) -> int:
        """Results sent back for rework in the period."""
        return self.flow(Flow.REWORKED)

    @property
    def reopen_rate(self) -> float | None:
        """Reopened / resolved, both in the period."""
        return _rate(self.reopened, self.resolved)

    # --- satisfaction -------------------------------------------------------------------
    @property
    def rated(self) -> int:
        """Ratings given in the period (day of the RATE event)."""
        return self.flow(Flow.RATED)

    @property
    def rating_mean(self) -> float | None:
        """Sum of the ratings / ratings (1 to 5)."""
        return _rate(self.flow(Flow.RATING_SUM), self.rated)

    @property
    def satisfied_share(self) -> float | None:
        """% hài lòng: ratings of 4 or 5 / ratings. Always shown with ``rated``."""
        return _rate(self.flow(Flow.SATISFIED), self.rated)

    @property
    def response_rate(self) -> float | None:
        """Ratings / results approved, both in the period."""
        return _rate(self.rated, self.resolved)


def merge(parts: list[Figures], stage_times: Mapping[Stage, StageTime] | None = None) -> Figures:
    """The figures of a union of disjoint slices (e.g. two tenants); its stage times, which do
    not add up, are given (computed from the union's runs)."""
    flows: dict[FlowKey, int] = {}
    standing: dict[Standing, int] = {}
    for part in parts:
        for key, n in part.flows.items():
            flows[key] = flows.get(key, 0) + n
        for s, n in part.open_at_end.items():
            standing[s] = standing.get(s, 0) + n
    return Figures(flows, sum(p.carried_over for p in parts), standing, dict(stage_times or {}))
