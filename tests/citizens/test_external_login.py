"""Citizens log in through a real OpenID Connect provider started by the test: the first login
creates the account with the claims mapped and nothing more, later logins find it, concurrent
first logins make exactly one, a token the provider did not sign is refused, and the same
identity becomes a citizen of a second tenant without gaining anything else; an ID token counts
only once, for a login started in that tenant (its nonce)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives.asymmetric import rsa

from accounts.models import CitizenProfile, User
from api.app import create_app
from api.database import DatabaseUrls
from api.settings import Settings
from citizens.models import ExternalLoginNonce
from permissions.session import tenant_transaction
from tenants.models import Tenant
from tests.conftest import GraphQLClient, with_client_address
from tests.support.citizens import MINE, call, submit_as
from tests.support.oidc import CLIENT_ID, id_token, run_provider

LOGIN = """mutation($i: ExternalLoginInput!) { externalLogin(input: $i) {
  accessToken refreshToken user { id username fullName } errors { code } } }"""
START = """mutation { startExternalLogin { login { nonce expiresAt } errors { code } } }"""
PROFILE = "{ myProfile { fullName email phone emailVerified phoneVerified } }"


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    yield from run_provider()


@pytest.fixture(scope="module")
async def oidc(
    settings: Settings, database: DatabaseUrls, issuer: str
) -> AsyncIterator[GraphQLClient]:
    """The API configured for the provider (PAHT_OIDC_ISSUER, _JWKS_URL, _AUDIENCE)."""
    configured = settings.model_copy(
        update={
            "oidc_issuer": issuer,
            "oidc_jwks_url": f"{issuer}/jwks",
            "oidc_audience": CLIENT_ID,
        }
    )
    app = create_app(configured, database.app, manage_db=False)
    transport = httpx.ASGITransport(app=with_client_address(app))
    async with httpx.AsyncClient(transport=transport, base_url="http://paht.test") as http:
        yield GraphQLClient(http)


async def login(gql: GraphQLClient, token: str, tenant: str = "sa-pa") -> dict[str, Any]:
    return (await call(gql, LOGIN, {"i": {"idToken": token}}, tenant=tenant))["externalLogin"]


async def start(gql: GraphQLClient, tenant: str = "sa-pa") -> str:
    """A login started in ``tenant``, as the app does before sending the citizen on."""
    started = (await call(gql, START, tenant=tenant))["startExternalLogin"]
    assert started["errors"] == [], started
    return str(started["login"]["nonce"])


async def token_for(
    gql: GraphQLClient, issuer: str, sub: str, claims: dict[str, Any], tenant: str = "sa-pa"
) -> str:
    """The ID token of a login started in ``tenant`` and run at the provider."""
    return await id_token(issuer, sub, claims, await start(gql, tenant))


def subject() -> str:
    return f"vneid-{uuid.uuid4().hex[:10]}"


async def test_the_first_login_creates_the_account_with_the_claims_it_needs(
    oidc: GraphQLClient, issuer: str, pilot: dict[str, Any]
) -> None:
    sub = subject()
    claims = {
        "name": "Giàng A Páo",
        "email": f"{sub}@example.vn",
        "email_verified": True,
        "phone_number": "+84912000111",
        "phone_number_verified": False,  # not proven: not kept
        "birthdate": "1990-01-01",  # not needed: not kept
    }
    first = await login(oidc, await token_for(oidc, issuer, sub, claims))
    assert first["errors"] == [] and first["accessToken"] and first["refreshToken"]
    assert first["user"]["fullName"] == "Giàng A Páo"
    token = first["accessToken"]
    assert (await call(oidc, PROFILE, token=token))["myProfile"] == {
        "fullName": "Giàng A Páo",
        "email": f"{sub}@example.vn",
        "phone": None,
        "emailVerified": True,
        "phoneVerified": False,
    }
    data = (await call(oidc, "{ myData }", token=token))["myData"]
    assert "1990" not in str(data) and "912000111" not in str(data)
    assert data["account"]["externalIdentity"] == f"{issuer}|{sub}"

    again = await login(oidc, await token_for(oidc, issuer, sub, claims))
    assert again["user"]["id"] == first["user"]["id"]
    filed = await submit_as(oidc, again["accessToken"])
    mine = (await call(oidc, MINE, token=token))["myReports"]["edges"]
    assert [e["node"]["code"] for e in mine] == [filed["report"]["code"]]


async def test_concurrent_first_logins_create_exactly_one_account(
    oidc: GraphQLClient, issuer: str, pilot: dict[str, Any]
) -> None:
    sub = subject()
    tokens = [await token_for(oidc, issuer, sub, {"name": "Lý Thị Chang"}) for _ in range(4)]
    answers = await asyncio.gather(*(login(oidc, t) for t in tokens))
    assert [a["errors"] for a in answers] == [[], [], [], []]
    assert len({a["user"]["id"] for a in answers}) == 1
    sapa = pilot["tenants"]["sa-pa"].id
    async with tenant_transaction(sapa):
        users = await User.filter(external_subject=f"{issuer}|{sub}")
        assert len(users) == 1
        assert await CitizenProfile.filter(user_id=users[0].id).count() == 1


async def test_tokens_the_provider_did_not_sign_are_refused(
    oidc: GraphQLClient, issuer: str, gql: GraphQLClient
) -> None:
    genuine = jwt.decode(
        await token_for(oidc, issuer, subject(), {"name": "A"}), options={"verify_signature": False}
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(genuine, key, algorithm="RS256", headers={"kid": "forged"})
    assert (await login(oidc, forged))["errors"] == [{"code": "INVALID_TOKEN"}]
    staff = await gql.login("sapa.handler", "paht-demo-2026")  # our own token is no ID token
    assert (await login(oidc, staff))["errors"] == [{"code": "INVALID_TOKEN"}]
    # Without a provider configured, there is no login to start.
    off = (await call(gql, START, tenant="sa-pa"))["startExternalLogin"]
    assert off == {"login": None, "errors": [{"code": "EXTERNAL_LOGIN_UNAVAILABLE"}]}


async def test_the_same_identity_becomes_a_citizen_of_a_second_tenant(
    oidc: GraphQLClient, issuer: str, pilot: dict[str, Any]
) -> None:
    sub = subject()
    dua = {"name": "Vàng Thị Dua"}
    here = await login(oidc, await token_for(oidc, issuer, sub, dua))
    there = await login(oidc, await token_for(oidc, issuer, sub, dua, "lao-cai"), "lao-cai")
    assert there["errors"] == [] and there["user"]["id"] == here["user"]["id"]
    laocai = pilot["tenants"]["lao-cai"].id
    async with tenant_transaction(laocai):
        user = await User.get(external_subject=f"{issuer}|{sub}")
        assert await CitizenProfile.exists(tenant_id=laocai, user_id=user.id)
    me = await call(oidc, "{ me { roles } }", token=there["accessToken"])
    assert me["me"]["roles"] == ["citizen"]


async def test_an_id_token_counts_once_and_only_for_a_login_started_here(
    oidc: GraphQLClient, issuer: str, time_machine: time_machine.TimeMachineFixture
) -> None:
    """OpenID Connect's nonce: a token replayed, from a login started in another tenant, or
    never started, or started too long ago, is refused — and creates no account."""
    refused = [{"code": "LOGIN_NOT_STARTED"}]
    sub = subject()
    token = await token_for(oidc, issuer, sub, {"name": "Thào Seo Mỷ"})
    assert (await login(oidc, token))["errors"] == []
    assert (await login(oidc, token))["errors"] == refused  # the same token again
    elsewhere = await token_for(oidc, issuer, subject(), {"name": "B"}, tenant="lao-cai")
    assert (await login(oidc, elsewhere))["errors"] == refused  # started in Lào Cai
    assert (await login(oidc, elsewhere, "lao-cai"))["errors"] == []  # where it was started
    never = subject()
    made_up = await id_token(issuer, never, {"name": "C"}, "x" * 43)
    assert (await login(oidc, made_up))["errors"] == refused
    stale = await token_for(oidc, issuer, never, {"name": "C"})
    time_machine.move_to(datetime.now(UTC) + timedelta(minutes=11), tick=False)
    assert (await login(oidc, stale))["errors"] == refused
    sapa = (await Tenant.get(code="sa-pa")).id
    async with tenant_transaction(sapa):
        assert not await User.filter(external_subject=f"{issuer}|{never}").exists()
        assert await ExternalLoginNonce.filter(tenant_id=sapa).exists()
    await start(oidc)  # starting again clears the tenant's expired ones: all but this one
    async with tenant_transaction(sapa):
        left = await ExternalLoginNonce.filter(tenant_id=sapa).values_list("expires_at", flat=True)
    assert len(left) == 1 and left[0] > datetime.now(UTC)
