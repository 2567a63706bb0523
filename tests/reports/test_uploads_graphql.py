"""Report photos over GraphQL multipart requests: every refusal leaves neither a report nor a
file, retries store once, anonymous reporters follow their report, the area is enforced."""

from __future__ import annotations

import io
import uuid
from typing import Any

import pytest
from PIL import Image

from api.settings import Settings
from permissions.session import scoped_transaction
from reports.media import MIB
from reports.models import Attachment, Report, ReporterContact
from tests.conftest import GraphQLClient
from tests.factories import jpeg, media_key
from tests.support.uploads import File, reports_with_key, submit
from tests.support.workflow import OPERATOR, Env, make_env, media_files

LAO_CAI_POINT = (22.493, 103.963)  # Phường Cốc Lếu, Thành phố Lào Cai
TRACK = """query($c: String!) { trackReport(trackingCode: $c) {
  code state title address location { latitude longitude precise } } }"""


@pytest.fixture(scope="module")
async def env(pilot: dict[str, Any], gql: GraphQLClient) -> Env:
    return await make_env(pilot, gql)


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 20, 200)).save(out, "PNG")
    return out.getvalue()


def noise_jpeg_over(limit: int) -> bytes:
    """A real JPEG header followed by padding: bigger than ``limit`` without costly pixels."""
    head = jpeg(gps=False)
    return head + b"\0" * (limit + 1 - len(head))


TRUNCATED = jpeg(size=(200, 150))[:400]
REFUSALS = [
    ("text-as-jpeg", [("notes.jpg", b"just some text, not a photo\n" * 10, "image/jpeg")],
     "UNSUPPORTED_MEDIA_TYPE"),
    ("png-as-jpeg", [("photo.jpg", png(), "image/jpeg")], "MEDIA_TYPE_MISMATCH"),
    ("too-large", [("big.jpg", noise_jpeg_over(10 * MIB), "image/jpeg")], "MEDIA_TOO_LARGE"),
    ("six-photos", [(f"p{n}.jpg", jpeg(), "image/jpeg") for n in range(6)],
     "TOO_MANY_ATTACHMENTS"),
    ("truncated", [("cut.jpg", TRUNCATED, "image/jpeg")], "MEDIA_CORRUPT"),
    ("good-then-truncated",
     [("ok.jpg", jpeg(), "image/jpeg"), ("cut.jpg", TRUNCATED, "image/jpeg")], "MEDIA_CORRUPT"),
    ("empty", [("empty.jpg", b"", "image/jpeg")], "MEDIA_EMPTY"),
]  # fmt: skip


def test_the_oversized_file_is_just_over_the_default_limit(settings: Settings) -> None:
    assert settings.max_image_bytes == 10 * MIB
    big = noise_jpeg_over(settings.max_image_bytes)
    assert len(big) == settings.max_image_bytes + 1 and big.startswith(b"\xff\xd8\xff")


@pytest.mark.parametrize(("files", "code"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
async def test_refused_uploads_leave_no_report_and_no_file(
    gql: GraphQLClient, env: Env, settings: Settings, files: list[File], code: str
) -> None:
    before = media_files(settings)
    payload, data = await submit(gql, env, files, token=env.token("citizen"))
    assert payload["report"] is None and payload["trackingCode"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, "attachments")]
    assert await reports_with_key(env, data["idempotencyKey"]) == 0
    assert media_files(settings) == before
    # The same key still works once the photo is fixed: the refusal reserved nothing.
    payload, _ = await submit(
        gql,
        env,
        [("ok.jpg", jpeg(), "image/jpeg")],
        token=env.token("citizen"),
        idempotencyKey=data["idempotencyKey"],
    )
    assert payload["errors"] == [] and len(payload["report"]["attachments"]) == 1
    assert await reports_with_key(env, data["idempotencyKey"]) == 1


async def test_five_photos_are_accepted(gql: GraphQLClient, env: Env, settings: Settings) -> None:
    before = media_files(settings)
    files = [(f"p{n}.jpg", jpeg((n * 40, 90, 90)), "image/jpeg") for n in range(5)]
    payload, _ = await submit(gql, env, files, token=env.token("citizen"))
    assert payload["errors"] == []
    assert len(payload["report"]["attachments"]) == 5
    assert len(media_files(settings) - before) == 10  # a photo and a thumbnail each


async def test_idempotent_retry_stores_the_photo_once(
    gql: GraphQLClient, env: Env, settings: Settings
) -> None:
    before = media_files(settings)
    key = uuid.uuid4().hex
    photo = [("IMG_0042.jpg", jpeg(), "image/jpeg")]
    first, _ = await submit(gql, env, photo, token=env.token("citizen"), idempotencyKey=key)
    again, _ = await submit(gql, env, photo, token=env.token("citizen"), idempotencyKey=key)
    assert first["errors"] == again["errors"] == []
    assert again["report"]["id"] == first["report"]["id"]
    assert again["report"]["code"] == first["report"]["code"]
    assert again["report"]["attachments"] == first["report"]["attachments"]
    assert await reports_with_key(env, key) == 1
    added = media_files(settings) - before
    assert len(added) == 2  # one photo and its thumbnail, not two of each
    [attachment] = first["report"]["attachments"]
    assert {media_key(attachment["url"]), media_key(attachment["thumbnailUrl"])} == added
    async with scoped_transaction(env.scopes[OPERATOR]):
        report = await Report.get(idempotency_key=key)
        assert await Attachment.filter(report_id=report.id).count() == 1
    # The key is the citizen's: somebody else reusing it gets an error, not the report.
    operator = env.token(OPERATOR)
    payload, _ = await submit(gql, env, photo, token=operator, idempotencyKey=key, onBehalf=True)
    assert [e["code"] for e in payload["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert len(media_files(settings) - before) == 2


async def test_a_hotline_entry_retried_by_its_operator_is_stored_once(
    gql: GraphQLClient, env: Env, settings: Settings
) -> None:
    before = media_files(settings)
    key, operator = uuid.uuid4().hex, env.token(OPERATOR)
    photo = [("caller.jpg", jpeg(), "image/jpeg")]
    caller = {"name": "Giàng A Páo", "phone": "0966111222"}
    first, _ = await submit(
        gql, env, photo, token=operator, idempotencyKey=key, onBehalf=True, contact=caller
    )
    again, _ = await submit(
        gql, env, photo, token=operator, idempotencyKey=key, onBehalf=True, contact=caller
    )
    assert first["errors"] == again["errors"] == [], (first, again)
    assert first["trackingCode"]  # for the caller, read out on the phone
    assert again["report"]["id"] == first["report"]["id"]
    assert await reports_with_key(env, key) == 1 and len(media_files(settings) - before) == 2
    # Nobody else gets the operator's report back with its key, anonymous callers included.
    for token, tenant in ((env.token("citizen"), None), (None, "sa-pa")):
        other, _ = await submit(gql, env, photo, token=token, tenant=tenant, idempotencyKey=key)
        assert other["report"] is None
        assert [e["code"] for e in other["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]
    assert len(media_files(settings) - before) == 2


async def test_anonymous_submission_is_tracked_by_its_code(
    gql: GraphQLClient, env: Env, settings: Settings
) -> None:
    before = media_files(settings)
    payload, data = await submit(
        gql,
        env,
        [("street.jpg", jpeg(), "image/jpeg")],
        tenant="sa-pa",
        contact={"name": "Người dân", "phone": "0977000222"},
    )
    assert payload["errors"] == [], payload
    code = payload["trackingCode"]
    assert code and len(code) == 12 and code.isupper()
    report = payload["report"]
    assert report["state"] == "SUBMITTED" and report["code"].startswith("SP-")
    assert len(report["attachments"]) == 1 and len(media_files(settings) - before) == 2
    async with scoped_transaction(env.scopes[OPERATOR]):
        row = await Report.get(idempotency_key=data["idempotencyKey"])
        contact = await ReporterContact.get(report_id=row.id)
    assert row.anonymous and row.reporter_user_id is None and row.tracking_code == code
    assert contact.phone == "0977000222"
    # The response was lost and the app retries with the same key: same report, same code.
    same = {k: v for k, v in data.items() if k != "attachments"}
    photo = [("street.jpg", jpeg(), "image/jpeg")]
    again, _ = await submit(gql, env, photo, tenant="sa-pa", **same)
    assert again["errors"] == [], again
    assert again["report"]["id"] == report["id"] and again["trackingCode"] == code
    assert len(media_files(settings) - before) == 2  # nothing stored twice
    # Someone who learnt the key but sends other content is not the submitter.
    other, _ = await submit(
        gql, env, photo, tenant="sa-pa", **{**same, "title": "Một phản ánh khác hẳn"}
    )
    assert other["report"] is None and other["trackingCode"] is None
    assert [e["code"] for e in other["errors"]] == ["IDEMPOTENCY_KEY_REUSED"]

    async def track(tracking: str, tenant: str = "sa-pa") -> Any:
        response = await gql.http.post(
            "/graphql",
            json={"query": TRACK, "variables": {"c": tracking}},
            headers={"X-Paht-Tenant": tenant},
        )
        body = response.json()
        assert response.status_code == 200 and "errors" not in body, body
        return body["data"]["trackReport"]

    found = await track(code.lower())  # typed by hand: case does not matter
    assert found["code"] == report["code"] and found["state"] == "SUBMITTED"
    assert found["title"] == data["title"]
    assert "0977000222" not in str(found)
    assert await track("ABCDEFGHJKLM") is None
    assert await track(code, tenant="lao-cai") is None  # another tenant knows nothing of it


async def test_a_point_in_lao_cai_is_out_of_sa_pa(
    gql: GraphQLClient, env: Env, settings: Settings
) -> None:
    before = media_files(settings)
    payload, data = await submit(
        gql,
        env,
        [("river.jpg", jpeg(), "image/jpeg")],
        token=env.token("citizen"),
        latitude=LAO_CAI_POINT[0],
        longitude=LAO_CAI_POINT[1],
    )
    assert payload["report"] is None
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == ("OUT_OF_AREA", "latitude")
    assert "Lào Cai" in error["message"]  # names the locality the point belongs to
    assert await reports_with_key(env, data["idempotencyKey"]) == 0
    assert media_files(settings) == before
