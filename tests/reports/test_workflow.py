"""The workflow table against docs/domain.md §3, §6, §9 (pure, no database)."""

from __future__ import annotations

import dataclasses
import itertools
from collections import deque
from datetime import UTC, datetime, timedelta

import pytest

from core.errors import DomainError
from permissions.actions import Action
from reports.workflow import (
    ALLOW_LATE_RETURN,
    LEADER_SIGN_OFF,
    OPEN_STATES,
    RATING_LABELS_EN,
    RATING_LABELS_VI,
    RATING_WINDOW,
    REOPEN_WINDOW,
    REPORTER_PERMISSIONS,
    STATE_LABELS_EN,
    STATE_LABELS_VI,
    TERMINAL_STATES,
    TRANSITIONS,
    ActorKind,
    ClockEffect,
    Outcome,
    RejectReason,
    ReportState,
    ReturnReason,
    WorkflowAction,
    available_actions,
    find_transition,
    validate_reason,
    window_open,
)

S, A, C = ReportState, WorkflowAction, ClockEffect
STAFF, REPORTER, SYSTEM = ActorKind.STAFF, ActorKind.REPORTER, ActorKind.SYSTEM
ALL_OPTIONS = frozenset({ALLOW_LATE_RETURN, LEADER_SIGN_OFF})

# (state, action) -> (target, permission, actor, reason_required, comment_required, clock),
# written out from docs/domain.md §3 independently of TRANSITIONS, with every option on.
# fmt: off
EXPECTED = {
    (S.SUBMITTED, A.REJECT):         (S.REJECTED, "report:screen", STAFF, True, True, C.STOP_ALL),
    (S.SUBMITTED, A.MARK_DUPLICATE): (S.DUPLICATE, "report:screen", STAFF, False, False,
                                      C.STOP_ALL),
    (S.SUBMITTED, A.REQUEST_INFO):   (S.NEED_INFO, "report:screen", STAFF, False, True,
                                      C.WAIT_REPORTER),
    (S.SUBMITTED, A.ASSIGN):         (S.ASSIGNED, "report:assign", STAFF, False, False,
                                      C.START_ACCEPT),
    (S.SUBMITTED, A.WITHDRAW):       (S.WITHDRAWN, "report:withdraw", REPORTER, False, False,
                                      C.STOP_ALL),
    (S.NEED_INFO, A.PROVIDE_INFO):   (S.SUBMITTED, "report:provide_info", REPORTER, False, False,
                                      C.RESTART_SCREEN),
    (S.NEED_INFO, A.REJECT):         (S.REJECTED, "report:screen", STAFF | SYSTEM, True, True,
                                      C.STOP_ALL),
    (S.NEED_INFO, A.WITHDRAW):       (S.WITHDRAWN, "report:withdraw", REPORTER, False, False,
                                      C.STOP_ALL),
    # Re-routing what an agency holds, with a reason (issue 12, item 2).
    (S.DUPLICATE, A.UNMARK_DUPLICATE): (S.SUBMITTED, "report:screen", STAFF, False, True,
                                        C.RESTART_SCREEN),
    (S.ASSIGNED, A.REROUTE):         (S.ASSIGNED, "report:assign", STAFF, False, True,
                                      C.START_ACCEPT),
    (S.IN_PROGRESS, A.REROUTE):      (S.ASSIGNED, "report:assign", STAFF, False, True,
                                      C.START_ACCEPT),
    (S.ASSIGNED, A.ACCEPT):          (S.IN_PROGRESS, "report:accept", STAFF, False, False,
                                      C.START_RESOLVE),
    (S.ASSIGNED, A.RETURN):          (S.RETURNED, "report:accept", STAFF, True, True,
                                      C.PAUSE_AGENCY),
    (S.RETURNED, A.ASSIGN):          (S.ASSIGNED, "report:assign", STAFF, False, False,
                                      C.START_ACCEPT),
    (S.RETURNED, A.REJECT):          (S.REJECTED, "report:screen", STAFF, True, True, C.STOP_ALL),
    # With the leader's sign-off (issue 12, item 1) the result goes to the agency leader first;
    # the agency's clock keeps running until the leader signs it off to the centre.
    (S.IN_PROGRESS, A.SUBMIT_RESULT): (S.LEADER_REVIEW, "report:submit_result", STAFF, False,
                                       True, C.NONE),
    (S.LEADER_REVIEW, A.SIGN_OFF):   (S.RESULT_SUBMITTED, "report:sign_off", STAFF, False, False,
                                      C.START_REVIEW),
    (S.LEADER_REVIEW, A.SEND_BACK):  (S.IN_PROGRESS, "report:sign_off", STAFF, False, True,
                                      C.NONE),
    # Transferred, not rejected, when it belongs to another locality (issue 12, item 3).
    (S.SUBMITTED, A.TRANSFER):       (S.TRANSFERRED, "report:assign", STAFF, False, True,
                                      C.STOP_ALL),
    (S.RETURNED, A.TRANSFER):        (S.TRANSFERRED, "report:assign", STAFF, False, True,
                                      C.STOP_ALL),
    (S.REOPENED, A.TRANSFER):        (S.TRANSFERRED, "report:assign", STAFF, False, True,
                                      C.STOP_ALL),
    (S.IN_PROGRESS, A.RETURN):       (S.RETURNED, "report:accept", STAFF, True, True,
                                      C.PAUSE_AGENCY),
    (S.RESULT_SUBMITTED, A.APPROVE_RESULT): (S.RESOLVED, "report:review", STAFF, False, False,
                                             C.OPEN_WINDOWS),
    (S.RESULT_SUBMITTED, A.REQUEST_REWORK): (S.IN_PROGRESS, "report:review", STAFF, True, True,
                                             C.RESUME_RESOLVE),
    (S.RESOLVED, A.RATE):            (S.CLOSED, "report:rate", REPORTER, False, False, C.STOP_ALL),
    (S.RESOLVED, A.CLOSE):           (S.CLOSED, "report:close", STAFF | SYSTEM, False, False,
                                      C.STOP_ALL),
    (S.RESOLVED, A.REOPEN):          (S.REOPENED, "report:reopen", STAFF | REPORTER, True, True,
                                      C.RESTART_SCREEN),
    # A rating of 1-2 waits for the centre (docs/domain.md §9: "không hài lòng" feeds review).
    (S.RESOLVED, A.RATE_DISSATISFIED): (S.RATING_REVIEW, "report:rate", REPORTER, False, False,
                                        C.NONE),
    (S.RATING_REVIEW, A.REOPEN):     (S.REOPENED, "report:reopen", STAFF | REPORTER, True, True,
                                      C.RESTART_SCREEN),
    (S.RATING_REVIEW, A.CLOSE):      (S.CLOSED, "report:close", STAFF, True, True, C.STOP_ALL),
    # Auto-close does not cut the 15-day reopen window short.
    (S.CLOSED, A.REOPEN):            (S.REOPENED, "report:reopen", STAFF | REPORTER, True, True,
                                      C.RESTART_SCREEN),
    (S.REOPENED, A.ASSIGN):          (S.ASSIGNED, "report:assign", STAFF, False, False,
                                      C.START_ACCEPT),
    (S.REOPENED, A.CLOSE):           (S.CLOSED, "report:close", STAFF, True, True, C.STOP_ALL),
}
# fmt: on
GATED = {  # only if the tenant switched the option on
    (S.IN_PROGRESS, A.RETURN): ALLOW_LATE_RETURN,
    (S.LEADER_REVIEW, A.SIGN_OFF): LEADER_SIGN_OFF,
    (S.LEADER_REVIEW, A.SEND_BACK): LEADER_SIGN_OFF,
}
# With the option off, the same step takes the default route.
ROUTED = {
    (S.IN_PROGRESS, A.SUBMIT_RESULT): (
        LEADER_SIGN_OFF,
        (S.RESULT_SUBMITTED, "report:submit_result", STAFF, False, True, C.START_REVIEW),
    ),
}

ALL_PAIRS = list(itertools.product(ReportState, WorkflowAction))


def _pairs(transitions):
    return [(state, t.action) for t in transitions for state in t.from_states]


@pytest.mark.parametrize(("state", "action"), ALL_PAIRS, ids=lambda v: v.value)
def test_cross_product(state, action):
    expected = EXPECTED.get((state, action))
    if expected is None:
        with pytest.raises(DomainError) as info:
            find_transition(state, action, options=ALL_OPTIONS)
        assert info.value.code == "INVALID_TRANSITION"
        detail = info.value.details[0]
        assert detail.field is None
        assert state.label_vi in detail.message_vi and action.label_vi in detail.message_vi
        assert state.value in detail.message_en and action.value in detail.message_en
        assert action not in available_actions(state, options=ALL_OPTIONS)
    else:
        t = find_transition(state, action, options=ALL_OPTIONS)
        assert t.action is action and state in t.from_states
        assert (t.to_state, t.permission, t.actor, t.reason_required) == expected[:4]
        assert (t.comment_required, t.clock) == expected[4:]
        assert action in available_actions(state, options=ALL_OPTIONS)


def test_table_matches_domain_exactly():
    assert sorted(set(_pairs(TRANSITIONS))) == sorted(EXPECTED)


def test_only_an_option_routes_one_step_two_ways():
    pairs = _pairs(TRANSITIONS)
    assert sorted(p for p in set(pairs) if pairs.count(p) > 1) == sorted(ROUTED)
    assert len(pairs) == len(set(pairs)) + len(ROUTED)


@pytest.mark.parametrize(("state", "action"), list(ROUTED), ids=str)
def test_option_off_takes_the_default_route(state, action):
    option, expected = ROUTED[state, action]
    t = find_transition(state, action, options=ALL_OPTIONS - {option})
    assert (t.to_state, t.permission, t.actor, t.reason_required) == expected[:4]
    assert (t.comment_required, t.clock) == expected[4:]
    assert t.without_option is option and t.tenant_option is None
    on = find_transition(state, action, options={option})
    assert on.tenant_option is option and on.to_state is not t.to_state


@pytest.mark.parametrize(("state", "action"), list(GATED), ids=str)
def test_tenant_gated_transition(state, action):
    option = GATED[state, action]
    with pytest.raises(DomainError) as info:
        find_transition(state, action)
    assert info.value.code == "INVALID_TRANSITION"
    assert action not in available_actions(state)
    assert find_transition(state, action, options={option}).tenant_option == option
    assert action in available_actions(state, options={option})
    ungated = [t for t in TRANSITIONS if t.tenant_option is None]
    assert {t.tenant_option for t in TRANSITIONS} - {None} == set(GATED.values())
    assert len(ungated) == len(TRANSITIONS) - len(GATED) - len(ROUTED)


def test_terminal_and_open_states_partition():
    assert {S.CLOSED, S.REJECTED, S.DUPLICATE, S.WITHDRAWN, S.TRANSFERRED} == TERMINAL_STATES
    assert set(ReportState) == OPEN_STATES | TERMINAL_STATES
    assert not OPEN_STATES & TERMINAL_STATES
    assert all(s.is_terminal for s in TERMINAL_STATES)
    assert not any(s.is_terminal for s in OPEN_STATES)


@pytest.mark.parametrize("state", sorted(TERMINAL_STATES), ids=str)
def test_terminal_states_have_no_transitions(state):
    """Except reopening a closed report, open only within REOPEN_WINDOW of its result, and
    un-marking a wrong duplicate."""
    ways_out = {t.action for t in TRANSITIONS if state in t.from_states}
    expected = {S.CLOSED: {A.REOPEN}, S.DUPLICATE: {A.UNMARK_DUPLICATE}}.get(state, set())
    assert ways_out == expected
    assert set(available_actions(state, options=ALL_OPTIONS)) == expected
    assert find_transition(S.CLOSED, A.REOPEN).window == REOPEN_WINDOW


def test_reopen_window_counts_from_the_approved_result():
    t = find_transition(S.CLOSED, A.REOPEN)
    resolved = datetime(2026, 3, 18, 2, tzinfo=UTC)
    assert window_open(t, resolved, resolved + REOPEN_WINDOW)
    assert not window_open(t, resolved, resolved + REOPEN_WINDOW + timedelta(seconds=1))
    assert not window_open(t, None, resolved)
    assert window_open(find_transition(S.RESOLVED, A.CLOSE), None, resolved)  # no window
    assert REOPEN_WINDOW > RATING_WINDOW  # auto-close happens inside it


@pytest.mark.parametrize("state", sorted(OPEN_STATES), ids=str)
def test_open_states_have_a_way_out(state):
    """LEADER_REVIEW exists only with the leader's sign-off switched on."""
    assert available_actions(state, options=ALL_OPTIONS)
    assert bool(available_actions(state)) is (state is not S.LEADER_REVIEW)


@pytest.mark.parametrize("options", [frozenset(), ALL_OPTIONS], ids=["default", "all-options"])
def test_every_state_reachable_from_submitted(options):
    seen, queue = {S.SUBMITTED}, deque([S.SUBMITTED])
    while queue:
        state = queue.popleft()
        for action in available_actions(state, options=options):
            target = find_transition(state, action, options=options).to_state
            if target not in seen:
                seen.add(target)
                queue.append(target)
    assert seen == set(ReportState) - (set() if options else {S.LEADER_REVIEW})


def test_clock_stops_exactly_when_entering_a_terminal_state():
    for t in TRANSITIONS:
        assert (t.clock is C.STOP_ALL) == (t.to_state in TERMINAL_STATES), t


def test_permissions_are_known_and_described():
    assert len(Action) == 24
    for t in TRANSITIONS:
        assert isinstance(t.permission, Action)
    for action in Action:
        assert action.label_vi.strip() and action.label_en.strip()
    expected = {
        "report:screen", "report:assign", "report:accept", "report:process",
        "report:submit_result", "report:sign_off", "report:review", "report:reopen", "report:close",
        "report:withdraw", "report:provide_info", "report:rate", "report:view",
        "report:view_reporter", "report:publish", "report:comment", "report:submit",
        "report:submit_on_behalf", "extension:request", "extension:approve", "stats:view",
        "tenant:manage", "tenant:onboard", "province:manage_admins",
    }  # fmt: skip
    assert {a.value for a in Action} == expected


def test_reporter_actions():
    assert {"report:withdraw", "report:provide_info", "report:rate", "report:reopen"} == (
        REPORTER_PERMISSIONS
    )


def test_transitions_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        TRANSITIONS[0].to_state = S.CLOSED  # type: ignore[misc]


REJECT, RETURN = (S.SUBMITTED, A.REJECT), (S.ASSIGNED, A.RETURN)
REWORK, REOPEN = (S.RESULT_SUBMITTED, A.REQUEST_REWORK), (S.RESOLVED, A.REOPEN)
CLOSE_REOPENED, CLOSE_RESOLVED = (S.REOPENED, A.CLOSE), (S.RESOLVED, A.CLOSE)


@pytest.mark.parametrize(
    ("pair", "code", "comment", "errors"),
    [
        (REJECT, "OUT_OF_AREA", "Ngoài địa bàn", []),
        (REJECT, None, "Ngoài địa bàn", ["REASON_REQUIRED"]),
        (REJECT, "  ", "Ngoài địa bàn", ["REASON_REQUIRED"]),
        (REJECT, "OUT_OF_AREA", None, ["COMMENT_REQUIRED"]),
        (REJECT, "OUT_OF_AREA", "   ", ["COMMENT_REQUIRED"]),
        (REJECT, None, None, ["REASON_REQUIRED", "COMMENT_REQUIRED"]),
        (REJECT, "NOT_COMPETENT", "x", ["INVALID_REASON"]),
        (REJECT, "out_of_area", "x", ["INVALID_REASON"]),
        ((S.NEED_INFO, A.REJECT), "INSUFFICIENT_INFO", "Không bổ sung", []),
        (RETURN, "NOT_COMPETENT", "Không đúng thẩm quyền", []),
        (RETURN, "OUT_OF_AREA", "x", ["INVALID_REASON"]),
        (RETURN, None, "x", ["REASON_REQUIRED"]),
        (RETURN, "WRONG_AREA", "", ["COMMENT_REQUIRED"]),
        (REWORK, None, "Ảnh sau xử lý chưa rõ", []),
        (REWORK, "PHOTO_UNCLEAR", "Ảnh sau xử lý chưa rõ", []),
        (REWORK, None, None, ["COMMENT_REQUIRED"]),
        (REWORK, "bad code!", "x", ["INVALID_REASON"]),
        (REOPEN, None, "Chưa được xử lý", []),
        (REOPEN, None, " ", ["COMMENT_REQUIRED"]),
        (CLOSE_REOPENED, None, "Không cần xử lý thêm", []),
        (CLOSE_REOPENED, None, None, ["COMMENT_REQUIRED"]),
        (CLOSE_RESOLVED, None, None, []),
        ((S.SUBMITTED, A.MARK_DUPLICATE), None, None, []),
        ((S.SUBMITTED, A.REQUEST_INFO), None, "Xin gửi thêm ảnh", []),
        ((S.SUBMITTED, A.REQUEST_INFO), None, None, ["COMMENT_REQUIRED"]),
        ((S.IN_PROGRESS, A.SUBMIT_RESULT), None, "Đã vá ổ gà", []),
        ((S.IN_PROGRESS, A.SUBMIT_RESULT), None, "", ["COMMENT_REQUIRED"]),
        ((S.ASSIGNED, A.ACCEPT), None, None, []),
        ((S.RESOLVED, A.RATE), None, None, []),
    ],
)
def test_validate_reason(pair, code, comment, errors):
    t = find_transition(*pair, options=ALL_OPTIONS)
    if not errors:
        validate_reason(t, code, comment)
        return
    with pytest.raises(DomainError) as info:
        validate_reason(t, code, comment)
    assert sorted(d.code for d in info.value.details) == sorted(errors)
    fields = {"REASON_REQUIRED": "reasonCode", "INVALID_REASON": "reasonCode"}
    for d in info.value.details:
        assert d.field == fields.get(d.code, "comment")
        assert d.message_vi and d.message_en


def test_state_labels():
    assert [STATE_LABELS_VI[s] for s in ReportState] == [
        "Chờ tiếp nhận", "Chờ bổ sung", "Đã chuyển xử lý", "Cơ quan trả lại", "Đang xử lý",
        "Chờ lãnh đạo cơ quan duyệt", "Chờ duyệt kết quả", "Đã xử lý", "Phản ánh lại",
        "Chờ xem xét đánh giá thấp", "Đã đóng", "Không tiếp nhận", "Trùng lặp",
        "Đã rút", "Đã chuyển đơn vị triển khai khác",
    ]  # fmt: skip
    assert set(STATE_LABELS_EN) == set(ReportState)
    assert all(s.value == s.name for s in ReportState)
    assert S.RETURNED.label("en") == STATE_LABELS_EN[S.RETURNED]
    assert S.RETURNED.label() == "Cơ quan trả lại"


def test_reason_codes_and_outcomes():
    assert [r.value for r in RejectReason] == [
        "OUT_OF_SCOPE", "OUT_OF_AREA", "DUPLICATE", "INSUFFICIENT_INFO", "UNFOUNDED",
        "OFFENSIVE", "COMPLAINT_OR_DENUNCIATION", "ALREADY_HANDLED", "FAKE_OR_TEST",
    ]  # fmt: skip
    assert [r.value for r in ReturnReason] == ["NOT_COMPETENT", "WRONG_AREA", "INSUFFICIENT_INFO"]
    assert ReturnReason.NOT_COMPETENT.label_vi == "Không đúng thẩm quyền"
    assert [o.value for o in Outcome] == ["FIXED", "CANNOT_FIX", "NOT_RESPONSIBLE"]
    for member in [*RejectReason, *ReturnReason, *Outcome, *WorkflowAction]:
        assert member.label_vi and member.label_en


def test_rating_and_windows():
    assert RATING_LABELS_VI == {
        1: "Rất không hài lòng",
        2: "Không hài lòng",
        3: "Bình thường",
        4: "Hài lòng",
        5: "Rất hài lòng",
    }
    assert set(RATING_LABELS_EN) == {1, 2, 3, 4, 5}
    assert RATING_WINDOW.days == 7
    assert REOPEN_WINDOW.days == 15
