"""An anonymous citizen submitting a report with a photo, over any HTTP client (in-process app,
a real `paht serve`, one replica or another)."""

from __future__ import annotations

import json
import uuid

import httpx

from tests.factories import jpeg
from tests.support.workflow import SAPA_POINT

FIELDS = "{ fields { id code } }"
SUBMIT = """mutation($i: SubmitReportInput!) { submitReport(input: $i) {
  report { code attachments { url thumbnailUrl } } errors { code field message } } }"""


async def submit_photo(
    http: httpx.AsyncClient, tenant: str, *, title: str, field: str = "ve-sinh-attp"
) -> str:
    """Submit to ``tenant`` (by its code, as the citizen app does without an account); the
    URL of the stored photo."""
    headers = {"X-Paht-Tenant": tenant, "Accept-Language": "en"}
    listed = await http.post("/graphql", json={"query": FIELDS}, headers=headers)
    assert listed.status_code == 200, listed.text
    field_id = next(f["id"] for f in listed.json()["data"]["fields"] if f["code"] == field)
    variables = {
        "i": {
            "title": title,
            "description": "Quán ăn đầu chợ dùng thịt ôi thiu.",
            "fieldId": field_id,
            "latitude": SAPA_POINT[0],
            "longitude": SAPA_POINT[1],
            "idempotencyKey": uuid.uuid4().hex,
            "attachments": [None],
        }
    }
    response = await http.post(
        "/graphql",
        data={
            "operations": json.dumps({"query": SUBMIT, "variables": variables}),
            "map": json.dumps({"0": ["variables.i.attachments.0"]}),
        },
        files={"0": ("photo.jpg", jpeg(), "image/jpeg")},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["submitReport"]
    assert payload["errors"] == [], payload
    return payload["report"]["attachments"][0]["url"]
