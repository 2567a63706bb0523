"""Media links a browser can use: absolute; the public feed's photos plain and cacheable; every
other photo signed and expiring, refused once altered or expired; unpublishing takes a photo
out of public reach at once; ETag revalidation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from api.app import create_app
from api.database import DatabaseUrls
from api.settings import Settings
from reports.media_links import MediaLinks
from tests.clock import stop_clock
from tests.conftest import GraphQLClient
from tests.factories import media_key
from tests.support.media import PUBLISH, resolved_report, submitted_with_photo
from tests.support.workflow import (
    SUPERVISOR,
    Clock,
    Env,
    at,
    make_env,
)

FEED = """query($after: String) { publicReports(first: 50, after: $after) {
  edges { node { code photos { url thumbnailUrl } } } pageInfo { hasNextPage endCursor } } }"""


@pytest.fixture(scope="module")
async def env(pilot: dict[str, Any], gql: GraphQLClient) -> Env:
    return await make_env(pilot, gql)


async def feed_photos(gql: GraphQLClient, code: str) -> list[dict[str, Any]] | None:
    after = None
    while True:
        body = await gql.http.post(
            "/graphql",
            json={"query": FEED, "variables": {"after": after}},
            headers={"X-Paht-Tenant": "sa-pa"},
        )
        page = body.json()["data"]["publicReports"]
        for edge in page["edges"]:
            if edge["node"]["code"] == code:
                return edge["node"]["photos"]
        if not page["pageInfo"]["hasNextPage"]:
            return None
        after = page["pageInfo"]["endCursor"]


def unsigned(url: str) -> str:
    return url.split("?", 1)[0]


async def test_a_reports_photos_are_signed_until_the_feed_shows_them(
    gql: GraphQLClient, env: Env
) -> None:
    http = gql.http
    report = await submitted_with_photo(http, env)
    [photo] = report["attachments"]
    url = photo["url"]
    assert url.startswith("http://paht.test/media/")  # absolute: the request's own origin
    query = parse_qs(urlsplit(url).query)
    assert set(query) == {"expires", "signature"}

    served = await http.get(url)
    assert served.status_code == 200 and served.content.startswith(b"\xff\xd8\xff")
    cache = served.headers["cache-control"]
    assert cache.startswith("private, max-age=")
    assert 3600 <= int(cache.split("=")[1]) <= 7200
    etag = served.headers["etag"]
    again = await http.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""

    # Without the signature, or with any part changed: nothing.
    assert (await http.get(unsigned(url))).status_code == 404
    expires, signature = query["expires"][0], query["signature"][0]
    later = f"{unsigned(url)}?expires={int(expires) + 3600}&signature={signature}"
    assert (await http.get(later)).status_code == 403
    other = f"{unsigned(photo['thumbnailUrl'])}?expires={expires}&signature={signature}"
    assert (await http.get(other)).status_code == 403  # another file's link

    # Resolved and published: the feed links the photo plainly, for anyone, briefly cached.
    resolved = await resolved_report(env, report["id"])
    publish = await gql.ok(PUBLISH, {"id": report["id"], "p": True}, token=env.token(SUPERVISOR))
    assert publish["publishReport"]["errors"] == []
    [shown] = await feed_photos(gql, resolved.code) or [None]
    assert shown is not None and "?" not in shown["url"]
    assert media_key(shown["url"]) == media_key(url)
    public = await http.get(shown["url"])
    assert public.status_code == 200 and public.headers["cache-control"] == "public, max-age=300"
    assert (await http.get(shown["thumbnailUrl"])).status_code == 200

    # Unpublished: the plain link stops working at once; signed links still work.
    hidden = await gql.ok(PUBLISH, {"id": report["id"], "p": False}, token=env.token(SUPERVISOR))
    assert hidden["publishReport"]["report"]["published"] is False
    assert (await http.get(shown["url"])).status_code == 404
    assert (await http.get(url)).status_code == 200


async def test_a_signed_link_expires(
    gql: GraphQLClient, env: Env, settings: Settings, time_machine: Clock
) -> None:
    start = datetime(2026, 12, 1, 3, 10, tzinfo=UTC)
    then = await at(env, settings, time_machine, start)  # tokens issued at that instant
    report = await submitted_with_photo(gql.http, then)
    url = report["attachments"][0]["url"]
    assert (await gql.http.get(url)).status_code == 200
    stop_clock(time_machine, start + timedelta(hours=1, minutes=49))  # 04:59: the last window
    assert (await gql.http.get(url)).status_code == 200
    stop_clock(time_machine, start + timedelta(hours=1, minutes=50))  # 05:00: expired
    expired = await gql.http.get(url)
    assert expired.status_code == 403 and "hết hạn" in expired.text


def test_one_link_per_window_and_only_this_secret_signs() -> None:
    links = MediaLinks(b"k" * 32, ttl_seconds=3600)
    at = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    key = "t/2026/12/a.jpg"
    first = links.at("https://x").signed(key, at)
    assert links.at("https://x").signed(key, at + timedelta(minutes=59)) == first  # cacheable
    assert links.at("https://x").signed(key, at + timedelta(minutes=60)) != first
    expires = str(links.expiry(at))
    signature = links.signature(key, int(expires))
    assert links.verify(key, expires, signature, at) == 7200
    assert links.verify(key, expires, signature[:-1] + "A", at) is None
    assert MediaLinks(b"j" * 32).verify(key, expires, signature, at) is None
    assert links.verify(key, "-1", signature, at) is None
    assert links.verify(key, expires, signature, at + timedelta(hours=2)) is None


async def test_the_configured_public_url_starts_every_link(
    settings: Settings, database: DatabaseUrls, env: Env
) -> None:
    public = settings.model_copy(update={"public_url": "https://paht.laocai.gov.vn"})
    app = create_app(public, database.app, manage_db=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://internal:8000"
    ) as http:
        report = await submitted_with_photo(http, env)
        url = report["attachments"][0]["url"]
        assert url.startswith("https://paht.laocai.gov.vn/media/")
        path = urlsplit(url)
        served = await http.get(f"{path.path}?{path.query}")
        assert served.status_code == 200
