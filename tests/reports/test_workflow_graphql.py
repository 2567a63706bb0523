"""The report workflow over GraphQL HTTP: the demo story from a photo to a closed report, every
workflow mutation tried by every Sa Pa role, and tenant isolation; the helpers are shared with
test_side_paths_graphql.py, test_uploads_graphql.py and test_review_regressions.py."""

from __future__ import annotations

import contextlib
import io
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from PIL import ExifTags, Image

from api.settings import Settings
from permissions.actions import Action
from permissions.session import scoped_transaction
from permissions.templates import TEMPLATES_BY_CODE, TENANT_ADMIN
from reports.models import Attachment, Report, ReportEvent
from reports.workflow import LEADER_SIGN_OFF
from tests.clock import vn
from tests.conftest import GraphQLClient
from tests.factories import jpeg, media_key
from tests.support.workflow import (
    CITIZEN,
    CONTACT,
    HANDLER,
    INPUT_TYPES,
    LEADER,
    OPERATOR,
    REPORT,
    ROLES,
    SAPA_POINT,
    SUBMIT,
    SUPERVISOR,
    Clock,
    Env,
    act,
    at,
    error_codes,
    gid,
    headers,
    make_env,
    multipart,
    mutate,
    own_view,
    prepare,
    report_input,
    staff_view,
    tenant_option,
    when,
)

COORDINATING, LOCALITY = "coordinating_unit", "locality_leader"


# --- helpers ------------------------------------------------------------------------------------


def photos(n: int, **kwargs: Any) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [
        (f"variables.i.attachments.{k}", (f"photo{k}.jpg", jpeg(**kwargs), "image/jpeg"))
        for k in range(n)
    ]


def outcome(body: dict[str, Any], name: str) -> str:
    """ "ok", "graphql:<code>" (the declared permission refused) or "payload:<codes>"."""
    if body.get("errors"):
        [error] = body["errors"]
        assert body["data"] is None and error["path"] == [name], body
        return f"graphql:{error['extensions']['code']}"
    errors = body["data"][name]["errors"]
    return "payload:" + ",".join(e["code"] for e in errors) if errors else "ok"


# --- the world ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def env(pilot: dict[str, Any], gql: GraphQLClient) -> Env:
    return await make_env(pilot, gql)


async def snapshot(env: Env, report_id: uuid.UUID) -> tuple[Any, ...]:
    """What any step would change: state, version, publication, history and attachments."""
    async with scoped_transaction(env.scopes[OPERATOR]):
        report = await Report.get(id=report_id)
        history = await ReportEvent.filter(report_id=report_id).count()
        files = await Attachment.filter(report_id=report_id).count()
    return (report.state, report.version, report.published, report.lead_agency_id, history, files)


# --- the demo story -----------------------------------------------------------------------------


async def test_demo_story_from_photo_to_rating(
    gql: GraphQLClient, env: Env, settings: Settings, time_machine: Clock
) -> None:
    """On a stopped clock, moved by hand from step to step (deadlines by hand on Sa Pa's default
    calendar: 07:30-11:30 and 13:30-17:00; food safety: screen and review 4 working hours, accept
    8, resolve 5 working days)."""

    async def tokens_at(when: datetime) -> tuple[str, ...]:
        moved = await at(env, settings, time_machine, when)
        return tuple(moved.token(r) for r in (CITIZEN, OPERATOR, CONTACT, HANDLER, SUPERVISOR))

    # Wednesday 11 March 2026, 16:59: one working minute is left today.
    citizen, operator, contact, handler, supervisor = await tokens_at(vn(2026, 3, 11, 16, 59))
    photo = jpeg()
    gps = Image.open(io.BytesIO(photo)).getexif().get_ifd(ExifTags.IFD.GPSInfo)
    assert gps[ExifTags.GPS.GPSLatitude] == (22.0, 19.0, 55.2)  # the phone's position is there

    # 1. The citizen submits with one photo (GraphQL multipart request).
    variables = {
        "i": report_input(
            env,
            contact={"name": "Nguyễn Thị Hoa", "phone": "0912000111"},
            attachments=[None],
        )
    }
    files = [("variables.i.attachments.0", ("IMG_0001.jpg", photo, "image/jpeg"))]
    body = await multipart(gql, SUBMIT, variables, files, token=citizen)
    assert "errors" not in body, body
    payload = body["data"]["submitReport"]
    assert payload["errors"] == [] and payload["trackingCode"] is None
    report = payload["report"]
    assert re.fullmatch(r"SP-2026-\d{6}", report["code"]), report["code"]
    assert report["state"] == "SUBMITTED" and report["version"] == 1
    # 4 working hours: 16:59-17:00, then 07:30-11:29 on Thursday.
    assert when(report["screenDueAt"]) == vn(2026, 3, 12, 11, 29)
    assert report["dueAt"] == report["screenDueAt"]
    assert report["availableActions"] == ["WITHDRAW"]
    [attachment] = report["attachments"]
    assert attachment["contentType"] == "image/jpeg"
    assert (attachment["width"], attachment["height"]) == (96, 64)
    assert attachment["thumbnailUrl"] and attachment["thumbnailUrl"] != attachment["url"]
    assert attachment["url"].startswith(f"http://paht.test/media/{env.tenant.id}/")  # absolute
    stored_path = settings.media_dir() / media_key(attachment["url"])
    stored = stored_path.read_bytes()
    assert stored.startswith(b"\xff\xd8\xff") and b"Exif" not in stored
    assert b"PahtPhone" not in stored
    assert not Image.open(io.BytesIO(stored)).getexif()  # no EXIF at all, GPS included
    served = await gql.http.get(attachment["thumbnailUrl"])
    assert served.status_code == 200 and served.content.startswith(b"\xff\xd8\xff")
    rid = report["id"]

    # Who may do what now.
    assert (await staff_view(gql, operator, rid))["availableActions"] == [
        "REJECT",
        "MARK_DUPLICATE",
        "REQUEST_INFO",
        "ASSIGN",
        "TRANSFER",
    ]
    assert (await staff_view(gql, supervisor, rid))["reporter"] == {
        "name": "Nguyễn Thị Hoa",
        "phone": "0912000111",
    }
    assert (await own_view(gql, citizen, rid))["availableActions"] == ["WITHDRAW"]

    # 2. Thursday 08:00: the operator routes it to the field's default agency, the health office.
    citizen, operator, contact, handler, supervisor = await tokens_at(vn(2026, 3, 12, 8))
    report = (
        await act(
            gql,
            "assignReport",
            {
                "id": rid,
                "version": report["version"],
                "leadAgencyId": gid("Agency", env.food.default_agency_id),
                "comment": "Chuyển Phòng Y tế.",
            },
            operator,
        )
    )["report"]
    assert report["state"] == "ASSIGNED" and report["version"] == 2
    assert report["leadAgency"]["id"] == gid("Agency", env.health.id)
    # 8 working hours: 3.5 h + 3.5 h on Thursday, then 07:30-08:30 on Friday.
    assert when(report["acceptDueAt"]) == vn(2026, 3, 13, 8, 30)
    assert report["dueAt"] == report["acceptDueAt"]
    assert report["availableActions"] == ["REROUTE"]  # the operator may still re-route it
    assert (await staff_view(gql, contact, rid))["availableActions"] == ["ACCEPT", "RETURN"]
    assert (await staff_view(gql, handler, rid))["availableActions"] == []
    assert (await own_view(gql, citizen, rid))["availableActions"] == []

    # 3. Thursday 10:00: the agency contact accepts.
    citizen, operator, contact, handler, supervisor = await tokens_at(vn(2026, 3, 12, 10))
    report = (await act(gql, "acceptReport", {"id": rid, "version": 2}, contact))["report"]
    assert report["state"] == "IN_PROGRESS"
    # 5 working days from the next: Fri 13, Mon 16, Tue 17, Wed 18, Thu 19 at closing.
    assert when(report["resolveDueAt"]) == vn(2026, 3, 19, 17)
    assert report["dueAt"] == report["resolveDueAt"]
    assert report["availableActions"] == []  # accepting is done; handling is the handler's
    assert (await staff_view(gql, handler, rid))["availableActions"] == ["SUBMIT_RESULT"]

    # 4. Tuesday 17 March 15:00: the handler posts the result with an after-photo.
    citizen, operator, contact, handler, supervisor = await tokens_at(vn(2026, 3, 17, 15))
    result_text = "Đã kiểm tra, xử phạt 5 triệu đồng và tiêu hủy 20 kg thịt."
    body = await multipart(
        gql,
        f"""mutation($i: SubmitResultInput!) {{ submitResult(input: $i) {{
          report {{ {REPORT} attachments {{ url thumbnailUrl }} }} errors {{ code field }} }} }}""",
        {"i": {"id": rid, "version": 3, "comment": result_text, "attachments": [None]}},
        [("variables.i.attachments.0", ("after.jpg", jpeg((200, 200, 200)), "image/jpeg"))],
        token=handler,
    )
    assert "errors" not in body and body["data"]["submitResult"]["errors"] == [], body
    report = body["data"]["submitResult"]["report"]
    assert report["state"] == "RESULT_SUBMITTED"
    # 4 working hours: 15:00-17:00, then 07:30-09:30 on Wednesday.
    assert when(report["reviewDueAt"]) == vn(2026, 3, 18, 9, 30)
    assert report["dueAt"] == report["reviewDueAt"]
    assert len(report["attachments"]) == 2
    assert all(a["thumbnailUrl"] for a in report["attachments"])
    assert (await staff_view(gql, supervisor, rid))["availableActions"] == [
        "APPROVE_RESULT",
        "REQUEST_REWORK",
    ]

    # 5. Wednesday 09:00: the centre supervisor approves (fixed), and publishes at 09:05.
    citizen, operator, contact, handler, supervisor = await tokens_at(vn(2026, 3, 18, 9))
    report = (
        await act(gql, "approveResult", {"id": rid, "version": 4, "outcome": "FIXED"}, supervisor)
    )["report"]
    assert report["state"] == "RESOLVED" and report["dueAt"] is None
    assert when(report["resolvedAt"]) == vn(2026, 3, 18, 9)
    assert report["availableActions"] == ["REOPEN", "CLOSE"]
    assert (await own_view(gql, citizen, rid))["availableActions"] == ["REOPEN", "RATE"]
    citizen, operator, contact, handler, supervisor = await tokens_at(vn(2026, 3, 18, 9, 5))
    published = (await act(gql, "publishReport", {"id": rid}, supervisor))["report"]
    assert published["published"] is True and published["version"] == 6

    # The feed is newest first and this report is dated March 2026: page until it shows.
    query = """query($after: String) { publicReports(first: 100, after: $after) { edges { node {
      id code title description state stateLabel fieldName address createdAt resolvedAt
      resolveDueAt rating result location { latitude longitude precise } } }
      pageInfo { hasNextPage endCursor } } }"""
    nodes: dict[str, Any] = {}
    feed_text, after = "", None
    while report["code"] not in nodes:
        feed = await gql.http.post(
            "/graphql",
            json={"query": query, "variables": {"after": after}},
            headers=headers(tenant="sa-pa"),
        )
        assert feed.status_code == 200 and "errors" not in feed.json(), feed.text
        page = feed.json()["data"]["publicReports"]
        nodes |= {e["node"]["code"]: e["node"] for e in page["edges"]}
        feed_text += feed.text
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    public = nodes[report["code"]]
    assert public["result"] == result_text and public["state"] == "RESOLVED"
    assert public["location"] == {
        "latitude": SAPA_POINT[0],
        "longitude": SAPA_POINT[1],
        "precise": True,  # food safety is not a sensitive field
    }
    for personal in ("Nguyễn Thị Hoa", "0912000111", str(env.scopes[CITIZEN].user_id)):
        assert personal not in feed_text

    # 6. Friday 10:00: the citizen rates it 5: closed.
    citizen, operator, contact, handler, supervisor = await tokens_at(vn(2026, 3, 20, 10))
    report = (await act(gql, "rateReport", {"id": rid, "version": 6, "rating": 5}, citizen))[
        "report"
    ]
    assert report["state"] == "CLOSED" and report["rating"] == 5
    assert when(report["closedAt"]) == vn(2026, 3, 20, 10)
    assert report["availableActions"] == ["REOPEN"]  # until 15 days after the approval
    assert report["lastEvent"]["data"] is None  # the citizen does not see internal data

    # The history, as staff see it: every step in order, with the deadline each one set.
    final = await staff_view(gql, operator, rid)
    assert final["availableActions"] == ["REOPEN"]
    events = final["events"]
    assert [(e["action"], e["fromState"], e["toState"]) for e in events] == [
        ("SUBMIT", None, "SUBMITTED"),
        ("ASSIGN", "SUBMITTED", "ASSIGNED"),
        ("ACCEPT", "ASSIGNED", "IN_PROGRESS"),
        ("SUBMIT_RESULT", "IN_PROGRESS", "RESULT_SUBMITTED"),
        ("APPROVE_RESULT", "RESULT_SUBMITTED", "RESOLVED"),
        ("PUBLISH", "RESOLVED", "RESOLVED"),
        ("RATE", "RESOLVED", "CLOSED"),
    ]
    submit, assign, accept, result, approve, publish, rate = (e["data"] for e in events)
    assert when(submit["screen_due_at"]) == when(final["screenDueAt"])
    assert submit["unit_code"] == "03001" and submit["attachments"] == 1
    assert when(assign["accept_due_at"]) == when(final["acceptDueAt"])
    assert assign["lead_agency_id"] == str(env.health.id)
    assert when(accept["resolve_due_at"]) == when(final["resolveDueAt"])
    assert when(result["review_due_at"]) == when(final["reviewDueAt"])
    assert when(approve["resolved_at"]) == when(final["resolvedAt"])
    assert publish == {"published": True}
    assert rate["rating"] == 5 and when(rate["closed_at"]) == when(final["closedAt"])
    assert events[3]["comment"] == result_text and events[4]["reasonCode"] == "FIXED"
    assert events[0]["actorRole"] == events[6]["actorRole"] == "reporter"
    assert events[1]["actorRole"] == OPERATOR and events[2]["actorRole"] == CONTACT
    mine = await own_view(gql, citizen, rid)
    assert mine["rating"] == 5 and mine["reporter"] is None
    # The citizen follows the steps owed to them, never the agency's result before approval.
    assert [e["action"] for e in mine["events"]] == [
        "SUBMIT", "ASSIGN", "ACCEPT", "APPROVE_RESULT", "PUBLISH", "RATE"
    ]  # fmt: skip
    assert all(e["data"] is None for e in mine["events"])
    assert [e["actorRole"] for e in mine["events"]][:3] == ["reporter", OPERATOR, CONTACT]


# --- every workflow mutation, every role -------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    mutation: str
    state: str  # where the report must be for the step
    allowed: frozenset[str]  # the roles that succeed
    permission: str | None  # declared on the mutation; None: login only
    to_state: str | None = None  # None: a side step (one more event, the state stays)
    variables: Callable[[Env, Report], dict[str, Any]] = lambda env, r: {}
    setup: dict[str, Any] = field(default_factory=dict)

    def expected(self, role: str) -> str:
        if role in self.allowed:
            return "ok"
        if self.permission is None or holds(role, self.permission):
            return "payload:FORBIDDEN"  # the service narrows: agency, field or ownership
        return "graphql:FORBIDDEN"


def holds(role: str, action: str) -> bool:
    return action in {str(a) for a in TEMPLATES_BY_CODE[role].actions}


def _v(r: Report, **extra: Any) -> dict[str, Any]:
    return {"id": gid("Report", r.id), "version": r.version, **extra}


def _due(r: Report, days: int) -> str:
    assert r.resolve_due_at is not None
    return (r.resolve_due_at + timedelta(days=days)).isoformat()


OWN = frozenset({CITIZEN})
CENTRE = frozenset({OPERATOR, SUPERVISOR})
P = Action
CASES = [
    Case(
        "reject", "rejectReport", "SUBMITTED", CENTRE, P.REPORT_SCREEN, "REJECTED",
        lambda e, r: _v(r, reason="OUT_OF_SCOPE", comment="Không thuộc phạm vi."),
    ),
    Case(
        "mark-duplicate", "markDuplicate", "SUBMITTED", CENTRE, P.REPORT_SCREEN, "DUPLICATE",
        lambda e, r: _v(r, masterId=gid("Report", e.master.id)),  # type: ignore[union-attr]
    ),
    Case(
        "unmark-duplicate", "unmarkDuplicate", "DUPLICATE", CENTRE, P.REPORT_SCREEN, "SUBMITTED",
        lambda e, r: _v(r, comment="Không trùng: khác địa điểm."),
    ),
    Case(
        "request-info", "requestInfo", "SUBMITTED", CENTRE, P.REPORT_SCREEN, "NEED_INFO",
        lambda e, r: _v(r, comment="Cần thêm ảnh."),
    ),
    Case(
        "provide-info", "provideInfo", "NEED_INFO", OWN, P.REPORT_PROVIDE_INFO, "SUBMITTED",
        lambda e, r: _v(r, comment="Ảnh mới đây."),
    ),
    Case(
        "provide-info-not-own", "provideInfo", "NEED_INFO", frozenset(), P.REPORT_PROVIDE_INFO,
        "SUBMITTED", lambda e, r: _v(r, comment="Ảnh mới đây."), {"own": False},
    ),
    Case(
        "assign", "assignReport", "SUBMITTED", CENTRE | {LOCALITY}, P.REPORT_ASSIGN, "ASSIGNED",
        lambda e, r: _v(r, leadAgencyId=gid("Agency", e.health.id)),
    ),
    Case(
        "reroute-assigned", "rerouteReport", "ASSIGNED", CENTRE | {LOCALITY}, P.REPORT_ASSIGN,
        "ASSIGNED", lambda e, r: _v(r, leadAgencyId=gid("Agency", e.urban.id), comment="Sai."),
    ),
    Case(
        "reroute-in-progress", "rerouteReport", "IN_PROGRESS", CENTRE | {LOCALITY},
        P.REPORT_ASSIGN, "ASSIGNED",
        lambda e, r: _v(r, leadAgencyId=gid("Agency", e.urban.id), comment="Sai."),
    ),
    Case(
        "set-coordinating-agencies", "setCoordinatingAgencies", "IN_PROGRESS",
        CENTRE | {LOCALITY}, P.REPORT_ASSIGN, None,
        lambda e, r: _v(r, coordinatingAgencyIds=[gid("Agency", e.urban.id)]),
    ),
    Case(
        "hand-off", "handOffReport", "IN_PROGRESS", frozenset({CONTACT, LEADER}), P.REPORT_ACCEPT,
        None, lambda e, r: _v(r, officerId=gid("User", e.scopes[HANDLER].user_id)),
    ),
    Case(
        "hand-off-other-agency", "handOffReport", "IN_PROGRESS", frozenset(), P.REPORT_ACCEPT,
        None, lambda e, r: _v(r, officerId=gid("User", e.scopes[HANDLER].user_id)),
        {"agency": "urban"},
    ),
    Case(
        "transfer", "transferReport", "SUBMITTED", CENTRE | {LOCALITY}, P.REPORT_ASSIGN,
        "TRANSFERRED",
        lambda e, r: _v(r, tenantCode="lao-cai", comment="Thuộc địa bàn thành phố Lào Cai."),
    ),
    Case(
        "transfer-returned", "transferReport", "RETURNED", CENTRE | {LOCALITY}, P.REPORT_ASSIGN,
        "TRANSFERRED",
        lambda e, r: _v(r, tenantCode="lao-cai", comment="Thuộc địa bàn thành phố Lào Cai."),
    ),
    Case(
        "escalate", "escalateReport", "IN_PROGRESS", CENTRE | {LOCALITY}, P.REPORT_ASSIGN, None,
        lambda e, r: _v(r, comment="Cần lãnh đạo UBND chỉ đạo."),
    ),
    Case(
        "accept", "acceptReport", "ASSIGNED", frozenset({CONTACT, LEADER}), P.REPORT_ACCEPT,
        "IN_PROGRESS", lambda e, r: _v(r),
    ),
    Case(
        "accept-other-agency", "acceptReport", "ASSIGNED", frozenset(), P.REPORT_ACCEPT,
        "IN_PROGRESS", lambda e, r: _v(r), {"agency": "urban"},
    ),
    Case(
        "return", "returnReport", "ASSIGNED", frozenset({CONTACT, LEADER}), P.REPORT_ACCEPT,
        "RETURNED", lambda e, r: _v(r, reason="NOT_COMPETENT", comment="Không đúng."),
    ),
    Case(
        "submit-result", "submitResult", "IN_PROGRESS", frozenset({HANDLER, LEADER}),
        P.REPORT_SUBMIT_RESULT, "RESULT_SUBMITTED", lambda e, r: _v(r, comment="Đã xử lý."),
    ),
    Case(
        "submit-result-other-agency", "submitResult", "IN_PROGRESS", frozenset(),
        P.REPORT_SUBMIT_RESULT, "RESULT_SUBMITTED", lambda e, r: _v(r, comment="Đã xử lý."),
        {"agency": "urban"},
    ),
    Case(
        "sign-off", "signOffResult", "LEADER_REVIEW", frozenset({LEADER}), P.REPORT_SIGN_OFF,
        "RESULT_SUBMITTED", lambda e, r: _v(r),
    ),
    Case(
        "sign-off-other-agency", "signOffResult", "LEADER_REVIEW", frozenset(),
        P.REPORT_SIGN_OFF, "RESULT_SUBMITTED", lambda e, r: _v(r), {"agency": "urban"},
    ),
    Case(
        "send-back", "sendBackResult", "LEADER_REVIEW", frozenset({LEADER}), P.REPORT_SIGN_OFF,
        "IN_PROGRESS", lambda e, r: _v(r, comment="Thiếu ảnh sau xử lý."),
    ),
    Case(
        "approve-result", "approveResult", "RESULT_SUBMITTED", frozenset({SUPERVISOR}),
        P.REPORT_REVIEW, "RESOLVED", lambda e, r: _v(r, outcome="CANNOT_FIX"),
    ),
    Case(
        "request-rework", "requestRework", "RESULT_SUBMITTED", frozenset({SUPERVISOR}),
        P.REPORT_REVIEW, "IN_PROGRESS", lambda e, r: _v(r, comment="Làm lại."),
    ),
    Case(
        "reopen", "reopenReport", "RESOLVED", CENTRE | OWN, P.REPORT_REOPEN, "REOPENED",
        lambda e, r: _v(r, comment="Vẫn còn vi phạm."),
    ),
    Case(
        "reopen-not-own", "reopenReport", "RESOLVED", CENTRE, P.REPORT_REOPEN, "REOPENED",
        lambda e, r: _v(r, comment="Vẫn còn vi phạm."), {"own": False},
    ),
    Case(
        "close", "closeReport", "RESOLVED", CENTRE, P.REPORT_CLOSE, "CLOSED", lambda e, r: _v(r)
    ),
    Case(
        "rate-dissatisfied", "rateReport", "RESOLVED", OWN, P.REPORT_RATE, "RATING_REVIEW",
        lambda e, r: _v(r, rating=2, comment="Chưa xử lý xong."),
    ),
    Case(
        "close-after-low-rating", "closeReport", "RATING_REVIEW", CENTRE, P.REPORT_CLOSE,
        "CLOSED", lambda e, r: _v(r, comment="Đã giải thích cho người dân."),
    ),
    Case(
        "reopen-after-low-rating", "reopenReport", "RATING_REVIEW", CENTRE | OWN,
        P.REPORT_REOPEN, "REOPENED", lambda e, r: _v(r, comment="Vẫn còn vi phạm."),
    ),
    Case(
        "reopen-closed", "reopenReport", "CLOSED", CENTRE | OWN, P.REPORT_REOPEN, "REOPENED",
        lambda e, r: _v(r, comment="Vẫn còn vi phạm."),
    ),
    Case(
        "withdraw", "withdrawReport", "SUBMITTED", OWN, P.REPORT_WITHDRAW, "WITHDRAWN",
        lambda e, r: _v(r),
    ),
    Case(
        "withdraw-not-own", "withdrawReport", "SUBMITTED", frozenset(), P.REPORT_WITHDRAW,
        "WITHDRAWN", lambda e, r: _v(r), {"own": False},
    ),
    Case(
        "rate", "rateReport", "RESOLVED", OWN, P.REPORT_RATE, "CLOSED",
        lambda e, r: _v(r, rating=4),
    ),
    Case(
        "rate-not-own", "rateReport", "RESOLVED", frozenset(), P.REPORT_RATE, "CLOSED",
        lambda e, r: _v(r, rating=4), {"own": False},
    ),
    Case(
        "publish", "publishReport", "RESOLVED", frozenset({SUPERVISOR}), P.REPORT_PUBLISH, None,
        lambda e, r: {"id": gid("Report", r.id)},
    ),
    Case(
        "request-extension", "requestExtension", "IN_PROGRESS", frozenset({HANDLER, LEADER}),
        P.EXTENSION_REQUEST, None,
        lambda e, r: {"id": gid("Report", r.id), "requestedDueAt": _due(r, 1), "reason": "Chờ."},
    ),
    Case(
        "request-extension-other-agency", "requestExtension", "IN_PROGRESS", frozenset(),
        P.EXTENSION_REQUEST, None,
        lambda e, r: {"id": gid("Report", r.id), "requestedDueAt": _due(r, 1), "reason": "Chờ."},
        {"agency": "urban"},
    ),
    Case(
        "decide-extension", "decideExtension", "IN_PROGRESS", frozenset({SUPERVISOR}),
        P.EXTENSION_APPROVE, None, lambda e, r: {"id": gid("Report", r.id), "approve": True},
        {"extension": True},
    ),
    Case(
        "ask-reporter", "askReporter", "IN_PROGRESS", frozenset({HANDLER, LEADER}),
        P.REPORT_PROCESS, None, lambda e, r: {"id": gid("Report", r.id), "question": "Ở đâu?"},
    ),
    Case(
        "answer-info-request", "answerInfoRequest", "IN_PROGRESS", OWN, P.REPORT_PROVIDE_INFO,
        None, lambda e, r: {"id": gid("Report", r.id), "answer": "Số 12."}, {"question": True},
    ),
    Case(
        "add-comment", "addComment", "IN_PROGRESS", frozenset(ROLES) - {TENANT_ADMIN}, None,
        None, lambda e, r: {"id": gid("Report", r.id), "text": "Đã ghi nhận."},
    ),
]  # fmt: skip


def test_the_cases_cover_every_workflow_mutation() -> None:
    assert {c.mutation for c in CASES} == set(INPUT_TYPES)
    for case in CASES:
        # Nobody succeeds without holding the declared permission.
        assert all(case.permission is None or holds(r, case.permission) for r in case.allowed)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
async def test_each_role_may_do_exactly_what_it_holds(
    gql: GraphQLClient, env: Env, case: Case
) -> None:
    # The leader's sign-off exists only where the tenant switched it on.
    sign_off = case.state == "LEADER_REVIEW"
    async with tenant_option(env, LEADER_SIGN_OFF) if sign_off else contextlib.nullcontext():
        shared = await prepare(env, case.state, **case.setup)  # for the roles that are refused
        unchanged = await snapshot(env, shared.id)
        seen: dict[str, str] = {}
        for role in ROLES:
            allowed = role in case.allowed
            report = await prepare(env, case.state, **case.setup) if allowed else shared
            before = await snapshot(env, report.id)
            body = await mutate(gql, case.mutation, case.variables(env, report), env.token(role))
            seen[role] = outcome(body, case.mutation)
            after = await snapshot(env, report.id)
            if seen[role] != "ok":
                assert after == before, (role, body)
            elif case.to_state is not None:
                assert (after[0], after[1], after[4]) == (
                    case.to_state, before[1] + 1, before[4] + 1
                )  # fmt: skip
            else:
                assert after[0] == before[0] and after[4] == before[4] + 1, role
        assert seen == {role: case.expected(role) for role in ROLES}
        assert await snapshot(env, shared.id) == unchanged


# --- tenants ------------------------------------------------------------------------------------


async def test_lao_cai_users_cannot_touch_a_sa_pa_report(gql: GraphQLClient, env: Env) -> None:
    report = await prepare(env, "IN_PROGRESS", question=True)
    before = await snapshot(env, report.id)
    rid = gid("Report", report.id)
    attempts = [
        ("intake-operator", "rejectReport", _v(report, reason="OUT_OF_AREA", comment="x")),
        ("intake-operator", "addComment", {"id": rid, "text": "Không thuộc Lào Cai."}),
        ("intake-operator", "markDuplicate", _v(report, masterId=rid)),
        ("handler", "submitResult", _v(report, comment="Xong.")),
        ("handler", "askReporter", {"id": rid, "question": "Ở đâu?"}),
        ("citizen", "withdrawReport", _v(report)),
        ("citizen", "answerInfoRequest", {"id": rid, "answer": "Ở đây."}),
    ]
    for role, mutation, variables in attempts:
        codes = await error_codes(gql, mutation, variables, env.laocai[role])
        assert codes == ["NOT_FOUND"], (role, mutation)
    seen = await gql.ok(
        "query($id: ID!, $c: String!) { report(id: $id) { id } reportByCode(code: $c) { id } }",
        {"id": rid, "c": report.code},
        token=env.laocai["intake-operator"],
    )
    assert seen == {"report": None, "reportByCode": None}
    assert await snapshot(env, report.id) == before
