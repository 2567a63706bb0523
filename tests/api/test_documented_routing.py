"""The documented steps beyond the main path (graphql/operations/routing.graphql), run as the
console and the agency app run them, through the real app: a report assigned to the wrong
agency is re-routed with a coordinating agency, accepted and handed to an officer, escalated;
an officer's result is sent back and then signed off by the agency leader (the tenant's
sign-off option, switched on for the test); a duplicate marked by mistake is un-marked; a
report about Lào Cai's area is transferred there."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from api.demo import DEMO_PASSWORD
from tests.support.frontend import Frontend, answers_for

SAPA_POINT = (22.332, 103.842)  # inside Phường Sa Pa
ROLES = {
    "citizen": "sapa.citizen",
    "operator": "sapa.intake-operator",
    "supervisor": "sapa.centre-supervisor",
    "contact": "sapa.agency-contact",
    "handler": "sapa.handler",
    "leader": "sapa.agency-leader",
    "admin": "sapa.admin",
}


async def test_the_other_steps_run_as_documented(
    client: httpx.AsyncClient, pilot: dict[str, Any]
) -> None:
    ui = Frontend(client)
    tokens = {
        role: (await ui.run("Login", {"username": name, "password": DEMO_PASSWORD}))["login"][
            "accessToken"
        ]
        for role, name in ROLES.items()
    }
    handler = (await ui.run("Me", token=tokens["handler"]))["me"]["user"]["id"]
    form = await ui.run("ReportForm", tenant="sa-pa")
    food = next(f for f in form["fields"] if f["code"] == "ve-sinh-attp")
    choices = await ui.run("RoutingChoices", token=tokens["operator"])
    health = next(f for f in choices["fields"] if f["id"] == food["id"])["defaultAgency"]["id"]
    urban = next(a["id"] for a in choices["agencies"] if a["id"] != health)
    word = uuid.uuid4().hex[:10]

    async def submitted(title: str) -> dict[str, Any]:
        made = await ui.run(
            "SubmitReport",
            {
                "input": {
                    "title": f"{title} {word}",
                    "description": "Quán ăn đầu chợ dùng thịt không rõ nguồn gốc.",
                    "fieldId": food["id"],
                    "latitude": SAPA_POINT[0],
                    "longitude": SAPA_POINT[1],
                    "answers": answers_for(food["questions"]),
                    "idempotencyKey": uuid.uuid4().hex,
                }
            },
            token=tokens["citizen"],
        )
        return dict(made["submitReport"]["report"])

    async def step(name: str, root: str, token: str, **fields: Any) -> dict[str, Any]:
        done = (await ui.run(name, {"input": fields}, token=tokens[token]))[root]
        assert done["errors"] == [], done
        return dict(done["report"])

    # Routed to the wrong agency, re-routed with the right one and the first as coordinator.
    report = await submitted("Sai cơ quan")
    assigned = await ui.run(
        "Assign",
        {"input": {"id": report["id"], "version": report["version"], "leadAgencyId": urban}},
        token=tokens["operator"],
    )
    version = assigned["assignReport"]["report"]["version"]
    routed = await step("RerouteReport", "rerouteReport", "operator", id=report["id"],
                        version=version, leadAgencyId=health,
                        comment="Thuộc lĩnh vực y tế.")  # fmt: skip
    assert (routed["state"], routed["leadAgency"]["id"]) == ("ASSIGNED", health)
    routed = await step("SetCoordinatingAgencies", "setCoordinatingAgencies", "operator",
                        id=report["id"], version=routed["version"],
                        coordinatingAgencyIds=[urban])  # fmt: skip
    assert [a["id"] for a in routed["coordinatingAgencies"]] == [urban]
    # The health office takes it and hands it to its officer; the centre escalates it.
    accepted = await ui.run(
        "Accept", {"id": report["id"], "version": routed["version"]}, token=tokens["contact"]
    )
    version = accepted["acceptReport"]["report"]["version"]
    handed = await step("HandOffReport", "handOffReport", "contact", id=report["id"],
                        version=version, officerId=handler)  # fmt: skip
    assert (handed["state"], handed["assigneeId"]) == ("IN_PROGRESS", handler)
    escalated = await step("EscalateReport", "escalateReport", "supervisor", id=report["id"],
                           version=handed["version"], comment="Khiếu nại nhiều lần.")  # fmt: skip
    assert escalated["escalation"] == "LOCALITY" and escalated["escalatedAt"]

    # The locality has its agency leaders sign results off (an option, switched back after):
    # the officer's result waits for the leader, who sends it back once, then signs it off.
    before = (await ui.run("Regulation", token=tokens["admin"]))["regulation"]["options"]
    signing = {**before, "workflowOptions": sorted({*before["workflowOptions"], "LEADER_SIGN_OFF"})}
    await ui.run("UpdateTenantOptions", {"input": signing}, token=tokens["admin"])
    try:

        async def result(version: int) -> dict[str, Any]:
            done = await ui.run("SubmitResult", {"input": {"id": report["id"], "version": version,
                                "comment": "Đã xử phạt cơ sở.", "attachments": []}},
                                token=tokens["handler"])  # fmt: skip
            return dict(done["submitResult"]["report"])

        waiting = await result(escalated["version"])
        assert waiting["state"] == "LEADER_REVIEW"
        back = await step("SendBackResult", "sendBackResult", "leader", id=report["id"],
                          version=waiting["version"], comment="Thiếu biên bản.")  # fmt: skip
        assert back["state"] == "IN_PROGRESS" and back["assigneeId"] == handler
        waiting = await result(back["version"])
        signed = await step("SignOffResult", "signOffResult", "leader", id=report["id"],
                            version=waiting["version"])  # fmt: skip
        assert signed["state"] == "RESULT_SUBMITTED"
    finally:
        await ui.run("UpdateTenantOptions", {"input": before}, token=tokens["admin"])

    # A duplicate marked by mistake goes back to intake.
    master, other = await submitted("Chợ"), await submitted("Chợ khác")
    marked = await ui.run(
        "MarkDuplicate",
        {"input": {"id": other["id"], "version": other["version"], "masterId": master["id"]}},
        token=tokens["operator"],
    )
    version = marked["markDuplicate"]["report"]["version"]
    back = await step("UnmarkDuplicate", "unmarkDuplicate", "operator", id=other["id"],
                      version=version, comment="Hai quán khác nhau.")  # fmt: skip
    assert back["state"] == "SUBMITTED" and "MARK_DUPLICATE" in back["availableActions"]

    # About Lào Cai's area: transferred there, a read-only record left here.
    sent = await step("TransferReport", "transferReport", "operator", id=master["id"],
                      version=master["version"], tenantCode="lao-cai",
                      comment="Địa điểm thuộc thành phố Lào Cai.")  # fmt: skip
    assert sent["state"] == "TRANSFERRED" and sent["availableActions"] == []
    assert sent["transfer"]["sent"] and sent["transfer"]["tenantCode"] == "lao-cai"
    assert sent["transfer"]["reportCode"] and sent["transfer"]["reportCode"] != sent["code"]

    documented = {n for n, (screen, _) in ui.operations.items() if screen == "routing"}
    assert documented <= ui.ran, documented - ui.ran
