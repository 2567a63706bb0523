"""Shared test helpers: accounts as their tenant sees them, a fresh locality of one's own,
users with narrowed grants. A test that needs to change a tenant's configuration builds its own
tenant here instead of mutating a shared (demo or module-scoped) one, so the suite passes in any
order."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import websockets
from PIL import ExifTags, Image
from strawberry import relay

from accounts.credentials import login_candidates
from accounts.models import User
from api.settings import Settings
from core import clock
from permissions.scope import Scope
from permissions.session import scoped_transaction, tenant_transaction
from reports.media_links import MediaLinks
from tests.conftest import GraphQLClient

PASSWORD = "mat-khau-dai-du-2026"


async def find_user(username: str) -> User | None:
    """The account of that name in any tenant, read as its own tenant's requests see it.

    ``app_user`` is row-level secured, so a bare ``User.get`` as the application role finds
    nothing; the login lookup (which sees every tenant) says which tenant to read it in. Also
    an honest "was nothing created?" check: it is not limited by the test's own tenant."""
    candidates = await login_candidates(username.strip().lower(), None)
    if not candidates:
        return None
    home = candidates[0].home_tenant_id
    if home is None:
        province = Scope(user_id=candidates[0].user_id, tenant_id=None, provincial=True)
        async with scoped_transaction(province):
            return await User.get(id=candidates[0].user_id)
    async with tenant_transaction(home):
        return await User.get(id=candidates[0].user_id)


async def user_named(username: str) -> User:
    user = await find_user(username)
    assert user is not None, f"no account named {username}"
    return user


ONBOARD = """mutation($i: OnboardTenantInput!) { onboardTenant(input: $i) {
  tenant { id code } errors { code field message } } }"""
CREATE_USER = """mutation($i: CreateUserInput!) { createUser(input: $i) {
  user { id } errors { code field message } } }"""
GRANT_ROLE = """mutation($i: GrantRoleInput!) { grantRole(input: $i) {
  errors { code field message } } }"""
CONFIG = "{ agencies { id code } fields { id code } }"


def gid(kind: str, value: uuid.UUID | str) -> str:
    return str(relay.GlobalID(kind, str(value)))


def local_id(global_id: str) -> uuid.UUID:
    return uuid.UUID(relay.GlobalID.from_id(global_id).node_id)


async def onboard_locality(
    gql: GraphQLClient,
    pilot: dict[str, Any],
    *,
    prefix: str = "loc",
    agencies: list[dict[str, Any]] | None = None,
    fields: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Onboard a new tenant (no administrative units, so any point outside the pilot's units is
    accepted) as the province admin. Returns its code and id, the admin's token and the ids of
    its agencies and fields by code."""
    code = f"{prefix}-{uuid.uuid4().hex[:6]}"
    province = await gql.login("tinh.admin", pilot["password"])
    data = await gql.ok(
        ONBOARD,
        {
            "i": {
                "code": code,
                "reportPrefix": "KT",
                "nameVi": "UBND Kiểm thử",
                "nameEn": "Test locality",
                "admin": {"username": f"{code}.admin", "fullName": "Admin", "password": PASSWORD},
                "agencies": agencies
                if agencies is not None
                else [{"code": "phong-qldt", "nameVi": "Phòng QLĐT", "nameEn": "UMO"}],
                "fields": fields
                if fields is not None
                else [
                    {
                        "code": "ha-tang",
                        "nameVi": "Hạ tầng",
                        "nameEn": "Infra",
                        "defaultAgencyCode": "phong-qldt",
                        "quickFix": True,
                    },
                    {"code": "du-lich", "nameVi": "Du lịch", "nameEn": "Tourism"},
                ],
            }
        },
        token=province,
    )
    assert data["onboardTenant"]["errors"] == [], data
    tenant = data["onboardTenant"]["tenant"]
    admin = await gql.login(f"{code}.admin", PASSWORD)
    config = await gql.ok(CONFIG, token=admin)
    return {
        "code": code,
        "tenant_id": local_id(tenant["id"]),
        "admin": admin,
        "agencies": {a["code"]: local_id(a["id"]) for a in config["agencies"]},
        "fields": {f["code"]: local_id(f["id"]) for f in config["fields"]},
    }


async def user_with_grants(
    gql: GraphQLClient, locality: dict[str, Any], name: str, *grants: dict[str, Any]
) -> str:
    """A new user of ``locality`` holding ``grants`` (each ``{"role": ..., "agencyId": ...,
    "fieldId": ...}`` with global ids); returns the user's access token."""
    username = f"{locality['code']}.{name}"
    created = await gql.ok(
        CREATE_USER,
        {"i": {"username": username, "fullName": name, "password": PASSWORD}},
        token=locality["admin"],
    )
    assert created["createUser"]["errors"] == [], created
    user_id = created["createUser"]["user"]["id"]
    for grant in grants:
        granted = await gql.ok(
            GRANT_ROLE, {"i": {"userId": user_id, **grant}}, token=locality["admin"]
        )
        assert granted["grantRole"]["errors"] == [], (grant, granted)
    return await gql.login(username, PASSWORD)


ALL_REPORTS = """query($after: String) { reports(first: 100, after: $after) {
  edges { node { id code field { id } leadAgency { id } coordinatingAgencies { id } } }
  pageInfo { hasNextPage endCursor } } }"""


async def all_reports(gql: GraphQLClient, token: str) -> dict[str, dict[str, Any]]:
    """Every report the caller may list, page by page, by global id."""
    found: dict[str, dict[str, Any]] = {}
    after = None
    while True:
        page = (await gql.ok(ALL_REPORTS, {"after": after}, token=token))["reports"]
        found |= {e["node"]["id"]: e["node"] for e in page["edges"]}
        if not page["pageInfo"]["hasNextPage"]:
            return found
        after = page["pageInfo"]["endCursor"]


def involves(report: dict[str, Any], agency_gid: str) -> bool:
    """An agency's reports: those it leads and those it coordinates."""
    lead = report["leadAgency"]
    return (lead is not None and lead["id"] == agency_gid) or agency_gid in {
        a["id"] for a in report["coordinatingAgencies"]
    }


ACTIVITY = "subscription { reportActivity { reportId code state action } }"


@contextlib.asynccontextmanager
async def subscription(
    url: str, params: dict[str, Any], query: str = ACTIVITY
) -> AsyncIterator[Any]:
    """A graphql-transport-ws subscription on the ``ws_server`` fixture's URL."""
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": params}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert ack["type"] == "connection_ack", ack
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        yield ws


async def next_message(ws: Any, seconds: float = 5) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), seconds))


async def subscribers_registered(tenant_id: uuid.UUID, count: int) -> None:
    """Wait until ``count`` subscriptions listen to the tenant's events. The ``ws_server`` runs in
    this process, so its event bus can be asked directly: no sleep that might be too short."""
    from reports.live import bus

    async def registered() -> None:
        while len(bus._subscribers.get(tenant_id, ())) < count:  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    await asyncio.wait_for(registered(), 10)


SUBMIT = """mutation($i: SubmitReportInput!) { submitReport(input: $i) {
  report { id code version } errors { code message } } }"""
ASSIGN = """mutation($i: AssignReportInput!) { assignReport(input: $i) {
  report { id version } errors { code message } } }"""


async def submit_report_as(
    gql: GraphQLClient, token: str, field_gid: str, title: str
) -> dict[str, Any]:
    """A report submitted over GraphQL at a point outside the pilot's units (fine for a
    locality of ``onboard_locality``, which has no units); returns id, code and version."""
    data = await gql.ok(
        SUBMIT,
        {
            "i": {
                "title": title,
                "description": "Phản ánh kiểm thử.",
                "fieldId": field_gid,
                "latitude": 10.0,
                "longitude": 106.0,
            }
        },
        token=token,
    )
    assert data["submitReport"]["errors"] == [], data
    return data["submitReport"]["report"]


async def assign_report_as(
    gql: GraphQLClient,
    token: str,
    report: dict[str, Any],
    lead_gid: str,
    coordinating: list[str] | tuple[str, ...] = (),
) -> None:
    data = await gql.ok(
        ASSIGN,
        {
            "i": {
                "id": report["id"],
                "version": report["version"],
                "leadAgencyId": lead_gid,
                "coordinatingAgencyIds": list(coordinating),
            }
        },
        token=token,
    )
    assert data["assignReport"]["errors"] == [], data


def jpeg(
    color: tuple[int, int, int] = (40, 140, 60), size: tuple[int, int] = (96, 64), gps: bool = True
) -> bytes:
    """A small JPEG photo; with the phone's GPS position in its EXIF unless ``gps`` is false."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PahtPhone"
    if gps:
        position = exif.get_ifd(ExifTags.IFD.GPSInfo)
        position[ExifTags.GPS.GPSLatitudeRef] = "N"
        position[ExifTags.GPS.GPSLatitude] = (22.0, 19.0, 55.2)
        position[ExifTags.GPS.GPSLongitudeRef] = "E"
        position[ExifTags.GPS.GPSLongitude] = (103.0, 50.0, 31.2)
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG", exif=exif, quality=90)
    return out.getvalue()


def media_key(url: str) -> str:
    """The storage key of a media link (absolute or not, signed or not)."""
    return urlsplit(url).path.split("/media/", 1)[1]


def signed_media_path(settings: Settings, key: str) -> str:
    """A working signed link to ``key``, as the API would hand it out now (path only)."""
    links = MediaLinks(settings.media_link_secret(), settings.media_link_ttl_seconds)
    return links.at("").signed(key, clock.now())
