"""One report's history folded by hand: on-time boundaries (exactly at the deadline, one second
after, across the 30/4 holidays), lateness charged to the late stage, standings at an instant.
The deadlines in the events are the ones the workflow computes (tests/reports/test_deadlines.py
checks those); here they are written out by hand on Sa Pa's default calendar."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from stats.fold import Event, fold, standing_just_before
from stats.indicators import Standing
from tenants.calendar import WorkingCalendar
from tests.clock import vn

CAL = WorkingCalendar()
SECOND = timedelta(seconds=1)


def ev(action: str, to: str, at: datetime, reason: str | None = None, **data: Any) -> Event:
    shown = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in data.items()}
    return Event(action, to, at, reason, shown or None)


def flows(events: list[Event], urgency: str = "normal") -> dict[tuple[date, str, str], int]:
    return dict(fold(events, CAL, urgency).flows)


def test_exactly_at_the_deadline_is_on_time_one_second_after_is_late() -> None:
    d = date(2026, 3, 11)  # a plain Wednesday
    submitted = vn(2026, 3, 11, 9)
    screen_due = vn(2026, 3, 11, 15)  # 4 working hours: 2.5 h before lunch, 1.5 h after
    accept_due = vn(2026, 3, 12, 15)  # 8 working hours after 15:00
    resolve_due = vn(2026, 3, 13, 10)
    review_due = vn(2026, 3, 13, 14)
    events = [
        ev("SUBMIT", "SUBMITTED", submitted, screen_due_at=screen_due),
        ev("ASSIGN", "ASSIGNED", screen_due, accept_due_at=accept_due),  # exactly at the deadline
        ev("ACCEPT", "IN_PROGRESS", accept_due + SECOND, resolve_due_at=resolve_due),  # 1 s late
        ev("SUBMIT_RESULT", "RESULT_SUBMITTED", vn(2026, 3, 13, 9), review_due_at=review_due),
        ev("APPROVE_RESULT", "RESOLVED", review_due),
    ]
    assert flows(events) == {
        (d, "received", ""): 1,
        (d, "stage_on_time", "screen"): 1,
        (date(2026, 3, 12), "stage_late", "accept"): 1,  # charged to the agency's acceptance
        (date(2026, 3, 13), "stage_on_time", "resolve"): 1,
        (date(2026, 3, 13), "stage_on_time", "review"): 1,
        (date(2026, 3, 13), "finished_late", ""): 1,  # the cycle had a late stage
        (date(2026, 3, 13), "resolved", ""): 1,
    }


def test_a_late_review_is_charged_to_the_review_not_the_agency() -> None:
    events = [
        ev("SUBMIT", "SUBMITTED", vn(2026, 3, 11, 9), screen_due_at=vn(2026, 3, 11, 15)),
        ev("ASSIGN", "ASSIGNED", vn(2026, 3, 11, 10), accept_due_at=vn(2026, 3, 12, 10)),
        ev("ACCEPT", "IN_PROGRESS", vn(2026, 3, 11, 11), resolve_due_at=vn(2026, 3, 18, 17)),
        ev(
            "SUBMIT_RESULT",
            "RESULT_SUBMITTED",
            vn(2026, 3, 18, 16, 59),
            review_due_at=vn(2026, 3, 19, 11, 29),
        ),
        ev("APPROVE_RESULT", "RESOLVED", vn(2026, 3, 19, 11, 30)),  # after the agency's deadline
        ev("RATE", "CLOSED", vn(2026, 3, 20, 8), rating=4),
    ]
    out = flows(events)
    assert out[date(2026, 3, 18), "stage_on_time", "resolve"] == 1
    assert out[date(2026, 3, 19), "stage_late", "review"] == 1
    assert (date(2026, 3, 19), "stage_late", "resolve") not in out
    assert out[date(2026, 3, 19), "finished_late", ""] == 1
    assert [out[date(2026, 3, 20), f, ""] for f in ("rated", "rating_sum", "satisfied")] == [
        1,
        4,
        1,
    ]


def test_an_approved_extension_moves_the_deadline_in_force() -> None:
    events = [
        ev("SUBMIT", "SUBMITTED", vn(2026, 3, 11, 9), screen_due_at=vn(2026, 3, 11, 15)),
        ev("ASSIGN", "ASSIGNED", vn(2026, 3, 11, 10), accept_due_at=vn(2026, 3, 12, 10)),
        ev("ACCEPT", "IN_PROGRESS", vn(2026, 3, 11, 11), resolve_due_at=vn(2026, 3, 13, 17)),
        ev(
            "REQUEST_EXTENSION",
            "IN_PROGRESS",
            vn(2026, 3, 12, 9),
            requested_due_at=vn(2026, 3, 20, 17),
        ),
        ev(
            "APPROVE_EXTENSION",
            "IN_PROGRESS",
            vn(2026, 3, 12, 10),
            resolve_due_at=vn(2026, 3, 20, 17),
            previous_resolve_due_at=vn(2026, 3, 13, 17),
        ),
        ev(
            "SUBMIT_RESULT",
            "RESULT_SUBMITTED",
            vn(2026, 3, 19, 9),
            review_due_at=vn(2026, 3, 19, 13),
        ),
    ]
    out = flows(events)
    assert out[date(2026, 3, 19), "stage_on_time", "resolve"] == 1
    assert out[date(2026, 3, 12), "extension_requested", ""] == 1
    assert out[date(2026, 3, 12), "extension_approved", ""] == 1


def test_standing_across_the_holidays() -> None:
    """Submitted on the eve of 30/4 at 16:00: 4 working hours end on Monday 4 May at 10:30
    (1 h on Wednesday, 3 h on Monday); 80 % (3 h 12 min) is used at 09:42 on Monday."""
    spans = fold(
        [ev("SUBMIT", "SUBMITTED", vn(2026, 4, 29, 16), screen_due_at=vn(2026, 5, 4, 10, 30))],
        CAL,
        "normal",
    ).spans
    assert spans[0].soon == vn(2026, 5, 4, 9, 42).astimezone(UTC)
    cases = {
        vn(2026, 4, 29, 16): None,  # not yet submitted just before
        vn(2026, 5, 1, 12): Standing.WITHIN,  # the holiday uses none of the time
        vn(2026, 5, 4, 9, 42): Standing.WITHIN,
        vn(2026, 5, 4, 9, 43): Standing.DUE_SOON,
        vn(2026, 5, 4, 10, 30): Standing.DUE_SOON,  # exactly at the deadline: not yet overdue
        vn(2026, 5, 4, 10, 30) + SECOND: Standing.OVERDUE,
    }
    assert {at: standing_just_before(spans, at) for at in cases} == cases


def test_rejection_reopening_and_cycles() -> None:
    sub = vn(2026, 3, 11, 9)
    events = [
        ev("SUBMIT", "SUBMITTED", sub, screen_due_at=vn(2026, 3, 11, 15)),
        ev("ASSIGN", "ASSIGNED", vn(2026, 3, 11, 10), accept_due_at=vn(2026, 3, 12, 10)),
        ev("ACCEPT", "IN_PROGRESS", vn(2026, 3, 11, 11), resolve_due_at=vn(2026, 3, 12, 17)),
        ev(
            "SUBMIT_RESULT",
            "RESULT_SUBMITTED",
            vn(2026, 3, 13, 9),  # resolve late
            review_due_at=vn(2026, 3, 13, 13),
        ),
        ev("APPROVE_RESULT", "RESOLVED", vn(2026, 3, 13, 10)),
        ev(
            "REOPEN", "REOPENED", vn(2026, 3, 16, 8), "NOT_FIXED", screen_due_at=vn(2026, 3, 16, 12)
        ),
        ev("CLOSE", "CLOSED", vn(2026, 3, 16, 9), "ALREADY_FIXED"),
    ]
    folded = fold(events, CAL, "normal")
    out = dict(folded.flows)
    assert out[date(2026, 3, 13), "finished_late", ""] == 1
    assert out[date(2026, 3, 16), "reopened", ""] == 1
    # The second cycle starts clean: its screening stopped on time, so its finish is on time.
    assert out[date(2026, 3, 16), "finished_on_time", ""] == 1
    assert out[date(2026, 3, 16), "closed_unresolved", ""] == 1
    assert [c for c in folded.cycles()] == [
        (sub.astimezone(UTC), vn(2026, 3, 13, 10).astimezone(UTC)),
        (vn(2026, 3, 16, 8).astimezone(UTC), vn(2026, 3, 16, 9).astimezone(UTC)),
    ]
    # Between the cycles the report was not being handled; in the first, overdue after 17:00.
    assert standing_just_before(folded.spans, vn(2026, 3, 14, 12)) is None
    assert standing_just_before(folded.spans, vn(2026, 3, 13, 9, 30)) is Standing.OVERDUE
    rejected = flows(
        [
            ev("SUBMIT", "SUBMITTED", sub, screen_due_at=vn(2026, 3, 11, 15)),
            ev("REJECT", "REJECTED", vn(2026, 3, 11, 16), "OUT_OF_SCOPE"),
        ]
    )
    d = date(2026, 3, 11)
    assert rejected[d, "rejected", "OUT_OF_SCOPE"] == 1 and rejected[d, "finished_late", ""] == 1
    assert rejected[d, "stage_late", "screen"] == 1


def test_a_low_rating_is_counted_and_its_review_is_not_a_new_cycle() -> None:
    """A rating of 1-2 is the RATE_DISSATISFIED step into the centre's review queue: it counts
    among the ratings (satisfaction would read too high otherwise), and closing the review does
    not finish the report a second time."""
    sub = vn(2026, 3, 11, 9)
    events = [
        ev("SUBMIT", "SUBMITTED", sub, screen_due_at=vn(2026, 3, 11, 15)),
        ev("ASSIGN", "ASSIGNED", vn(2026, 3, 11, 10), accept_due_at=vn(2026, 3, 12, 10)),
        ev("ACCEPT", "IN_PROGRESS", vn(2026, 3, 11, 11), resolve_due_at=vn(2026, 3, 18, 17)),
        ev(
            "SUBMIT_RESULT",
            "RESULT_SUBMITTED",
            vn(2026, 3, 12, 9),
            review_due_at=vn(2026, 3, 12, 13),
        ),
        ev("APPROVE_RESULT", "RESOLVED", vn(2026, 3, 12, 10)),
        ev("RATE_DISSATISFIED", "RATING_REVIEW", vn(2026, 3, 13, 8), rating=2),
        ev("CLOSE", "CLOSED", vn(2026, 3, 13, 9)),
    ]
    folded = fold(events, CAL, "normal")
    out = dict(folded.flows)
    d = date(2026, 3, 13)
    assert (out[d, "rated", ""], out[d, "rating_sum", ""]) == (1, 2)
    assert (d, "satisfied", "") not in out
    assert out[date(2026, 3, 12), "finished_on_time", ""] == 1
    assert sum(n for (_, flow, _), n in out.items() if flow.startswith("finished")) == 1
    assert (d, "closed_unresolved", "") not in out
    assert len(list(folded.cycles())) == 1


def test_an_unmarked_duplicate_takes_its_finish_back_and_stays_open() -> None:
    """Marked as a duplicate at 10:00 by mistake, un-marked at 14:00: no finish remains, the
    report counts as open (no clock running) while it was marked, and each screening run has
    its working time: 09:00→10:00 is 1 h; 14:00→08:00 next day is 3 h + 0.5 h."""
    d = date(2026, 3, 11)
    events = [
        ev("SUBMIT", "SUBMITTED", vn(2026, 3, 11, 9), screen_due_at=vn(2026, 3, 11, 15)),
        ev("MARK_DUPLICATE", "DUPLICATE", vn(2026, 3, 11, 10), "DUPLICATE"),
        ev(
            "UNMARK_DUPLICATE",
            "SUBMITTED",
            vn(2026, 3, 11, 14),
            screen_due_at=vn(2026, 3, 12, 8, 30),
        ),
        ev("ASSIGN", "ASSIGNED", vn(2026, 3, 12, 8), accept_due_at=vn(2026, 3, 13, 8)),
    ]
    folded = fold(events, CAL, "normal")
    assert dict(folded.flows) == {
        (d, "received", ""): 1,
        (d, "stage_on_time", "screen"): 1,  # the (wrong) decision was still taken in time
        (date(2026, 3, 12), "stage_on_time", "screen"): 1,
    }
    assert standing_just_before(folded.spans, vn(2026, 3, 11, 12)) is Standing.WITHIN
    # 80 % of the acceptance's 8 working hours is used at 16:00 on the 12th: due soon.
    assert standing_just_before(folded.spans, vn(2026, 3, 12, 15, 59)) is Standing.WITHIN
    assert standing_just_before(folded.spans, vn(2026, 3, 13, 7)) is Standing.DUE_SOON
    assert [(r.day, r.stage.value, r.seconds) for r in folded.runs] == [
        (d, "screen", 3600),
        (date(2026, 3, 12), "screen", 3 * 3600 + 1800),
    ]
    assert len(folded.cycles()) == 1  # the same handling cycle throughout


def test_a_stage_run_counts_working_hours_only_across_the_holidays() -> None:
    """Assigned Wed 29/4 16:00, accepted Mon 4/5 09:00: 1 h on Wednesday, nothing from Thursday
    30/4 to Sunday 3/5 (holidays and the weekend), 1.5 h on Monday morning."""
    events = [
        ev("SUBMIT", "SUBMITTED", vn(2026, 4, 29, 15), screen_due_at=vn(2026, 5, 4, 9)),
        ev("ASSIGN", "ASSIGNED", vn(2026, 4, 29, 16), accept_due_at=vn(2026, 5, 5, 9)),
        ev("ACCEPT", "IN_PROGRESS", vn(2026, 5, 4, 9), resolve_due_at=vn(2026, 5, 11, 9)),
    ]
    runs = fold(events, CAL, "normal").runs
    assert [(r.stage.value, r.seconds) for r in runs] == [("screen", 3600), ("accept", 9000)]
