"""Every documented operation (graphql/operations/) runs end to end, by name, as a frontend sends
it: the citizen app, the centre's and the agency's consoles against the demo Sa Pa story, the
administration against a locality onboarded for the purpose (so no shared configuration
changes). Adding an operation without running it here fails."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from PIL import Image

from api.demo import DEMO_PASSWORD
from core import clock
from permissions.session import tenant_transaction
from reports.reminders import send_reminders
from stats.maintain import refresh_tenant
from tests.factories import next_message, subscribers_registered, subscription
from tests.support.frontend import Frontend, answers_for, documented_operations

SAPA_POINT = (22.332, 103.842)  # inside Phường Sa Pa
SAPA_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
STORY = {
    "login": {"Login", "Me"},
    "citizen": set(),  # all of them
    "console": set(),
    "agency": set(),
}
ADMINISTRATION = {
    "login": {"LoginWithNewPassword", "Refresh", "Logout", "ChangePassword"},
    "admin": set(),
    "notifications": set(),
    "province": set(),
}
ROUTING = {"routing": set[str]()}  # run by tests/api/test_documented_routing.py


def covered(plan: dict[str, set[str]]) -> set[str]:
    """The operations a plan covers: those named, or every operation of a screen file whose set
    is empty."""
    operations = documented_operations()
    return {
        name
        for name, (screen, _) in operations.items()
        if screen in plan and (not plan[screen] or name in plan[screen])
    }


def test_the_stories_cover_every_documented_operation() -> None:
    everything = set(documented_operations())
    stories = [covered(STORY), covered(ADMINISTRATION), covered(ROUTING)]
    assert set().union(*stories) == everything
    assert not stories[0] & stories[1] and not stories[2] & (stories[0] | stories[1])


def photo(color: tuple[int, int, int]) -> tuple[str, bytes, str]:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), color).save(out, "JPEG", quality=85)
    return ("photo.jpg", out.getvalue(), "image/jpeg")


async def find(
    ui: Frontend,
    name: str,
    root: str,
    wanted: str,
    token: str | None = None,
    tenant: str | None = None,
    **variables: Any,
) -> dict[str, Any]:
    """The node with id or code ``wanted`` in a paged list, following the cursors."""
    after = None
    while True:
        page = (await ui.run(name, {**variables, "after": after}, token=token, tenant=tenant))[root]
        for edge in page["edges"]:
            if wanted in (edge["node"]["id"], edge["node"]["code"]):
                return edge["node"]
        assert page["pageInfo"]["hasNextPage"], f"{wanted} is not in {name}"
        after = page["pageInfo"]["endCursor"]


class SaPa:
    """The demo Sa Pa staff and citizen, signed in through the documented Login."""

    def __init__(self, ui: Frontend, tokens: dict[str, str]) -> None:
        self.ui = ui
        self.tokens = tokens

    def __getattr__(self, role: str) -> str:
        return self.tokens[role]

    async def detail(self, report_id: str) -> dict[str, Any]:
        return (await self.ui.run("ReportDetail", {"id": report_id}, token=self.operator))["node"]

    async def resolve(self, report_id: str, agency_id: str, version: int) -> int:
        """Route, accept, post a result and approve it; the report's version afterwards."""
        ui = self.ui
        assigned = await ui.run(
            "Assign",
            {"input": {"id": report_id, "version": version, "leadAgencyId": agency_id}},
            token=self.operator,
        )
        version = assigned["assignReport"]["report"]["version"]
        accepted = await ui.run("Accept", {"id": report_id, "version": version}, token=self.contact)
        result = await ui.run(
            "SubmitResult",
            {
                "input": {
                    "id": report_id,
                    "version": accepted["acceptReport"]["report"]["version"],
                    "comment": "Đã kiểm tra, xử phạt và yêu cầu cơ sở khắc phục.",
                    "attachments": [None],
                }
            },
            token=self.handler,
            files={"input.attachments.0": photo((30, 160, 60))},
        )
        approved = await ui.run(
            "Approve",
            {
                "input": {
                    "id": report_id,
                    "version": result["submitResult"]["report"]["version"],
                    "outcome": "FIXED",
                }
            },
            token=self.supervisor,
        )
        report = approved["approveResult"]["report"]
        assert report["state"] == "RESOLVED"
        return report["version"]


async def test_the_citizen_app_and_the_consoles_run_the_demo_story(
    client: httpx.AsyncClient, ws_server: str, pilot: dict[str, Any]
) -> None:
    ui = Frontend(client)
    tenant = pilot["tenants"]["sa-pa"]
    roles = {
        "citizen": "sapa.citizen",
        "operator": "sapa.intake-operator",
        "supervisor": "sapa.centre-supervisor",
        "contact": "sapa.agency-contact",
        "handler": "sapa.handler",
    }
    tokens = {}
    for role, username in roles.items():
        signed_in = await ui.run("Login", {"username": username, "password": DEMO_PASSWORD})
        tokens[role] = signed_in["login"]["accessToken"]
    sapa = SaPa(ui, tokens)
    me = await ui.run("Me", token=sapa.handler)
    assert me["me"]["tenant"]["code"] == "sa-pa" and me["me"]["roles"] == ["handler"]
    assert {p["action"] for p in me["myPermissions"]} >= {"report:submit_result"}

    # The citizen app, before signing in: the form.
    form = await ui.run("ReportForm", tenant="sa-pa")
    assert form["currentTenant"]["code"] == "sa-pa"
    assert form["currentTenant"]["administrativeUnits"]
    food = next(f for f in form["fields"] if f["code"] == "ve-sinh-attp")
    word = uuid.uuid4().hex[:10]

    def report_input(title: str, **extra: Any) -> dict[str, Any]:
        return {
            "title": f"{title} {word}",
            "description": "Quán ăn đầu chợ dùng thịt không rõ nguồn gốc.",
            "fieldId": food["id"],
            "latitude": SAPA_POINT[0],
            "longitude": SAPA_POINT[1],
            "address": "Tổ 5, phường Sa Pa",
            "answers": answers_for(food["questions"]),
            "idempotencyKey": uuid.uuid4().hex,
            **extra,
        }

    async with subscription(
        ws_server, {"Authorization": f"Bearer {sapa.operator}"}, ui.document("Activity")
    ) as live:
        await subscribers_registered(tenant.id, 1)
        submitted = await ui.run(
            "SubmitReport",
            {"input": report_input("Thịt ôi thiu", attachments=[None])},
            token=sapa.citizen,
            files={"input.attachments.0": photo((200, 40, 40))},
        )
        report = submitted["submitReport"]["report"]
        ui.ran.add("Activity")
        while True:
            message = await next_message(live)
            assert message["type"] == "next", message
            if message["payload"]["data"]["reportActivity"]["code"] == report["code"]:
                break
    assert message["payload"]["data"]["reportActivity"]["action"] == "SUBMIT"
    assert [a["origin"] for a in report["attachments"]] == ["SUBMISSION"]
    rid = report["id"]
    mine = await find(ui, "MyReports", "myReports", rid, sapa.citizen)
    assert mine["state"] == "SUBMITTED" and "WITHDRAW" in mine["availableActions"]

    # The centre: the queue, the report, a question to the reporter.
    queued = await find(
        ui, "Queue", "reports", rid, sapa.operator, filter={"text": word, "states": ["SUBMITTED"]}
    )
    assert queued["version"] == mine["version"]
    detail = await sapa.detail(rid)
    assert detail["reporter"]["name"] and detail["location"]["precise"]
    asked = await ui.run(
        "RequestInfo",
        {"id": rid, "version": detail["version"], "comment": "Quán ở số nhà bao nhiêu?"},
        token=sapa.operator,
    )
    version = asked["requestInfo"]["report"]["version"]
    seen = (await ui.run("MyReport", {"id": rid}, token=sapa.citizen))["report"]
    assert seen["events"][-1]["comment"] == "Quán ở số nhà bao nhiêu?"
    assert "PROVIDE_INFO" in seen["availableActions"]
    provided = await ui.run(
        "ProvideInfo", {"id": rid, "version": version, "comment": "Số 12."}, token=sapa.citizen
    )
    version = provided["provideInfo"]["report"]["version"]

    # A hotline call about the same place: a duplicate of the first report.
    hotline = await ui.run(
        "SubmitOnBehalf",
        {
            "input": report_input(
                "Gọi đường dây nóng: thịt ôi",
                onBehalf=True,
                contact={"name": "Lò Thị Mai", "phone": "0987654321"},
            )
        },
        token=sapa.operator,
    )
    assert hotline["submitReport"]["possibleDuplicates"], "the first report is nearby"
    call = hotline["submitReport"]["report"]
    duplicate = await ui.run(
        "MarkDuplicate",
        {"input": {"id": call["id"], "version": call["version"], "masterId": rid}},
        token=sapa.operator,
    )
    assert duplicate["markDuplicate"]["report"]["state"] == "DUPLICATE"

    # Routing to the field's agency; the agency sends it back once, then takes it.
    choices = await ui.run("RoutingChoices", token=sapa.operator)
    health = next(f for f in choices["fields"] if f["id"] == food["id"])["defaultAgency"]
    assert health["id"] in {a["id"] for a in choices["agencies"]}
    assigned = await ui.run(
        "Assign",
        {"input": {"id": rid, "version": version, "leadAgencyId": health["id"]}},
        token=sapa.operator,
    )
    ours = await find(ui, "AgencyQueue", "reports", rid, sapa.contact)
    assert ours["state"] == "ASSIGNED" and "ACCEPT" in ours["availableActions"]
    returned = await ui.run(
        "ReturnToCentre",
        {
            "input": {
                "id": rid,
                "version": assigned["assignReport"]["report"]["version"],
                "reason": "INSUFFICIENT_INFO",
                "comment": "Cần địa chỉ cụ thể hơn.",
            }
        },
        token=sapa.contact,
    )
    version = returned["returnReport"]["report"]["version"]
    assigned = await ui.run(
        "Assign",
        {"input": {"id": rid, "version": version, "leadAgencyId": health["id"]}},
        token=sapa.operator,
    )
    accepted = await ui.run(
        "Accept",
        {"id": rid, "version": assigned["assignReport"]["report"]["version"]},
        token=sapa.contact,
    )
    resolve_due = datetime.fromisoformat(accepted["acceptReport"]["report"]["resolveDueAt"])

    # While handling: a question to the reporter, more time, comments.
    await ui.run("AskReporter", {"id": rid, "question": "Quán mở cửa giờ nào?"}, token=sapa.handler)
    open_question = (await ui.run("MyReport", {"id": rid}, token=sapa.citizen))["report"]
    assert open_question["infoRequests"][-1]["status"] == "OPEN"
    answered = await ui.run(
        "AnswerQuestion", {"id": rid, "answer": "Từ 6 giờ sáng."}, token=sapa.citizen
    )
    assert answered["answerInfoRequest"]["infoRequest"]["status"] == "ANSWERED"
    await ui.run(
        "RequestExtension",
        {
            "input": {
                "id": rid,
                "requestedDueAt": (resolve_due + timedelta(days=3)).isoformat(),
                "reason": "Chờ kết quả xét nghiệm mẫu thịt.",
            }
        },
        token=sapa.handler,
    )
    decided = await ui.run("DecideExtension", {"id": rid, "approve": True}, token=sapa.supervisor)
    assert decided["decideExtension"]["extension"]["status"] == "APPROVED"
    await ui.run(
        "Comment",
        {"id": rid, "text": "Đoàn kiểm tra đã đến cơ sở.", "public": True},
        token=sapa.handler,
    )
    await ui.run("CommentOnMyReport", {"id": rid, "text": "Cảm ơn."}, token=sapa.citizen)

    # A deadline reminder reaches the handler (the reminder pass run past the deadline).
    detail = await sapa.detail(rid)
    async with tenant_transaction(tenant.id):
        await send_reminders(
            tenant.id, datetime.fromisoformat(detail["dueAt"]) + timedelta(hours=1)
        )
    reminders = (await ui.run("Notifications", token=sapa.handler))["myNotifications"]
    ours_first = [n for n in reminders if n["reportId"] == rid]
    assert ours_first and {n["kind"] for n in ours_first} <= {"DUE_HALF", "DUE_SOON", "OVERDUE"}
    marked = await ui.run(
        "MarkNotificationsRead", {"ids": [n["id"] for n in ours_first]}, token=sapa.handler
    )
    assert marked["markNotificationsRead"]["marked"] == len(ours_first)

    # The result, sent back once for rework, then approved and published.
    result = await ui.run(
        "SubmitResult",
        {
            "input": {
                "id": rid,
                "version": detail["version"],
                "comment": "Đã lập biên bản.",
                "attachments": [],
            }
        },
        token=sapa.handler,
    )
    rework = await ui.run(
        "RequestRework",
        {
            "id": rid,
            "version": result["submitResult"]["report"]["version"],
            "comment": "Cần ảnh sau khi khắc phục.",
        },
        token=sapa.supervisor,
    )
    assert rework["requestRework"]["report"]["state"] == "IN_PROGRESS"
    result = await ui.run(
        "SubmitResult",
        {
            "input": {
                "id": rid,
                "version": rework["requestRework"]["report"]["version"],
                "comment": "Đã đình chỉ cơ sở, tiêu huỷ thịt.",
                "attachments": [None],
            }
        },
        token=sapa.handler,
        files={"input.attachments.0": photo((30, 160, 60))},
    )
    approved = await ui.run(
        "Approve",
        {
            "input": {
                "id": rid,
                "version": result["submitResult"]["report"]["version"],
                "outcome": "FIXED",
            }
        },
        token=sapa.supervisor,
    )
    published = await ui.run("Publish", {"id": rid, "published": True}, token=sapa.supervisor)
    assert published["publishReport"]["report"]["published"] is True
    feed = await find(ui, "PublicFeed", "publicReports", report["code"], tenant="sa-pa")
    assert feed["result"] == "Đã đình chỉ cơ sở, tiêu huỷ thịt."
    assert feed["photos"] and "reporter" not in feed

    # The reporter sees the result, reopens once, and rates the second result.
    seen = (await ui.run("MyReport", {"id": rid}, token=sapa.citizen))["report"]
    assert seen["result"]["text"] == "Đã đình chỉ cơ sở, tiêu huỷ thịt."
    assert {"RATE", "REOPEN"} <= set(seen["availableActions"])
    reopened = await ui.run(
        "ReopenMyReport",
        {"id": rid, "version": seen["version"], "comment": "Quán vẫn bán thịt ôi."},
        token=sapa.citizen,
    )
    version = await sapa.resolve(rid, health["id"], reopened["reopenReport"]["report"]["version"])
    rated = await ui.run(
        "RateReport", {"id": rid, "version": version, "rating": 5}, token=sapa.citizen
    )
    assert rated["rateReport"]["report"]["state"] == "CLOSED"
    assert approved["approveResult"]["report"]["state"] == "RESOLVED"

    # An anonymous report followed by its tracking code, which the centre rejects.
    anonymous = await ui.run(
        "SubmitReport", {"input": report_input("Ẩn danh", anonymous=True)}, tenant="sa-pa"
    )
    code = anonymous["submitReport"]["trackingCode"]
    tracked = (await ui.run("Track", {"trackingCode": code}, tenant="sa-pa"))["trackReport"]
    assert tracked["state"] == "SUBMITTED"
    await ui.run(
        "Reject",
        {
            "input": {
                "id": tracked["id"],
                "version": tracked["version"],
                "reason": "UNFOUNDED",
                "comment": "Không có cơ sở nào tại địa chỉ này.",
            }
        },
        token=sapa.operator,
    )
    tracked = (await ui.run("Track", {"trackingCode": code}, tenant="sa-pa"))["trackReport"]
    assert tracked["state"] == "REJECTED"

    # The reporter takes one back before it is routed.
    second = await ui.run("SubmitReport", {"input": report_input("Nhầm")}, token=sapa.citizen)
    taken = second["submitReport"]["report"]
    withdrawn = await ui.run(
        "WithdrawReport", {"id": taken["id"], "version": taken["version"]}, token=sapa.citizen
    )
    assert withdrawn["withdrawReport"]["report"]["state"] == "WITHDRAWN"

    # The centre reopens a resolved report itself, then closes it.
    third = await ui.run("SubmitReport", {"input": report_input("Lần ba")}, token=sapa.citizen)
    third_id = third["submitReport"]["report"]["id"]
    version = await sapa.resolve(third_id, health["id"], third["submitReport"]["report"]["version"])
    reopened = await ui.run(
        "ReopenReport",
        {"id": third_id, "version": version, "comment": "Kiểm tra lại theo phản ánh mới."},
        token=sapa.operator,
    )
    closed = await ui.run(
        "CloseReport",
        {
            "id": third_id,
            "version": reopened["reopenReport"]["report"]["version"],
            "comment": "Đã kiểm tra lại: cơ sở đã khắc phục.",
        },
        token=sapa.operator,
    )
    assert closed["closeReport"]["report"]["state"] == "CLOSED"

    dashboard = (await ui.run("Dashboard", token=sapa.supervisor))["reportStats"]
    assert dashboard["total"] >= 5 and dashboard["byField"]

    # The evaluation screen (statistics folded by the background pass; here by hand) and the
    # public feed's headline (complete days up to yesterday).
    await refresh_tenant(tenant.id)
    today = clock.now().astimezone(SAPA_TZ).date()
    period = {"first": str(today - timedelta(days=1)), "last": str(today)}
    evaluation = await ui.run(
        "Evaluation", {"period": period, "groupBy": "DAY"}, token=sapa.supervisor
    )
    figures = evaluation["statistics"]
    assert figures["total"]["received"] >= 5  # this story's reports, today
    assert [g["first"] for g in figures["groups"]] == [period["first"], period["last"]]
    assert figures["previous"]["last"] == str(today - timedelta(days=2))
    headline = (await ui.run("PublicHeadline", tenant="sa-pa"))["publicHeadline"]
    assert (headline["first"], headline["last"]) == (
        str(today - timedelta(days=30)),
        str(today - timedelta(days=1)),
    )
    assert ui.ran == covered(STORY), covered(STORY) ^ ui.ran


async def test_the_administration_runs_on_a_new_locality(
    client: httpx.AsyncClient, pilot: dict[str, Any]
) -> None:
    ui = Frontend(client)
    province = (await ui.run("Login", {"username": "tinh.admin", "password": DEMO_PASSWORD}))[
        "login"
    ]["accessToken"]
    overview = await ui.run("Province", token=province)
    assert {"lao-cai", "sa-pa"} <= {t["code"] for t in overview["tenants"]}
    assert {"lao-cai", "sa-pa"} <= {s["tenant"]["code"] for s in overview["provinceStats"]}
    pilots = [t["id"] for t in overview["tenants"] if t["code"] in {"lao-cai", "sa-pa"}]
    month = {"first": "2026-03-01", "last": "2026-03-31"}
    compared = await ui.run("ProvinceComparison", {"period": month}, token=province)
    assert set(pilots) <= {row["tenantId"] for row in compared["provinceStatistics"]}
    queue = await ui.run(
        "ProvinceEscalations", {"levels": ["LOCALITY", "PROVINCE"]}, token=province
    )
    levels = [line["escalation"] for line in queue["provinceEscalations"]]
    assert levels == sorted(levels, key=["PROVINCE", "LOCALITY"].index)
    asked = await ui.run(
        "ExportEvaluation", {"input": {"tenantIds": pilots, "period": month}}, token=province
    )
    export = asked["exportEvaluation"]["export"]
    assert asked["exportEvaluation"]["errors"] == [] and export["steps"] == 3
    progress = await ui.run("EvaluationExport", {"id": export["id"]}, token=province)
    assert progress["evaluationExport"]["state"] in {"PENDING", "RUNNING", "DONE"}

    code = f"bx-{uuid.uuid4().hex[:6]}"
    onboarded = (
        await ui.run(
            "Onboard",
            {
                "input": {
                    "code": code,
                    "reportPrefix": "BX",
                    "nameVi": "UBND huyện Bát Xát",
                    "nameEn": "Bat Xat District People's Committee",
                    "admin": {"username": f"{code}.admin", "fullName": "Quản trị Bát Xát"},
                    "agencies": [
                        {"code": "phong-kt", "nameVi": "Phòng Kinh tế", "nameEn": "Economic office"}
                    ],
                    "fields": [
                        {
                            "code": "ha-tang",
                            "nameVi": "Hạ tầng",
                            "nameEn": "Infrastructure",
                            "defaultAgencyCode": "phong-kt",
                        }
                    ],
                }
            },
            token=province,
        )
    )["onboardTenant"]
    one_time = onboarded["generatedAdminPassword"]
    assert one_time and onboarded["adminUsername"] == f"{code}.admin"
    new_password = f"{uuid.uuid4().hex}-Bx"
    signed_in = await ui.run(
        "LoginWithNewPassword",
        {"username": f"{code}.admin", "password": one_time, "newPassword": new_password},
    )
    admin = signed_in["login"]["accessToken"]

    setup = await ui.run("TenantSetup", token=admin)
    assert setup["currentTenant"]["code"] == code
    assert [f["code"] for f in setup["fields"]] == ["ha-tang"]
    assert "handler" in {r["code"] for r in setup["roles"]}
    agency = (
        await ui.run(
            "CreateAgency",
            {
                "input": {
                    "code": "cong-an-xa",
                    "nameVi": "Công an xã",
                    "nameEn": "Commune police",
                    "kind": "POLICE",
                }
            },
            token=admin,
        )
    )["createAgency"]["agency"]
    renamed = await ui.run(
        "UpdateAgency",
        {"input": {"id": agency["id"], "nameVi": "Công an xã Bản Vược"}},
        token=admin,
    )
    assert renamed["updateAgency"]["agency"]["name"] == "Công an xã Bản Vược"
    field = (
        await ui.run(
            "CreateField",
            {
                "input": {
                    "code": "an-ninh",
                    "nameVi": "An ninh trật tự",
                    "nameEn": "Public order",
                    "defaultAgencyId": agency["id"],
                    "sensitive": True,
                    "questions": [
                        {
                            "key": "dang_dien_ra",
                            "labelVi": "Sự việc còn đang diễn ra?",
                            "labelEn": "Is it still happening?",
                            "kind": "BOOLEAN",
                            "required": True,
                        }
                    ],
                }
            },
            token=admin,
        )
    )["createField"]["field"]
    assert field["questions"][0]["kind"] == "BOOLEAN"
    updated = await ui.run(
        "UpdateField", {"input": {"id": field["id"], "questions": []}}, token=admin
    )
    assert updated["updateField"]["field"]["questions"] == []

    # People: an account, its grants, a custom role.
    username = f"{code}.xuly"
    first_password = f"{uuid.uuid4().hex}-Xl"
    user = (
        await ui.run(
            "CreateUser",
            {"input": {"username": username, "fullName": "Vàng A Sử", "password": first_password}},
            token=admin,
        )
    )["createUser"]["user"]
    granted = await ui.run(
        "GrantRole",
        {"input": {"userId": user["id"], "role": "handler", "agencyId": agency["id"]}},
        token=admin,
    )
    membership = granted["grantRole"]["membership"]
    people = await ui.run("Users", {"search": "xuly"}, token=admin)
    assert [u["username"] for u in people["users"]] == [username]
    assert membership["id"] in {m["id"] for m in people["memberships"]}
    await ui.run(
        "UpdateUser", {"input": {"id": user["id"], "email": "su.va@example.vn"}}, token=admin
    )
    actions = (await ui.run("PermissionActions", token=admin))["permissionActions"]
    assert {"report:view", "report:comment"} <= {a["action"] for a in actions}
    role = await ui.run(
        "CreateRole",
        {
            "input": {
                "code": "giam_sat",
                "nameVi": "Giám sát",
                "nameEn": "Observer",
                "actions": ["report:view", "report:comment"],
            }
        },
        token=admin,
    )
    assert role["createRole"]["role"]["actions"] == ["report:comment", "report:view"]
    await ui.run("GrantRole", {"input": {"userId": user["id"], "role": "giam_sat"}}, token=admin)
    revoked = await ui.run("RevokeRole", {"membershipId": membership["id"]}, token=admin)
    assert revoked["revokeRole"]["ok"] is True

    # A forgotten password: reset, one-time, replaced; then the user's own session handling.
    reset = await ui.run("ResetUserPassword", {"userId": user["id"]}, token=admin)
    temporary = reset["resetUserPassword"]["temporaryPassword"]
    await ui.run(
        "Login", {"username": username, "password": temporary}, refused="PASSWORD_CHANGE_REQUIRED"
    )
    chosen = f"{uuid.uuid4().hex}-Ch"
    session = (
        await ui.run(
            "LoginWithNewPassword",
            {"username": username, "password": temporary, "newPassword": chosen},
        )
    )["login"]
    changed = await ui.run(
        "ChangePassword",
        {"currentPassword": chosen, "newPassword": f"{uuid.uuid4().hex}-Nw"},
        token=session["accessToken"],
    )
    assert changed["changePassword"]["ok"] is True
    refreshed = (await ui.run("Refresh", {"refreshToken": session["refreshToken"]}))["refreshToken"]
    assert refreshed["refreshToken"] != session["refreshToken"]
    logged_out = await ui.run("Logout", {"refreshToken": refreshed["refreshToken"]})
    assert logged_out["logout"]["ok"] is True
    await ui.run(
        "Refresh", {"refreshToken": refreshed["refreshToken"]}, refused="INVALID_REFRESH_TOKEN"
    )

    # Open311 client applications: registered (the key shown once), listed, revoked.
    registered = (
        await ui.run(
            "RegisterOpen311Client",
            {"input": {"name": "Cổng dữ liệu tỉnh", "contact": "lgsp@laocai.gov.vn"}},
            token=admin,
        )
    )["registerOpen311Client"]
    assert registered["apiKey"].startswith(registered["client"]["keyPrefix"])
    listed = (await ui.run("Open311Clients", token=admin))["open311Clients"]
    assert [c["id"] for c in listed] == [registered["client"]["id"]]
    assert "apiKey" not in listed[0]
    gone = await ui.run(
        "RevokeOpen311Client", {"input": {"id": registered["client"]["id"]}}, token=admin
    )
    assert gone["revokeOpen311Client"]["client"]["revokedAt"] is not None

    # The regulation: calendar, deadlines, options.
    regulation = (await ui.run("Regulation", token=admin))["regulation"]
    calendar = regulation["calendar"]
    await ui.run(
        "UpdateCalendar",
        {
            "input": {
                "timezone": calendar["timezone"],
                "officeHours": calendar["officeHours"],
                "workingWeekdays": calendar["workingWeekdays"],
                "extraDaysOff": ["2027-01-02"],
                "extraWorkingDays": [],
            }
        },
        token=admin,
    )
    rules = [{**r, "amount": r["amount"] + 1} if r["stage"] == "SCREEN" else r for r in
             regulation["slaRules"]]  # fmt: skip
    sla = await ui.run("UpdateSlaRules", {"input": {"rules": rules}}, token=admin)
    assert sla["updateSlaRules"]["regulation"]["slaVersion"] == regulation["slaVersion"] + 1
    options = {**regulation["options"], "replyWindowDays": 10, "contactRetentionDays": 365}
    await ui.run("UpdateTenantOptions", {"input": options}, token=admin)
    assert (await ui.run("Regulation", token=admin))["regulation"]["options"] == options

    # Notifications: channels, a template, a webhook endpoint, its messages, a replay.
    settings = await ui.run(
        "UpdateChannelSettings",
        {"input": {"emailFrom": "bx@example.vn", "smsUrl": "https://sms.example.vn/send",
                   "smsToken": "tok"}},
        token=admin,
    )  # fmt: skip
    assert settings["updateChannelSettings"]["settings"]["hasSmsToken"] is True
    template = {"eventType": "REPORT_RECEIVED", "channel": "EMAIL", "language": "VI",
                "subject": "Bát Xát đã nhận {code}", "body": "Cảm ơn bạn."}  # fmt: skip
    await ui.run("SetMessageTemplate", {"input": template}, token=admin)
    endpoint = (
        await ui.run(
            "CreateWebhookEndpoint",
            {"input": {"url": "https://hooks.example.vn/paht", "eventTypes": ["REPORT_RECEIVED"]}},
            token=admin,
        )
    )["createWebhookEndpoint"]
    assert endpoint["secret"].startswith("whsec_")
    listed_settings = await ui.run("NotificationSettings", token=admin)
    assert [e["id"] for e in listed_settings["webhookEndpoints"]] == [endpoint["endpoint"]["id"]]
    assert listed_settings["messageTemplates"][0]["subject"] == "Bát Xát đã nhận {code}"
    off = await ui.run(
        "UpdateWebhookEndpoint",
        {"input": {"id": endpoint["endpoint"]["id"], "active": False}},
        token=admin,
    )
    assert off["updateWebhookEndpoint"]["endpoint"]["active"] is False
    outgoing = await ui.run("OutboxMessages", {"status": None}, token=admin)
    assert outgoing["outboxMessages"] == []  # nothing happened in this locality yet
    # An endpoint's id is not a message's (tests/outbox replays real ones).
    await ui.run(
        "ReplayOutboxMessage",
        {"input": {"id": endpoint["endpoint"]["id"]}},
        token=admin,
        refused="NOT_FOUND",
    )
    mine = await ui.run("SetReminderEmails", {"input": {"enabled": True}}, token=admin)
    assert mine["setReminderEmails"]["enabled"] is True

    # The province suspends the locality and brings it back; and its own administrators.
    tenant_id = onboarded["tenant"]["id"]
    for status in ("SUSPENDED", "ACTIVE"):
        set_to = await ui.run(
            "SetTenantStatus", {"id": tenant_id, "status": status}, token=province
        )
        assert set_to["setTenantStatus"]["tenant"]["status"] == status
    colleague = (
        await ui.run(
            "CreateProvincialAdmin",
            {"input": {"username": f"tinh.{code}", "fullName": "Giàng Thị Mỷ"}},
            token=province,
        )
    )["createProvincialAdmin"]
    assert colleague["temporaryPassword"]
    listed = await ui.run("ProvincialAdmins", token=province)
    assert f"tinh.{code}" in {a["username"] for a in listed["provincialAdmins"]}
    gone = await ui.run(
        "DeactivateProvincialAdmin", {"id": colleague["user"]["id"]}, token=province
    )
    assert gone["deactivateProvincialAdmin"]["user"]["isActive"] is False
    # The province's day swaps: read, a Saturday worked back added, read again, restored.
    days = (await ui.run("ProvinceCalendar", {"provinceCode": "10"}, token=province))[
        "provinceCalendar"
    ]
    swapped = {**days, "extraWorkingDays": sorted({*days["extraWorkingDays"], "2031-01-04"})}
    entered = await ui.run("UpdateProvinceCalendar", {"input": swapped}, token=province)
    assert entered["updateProvinceCalendar"]["provinceCalendar"] == swapped
    try:
        read = await ui.run("ProvinceCalendar", {"provinceCode": "10"}, token=province)
        assert read["provinceCalendar"] == swapped
    finally:
        await ui.run("UpdateProvinceCalendar", {"input": days}, token=province)
    assert covered(ADMINISTRATION) <= ui.ran, covered(ADMINISTRATION) - ui.ran
    assert ui.ran - covered(ADMINISTRATION) == {"Login"}  # the first story's
