"""Videos through the GraphQL multipart ``submitReport``, and the headers ``/media`` serves.

Hostile videos are refused with a typed error and leave neither a report nor a file; accepted
ones are stored without their location; every stored file is served so that it cannot act as a
page (nosniff, a sandboxing CSP, a safe Content-Disposition)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from api.settings import Settings
from tests.conftest import GraphQLClient
from tests.factories import jpeg, media_key, signed_media_path
from tests.reports.video_samples import (
    HANOI,
    audio_only_mp4,
    ftyp_html_polyglot,
    ftyp_without_moov,
    truncated_mp4,
    video,
    webm_header_then_junk,
)
from tests.support.uploads import reports_with_key, submit
from tests.support.workflow import Env, make_env, media_files

CSP = "default-src 'none'; sandbox"


@pytest.fixture(scope="module")
async def env(pilot: dict[str, Any], gql: GraphQLClient) -> Env:
    return await make_env(pilot, gql)


HOSTILE: list[tuple[str, Callable[[], bytes], str, str]] = [
    ("ftyp-html-polyglot", ftyp_html_polyglot, "video/mp4", "MEDIA_CORRUPT"),
    ("ftyp-without-moov", ftyp_without_moov, "video/mp4", "MEDIA_CORRUPT"),
    ("audio-only-mp4", audio_only_mp4, "video/mp4", "UNSUPPORTED_MEDIA_TYPE"),
    ("truncated", truncated_mp4, "video/mp4", "MEDIA_CORRUPT"),
    ("over-long", lambda: video(seconds=125, fps=1, size=(16, 16)), "video/mp4",
     "VIDEO_TOO_LONG"),
    ("webm-header-then-junk", webm_header_then_junk, "video/webm", "MEDIA_CORRUPT"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("make", "declared", "code"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE]
)
async def test_hostile_videos_leave_no_report_and_no_file(
    gql: GraphQLClient,
    env: Env,
    settings: Settings,
    make: Callable[[], bytes],
    declared: str,
    code: str,
) -> None:
    before = media_files(settings)
    files = [("clip.mp4", make(), declared)]
    payload, data = await submit(gql, env, files, token=env.token("citizen"))
    assert payload["report"] is None and payload["trackingCode"] is None
    [error] = payload["errors"]
    assert (error["code"], error["field"]) == (code, "attachments")
    assert error["message"]  # the English text, as the client asked for English
    assert await reports_with_key(env, data["idempotencyKey"]) == 0
    assert media_files(settings) == before
    # The refusal reserved nothing: the same key goes through with a real clip.
    payload, _ = await submit(
        gql,
        env,
        [("clip.mp4", video(), "video/mp4")],
        token=env.token("citizen"),
        idempotencyKey=data["idempotencyKey"],
    )
    assert payload["errors"] == [] and len(payload["report"]["attachments"]) == 1
    assert len(media_files(settings) - before) == 2  # the video and its thumbnail


async def fetch(http: httpx.AsyncClient, url: str) -> httpx.Response:
    response = await http.get(url)
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == CSP
    return response


def assert_inline(response: httpx.Response, url: str, content_type: str) -> None:
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    name = media_key(url).rsplit("/", 1)[-1]
    assert response.headers["content-disposition"] == f'inline; filename="{name}"'


async def test_a_stored_video_is_clean_and_served_inline_without_sniffing(
    gql: GraphQLClient, env: Env, settings: Settings
) -> None:
    clip = video("mov", "h264", audio="aac", rotation=-90)
    assert HANOI.encode() in clip
    payload, _ = await submit(
        gql, env, [("IMG_0001.MOV", clip, "video/quicktime")], token=env.token("citizen")
    )
    assert payload["errors"] == [], payload
    [attachment] = payload["report"]["attachments"]
    assert attachment["contentType"] == "video/quicktime"
    assert (attachment["width"], attachment["height"]) == (48, 64)  # shown upright
    assert media_key(attachment["url"]).endswith(".mov")
    assert media_key(attachment["thumbnailUrl"]).endswith("-thumb.jpg")

    stored = await fetch(gql.http, attachment["url"])
    assert_inline(stored, attachment["url"], "video/quicktime")
    assert stored.content.startswith(b"\0\0\0\x14ftypqt  ")
    assert HANOI.encode() not in stored.content and b"\xa9xyz" not in stored.content
    on_disk = settings.media_dir() / media_key(attachment["url"])
    assert stored.content == on_disk.read_bytes()
    # Players fetch videos in ranges; those answers carry the same headers.
    part = await gql.http.get(attachment["url"], headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and part.content == stored.content[:100]
    assert part.headers["content-type"] == "video/quicktime"
    assert part.headers["x-content-type-options"] == "nosniff"
    assert part.headers["content-security-policy"] == CSP
    assert part.headers["content-disposition"].startswith("inline; ")

    thumbnail = await fetch(gql.http, attachment["thumbnailUrl"])
    assert_inline(thumbnail, attachment["thumbnailUrl"], "image/jpeg")
    assert thumbnail.content.startswith(b"\xff\xd8\xff")


async def test_a_stored_photo_is_served_inline_without_sniffing(
    gql: GraphQLClient, env: Env
) -> None:
    payload, _ = await submit(
        gql, env, [("street.jpg", jpeg(), "image/jpeg")], token=env.token("citizen")
    )
    assert payload["errors"] == [], payload
    [attachment] = payload["report"]["attachments"]
    for url in (attachment["url"], attachment["thumbnailUrl"]):
        response = await fetch(gql.http, url)
        assert_inline(response, url, "image/jpeg")
        assert response.content.startswith(b"\xff\xd8\xff")


async def test_a_page_in_the_media_folder_is_only_ever_a_download(
    gql: GraphQLClient, settings: Settings
) -> None:
    """Whatever ends up on disk (a bug, an operator's copy), it never renders under our origin."""
    folder = settings.media_dir() / "planted"
    folder.mkdir(parents=True, exist_ok=True)
    page = b"<html><script>fetch('/graphql')</script></html>"
    (folder / "notes.html").write_bytes(page)
    (folder / "clip.mp4").write_bytes(ftyp_html_polyglot())
    try:
        html = await fetch(gql.http, signed_media_path(settings, "planted/notes.html"))
        assert html.status_code == 200 and html.content == page
        assert html.headers["content-type"] == "application/octet-stream"
        assert html.headers["content-disposition"] == "attachment"
        # Under a video name it keeps the video type, and nosniff stops the browser guessing.
        clip = signed_media_path(settings, "planted/clip.mp4")
        polyglot = await fetch(gql.http, clip)
        assert_inline(polyglot, clip, "video/mp4")
        # A name that is not a stored name is never echoed into a header.
        odd = await fetch(gql.http, '/media/planted/a"b;c.jpg')
        assert odd.status_code == 404 and odd.headers["content-disposition"] == "attachment"
    finally:
        for child in folder.iterdir():
            child.unlink()
        folder.rmdir()
