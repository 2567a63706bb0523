"""Attachments in an S3-compatible store (a real moto server over HTTP): the Storage contract,
and /media served from it with the same safe headers as local files."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
from pydantic import SecretStr

from api.app import create_app
from api.database import DatabaseUrls
from api.media_files import MEDIA_CSP
from api.services import make_storage
from api.settings import Settings
from reports.storage import Storage, make_key
from reports.storage_s3 import S3Storage
from tests.factories import jpeg, media_key, signed_media_path
from tests.support.citizen import submit_photo
from tests.support.s3 import ACCESS_KEY, REGION, SECRET_KEY, S3Server

TENANT = UUID("11111111-1111-4111-8111-111111111111")


@pytest.fixture
def bucket(s3_server: S3Server) -> str:
    return s3_server.new_bucket()


@pytest.fixture
def store(s3_server: S3Server, bucket: str) -> S3Storage:
    return S3Storage(
        bucket=bucket,
        endpoint_url=s3_server.endpoint_url,
        region=REGION,
        access_key_id=ACCESS_KEY,
        secret_access_key=SECRET_KEY,
        prefix="paht/",
    )


def stored_names(s3_server: S3Server, bucket: str) -> list[str]:
    listing = s3_server.client().list_objects_v2(Bucket=bucket)
    return sorted(o["Key"] for o in listing.get("Contents", []))


async def test_round_trip(store: S3Storage, s3_server: S3Server, bucket: str) -> None:
    key = make_key(TENANT, uuid4(), "jpg")
    assert isinstance(store, Storage)
    assert not await store.exists(key)
    await store.save(key, b"\xff\xd8\xffdata", "image/jpeg")
    assert await store.exists(key)
    assert await store.read(key) == b"\xff\xd8\xffdata"
    assert stored_names(s3_server, bucket) == [f"paht/{key}"]  # under the prefix
    head = s3_server.client().head_object(Bucket=bucket, Key=f"paht/{key}")
    assert head["ContentType"] == "image/jpeg"

    await store.delete(key)
    assert not await store.exists(key)
    await store.delete(key)  # idempotent, like LocalStorage
    with pytest.raises(FileNotFoundError):
        await store.read(key)


@pytest.mark.parametrize("bad", ["../etc/passwd", "/abs/key.jpg", "a/../b.jpg", "a\\b.jpg", ""])
async def test_bad_keys_are_refused_before_any_request(
    store: S3Storage, s3_server: S3Server, bucket: str, bad: str
) -> None:
    for call in (store.save(bad, b"x", "image/jpeg"), store.read(bad), store.exists(bad)):
        with pytest.raises(ValueError):
            await call
    assert stored_names(s3_server, bucket) == []


def s3_settings(settings: Settings, s3_server: S3Server, bucket: str) -> Settings:
    env: dict[str, Any] = {
        k.removeprefix("PAHT_").lower(): v for k, v in s3_server.env(bucket).items()
    }  # model_copy does not validate: give each setting its type
    env.update(s3_path_style=True, s3_secret_access_key=SecretStr(env["s3_secret_access_key"]))
    return settings.model_copy(update=env)


async def test_settings_choose_the_backend(
    settings: Settings, s3_server: S3Server, bucket: str
) -> None:
    store = make_storage(s3_settings(settings, s3_server, bucket))
    assert isinstance(store, S3Storage) and store.bucket == bucket
    key = make_key(TENANT, uuid4(), "png")
    await store.save(key, b"png-bytes", "image/png")
    assert stored_names(s3_server, bucket) == [key]
    with pytest.raises(ValueError, match="PAHT_S3_BUCKET"):
        make_storage(settings.model_copy(update={"storage": "s3", "s3_bucket": ""}))


@pytest.fixture
async def s3_client(
    settings: Settings, database: DatabaseUrls, s3_server: S3Server, bucket: str
) -> Any:
    app = create_app(s3_settings(settings, s3_server, bucket), database.app, manage_db=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://paht.test"
    ) as http:
        yield http


async def test_media_are_served_from_the_store_with_the_safe_headers(
    s3_client: httpx.AsyncClient, s3_server: S3Server, bucket: str, settings: Settings
) -> None:
    key = make_key(TENANT, uuid4(), "jpg")
    link = signed_media_path(settings, key)
    photo = jpeg()
    s3_server.client().put_object(Bucket=bucket, Key=key, Body=photo, ContentType="text/html")
    whole = await s3_client.get(link)
    assert whole.status_code == 200 and whole.content == photo
    assert whole.headers["content-type"] == "image/jpeg"  # from the key, not the store's word
    assert whole.headers["x-content-type-options"] == "nosniff"
    assert whole.headers["content-security-policy"] == MEDIA_CSP
    assert whole.headers["content-disposition"] == f'inline; filename="{key.rsplit("/", 1)[1]}"'

    part = await s3_client.get(link, headers={"Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == photo[:10]
    assert part.headers["content-range"] == f"bytes 0-9/{len(photo)}"
    head = await s3_client.head(link)
    assert head.status_code == 200 and head.headers["content-length"] == str(len(photo))
    outside = await s3_client.get(link, headers={"Range": f"bytes={len(photo) + 5}-"})
    assert outside.status_code == 416


async def test_unsafe_names_and_missing_files(
    s3_client: httpx.AsyncClient, s3_server: S3Server, bucket: str, settings: Settings
) -> None:
    page = make_key(TENANT, uuid4(), "html")
    s3_server.client().put_object(Bucket=bucket, Key=page, Body=b"<script>alert(1)</script>")
    served = await s3_client.get(signed_media_path(settings, page))
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/octet-stream"
    assert served.headers["content-disposition"] == "attachment"
    missing_file = signed_media_path(settings, make_key(TENANT, uuid4(), "jpg"))
    for path in (missing_file, "/media/.hidden/x.jpg"):
        missing = await s3_client.get(path)
        assert missing.status_code == 404
        assert missing.headers["x-content-type-options"] == "nosniff"
    assert (await s3_client.post(signed_media_path(settings, page))).status_code == 405


async def test_a_photo_submitted_through_graphql_lands_in_the_store(
    s3_client: httpx.AsyncClient, s3_server: S3Server, bucket: str, pilot: dict[str, Any]
) -> None:
    url = await submit_photo(s3_client, "sa-pa", title=f"s3-{uuid.uuid4().hex[:8]}")
    names = stored_names(s3_server, bucket)
    assert len(names) == 2  # the photo and its thumbnail, nothing on local disk
    assert media_key(url) in names
    served = await s3_client.get(url)
    assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"
    assert served.content[:3] == b"\xff\xd8\xff"
