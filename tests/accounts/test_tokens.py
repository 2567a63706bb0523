"""Access tokens: what the API accepts, what it refuses (HTTP 401 + INVALID_TOKEN), asymmetric
signing, and external (OIDC) identities verified against a JWKS endpoint."""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.server
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from accounts.tokens import TokenService
from api.auth import scope_from_token
from api.settings import Settings
from core.errors import DomainError
from permissions.session import tenant_transaction
from tests.conftest import TEST_SECRET, GraphQLClient
from tests.factories import user_named

ME = "{ me { user { username } roles } }"
LOGIN = """
mutation($i: LoginInput!) {
  login(input: $i) { accessToken refreshToken errors { code message field } }
}
"""
OIDC_ISSUER = "https://sso.laocai.example"
NOW = int(time.time())  # for parameters; tokens made in tests use the time of the test


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem_private(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def pem_public(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


async def expect_invalid_token(gql: GraphQLClient, token: str) -> None:
    response = await gql.raw(ME, token=token)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == "INVALID_TOKEN", body
    assert "data" not in body


# --- HS256 tokens over HTTP -----------------------------------------------------------------


@pytest.fixture
async def sapa_admin(gql: GraphQLClient, pilot: dict[str, Any]) -> dict[str, str]:
    """The identity of a real session of Sa Pa's admin (hand-made tokens reuse its ``sid``)."""
    token = await gql.login("sapa.admin", pilot["password"])
    claims = jwt.decode(token, options={"verify_signature": False})
    return {"sub": claims["sub"], "tid": claims["tid"], "sid": claims["sid"]}


def claims_for(ids: dict[str, str], **changes: Any) -> dict[str, Any]:
    """Claims of a well-formed access token; a value of ``None`` in ``changes`` drops it."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": "paht",
        "aud": "paht-api",
        "sub": ids["sub"],
        "tid": ids["tid"],
        "sid": ids["sid"],
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


async def test_login_token_reads_me(gql: GraphQLClient, pilot: dict[str, Any]) -> None:
    token = await gql.login("sapa.admin", pilot["password"])
    data = await gql.ok(ME, token=token)
    assert data["me"]["user"]["username"] == "sapa.admin"
    assert "tenant_admin" in data["me"]["roles"]


async def test_hand_made_valid_token_is_accepted(
    gql: GraphQLClient, sapa_admin: dict[str, str]
) -> None:
    # The control for the refusals below: each of them changes one thing of this token.
    token = jwt.encode(claims_for(sapa_admin), TEST_SECRET, algorithm="HS256")
    data = await gql.ok(ME, token=token)
    assert data["me"]["user"]["username"] == "sapa.admin"


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"exp": NOW - 3600, "iat": NOW - 7200}, id="expired"),
        pytest.param({"aud": "another-api"}, id="wrong-audience"),
        pytest.param({"iss": "someone-else"}, id="wrong-issuer"),
        pytest.param({"jti": None}, id="missing-jti"),
        pytest.param({"sub": None}, id="missing-sub"),
        pytest.param({"exp": None}, id="missing-exp"),
        pytest.param({"sub": "not-a-uuid"}, id="malformed-sub"),
        pytest.param({"nbf": NOW + 3600}, id="not-yet-valid"),
    ],
)
async def test_bad_claims_are_refused(
    gql: GraphQLClient, sapa_admin: dict[str, str], changes: dict[str, Any]
) -> None:
    token = jwt.encode(claims_for(sapa_admin, **changes), TEST_SECRET, algorithm="HS256")
    await expect_invalid_token(gql, token)


async def test_wrong_key_is_refused(gql: GraphQLClient, sapa_admin: dict[str, str]) -> None:
    other = "another-secret-that-is-long-enough-for-hs256-9876543210"
    await expect_invalid_token(gql, jwt.encode(claims_for(sapa_admin), other, algorithm="HS256"))


async def test_alg_none_is_refused(gql: GraphQLClient, sapa_admin: dict[str, str]) -> None:
    header = b64json({"alg": "none", "typ": "JWT"})
    token = f"{header}.{b64json(claims_for(sapa_admin))}."
    await expect_invalid_token(gql, token)
    # Some libraries also accept "None"/"NONE" or a signature left in place.
    shouting = f"{b64json({'alg': 'NONE', 'typ': 'JWT'})}.{b64json(claims_for(sapa_admin))}."
    await expect_invalid_token(gql, shouting)


async def test_rs256_token_with_own_key_is_refused(
    gql: GraphQLClient, sapa_admin: dict[str, str]
) -> None:
    # Algorithm confusion: the attacker signs with their own key and even embeds its public
    # half in the header; the server must only ever use HS256 with its secret.
    key = rsa_key()
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    token = jwt.encode(claims_for(sapa_admin), key, algorithm="RS256", headers={"jwk": jwk})
    await expect_invalid_token(gql, token)


@pytest.mark.parametrize(
    "token", ["garbage", "a.b.c", "Bearer", "eyJhbGciOiJIUzI1NiJ9.e30", "eyJhbGciOiJIUzI1NiJ9.."]
)
async def test_garbage_is_refused(gql: GraphQLClient, token: str) -> None:
    await expect_invalid_token(gql, token)


async def test_no_token_me_is_unauthenticated_but_login_works(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    body = await gql(ME)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["errors"][0]["path"] == ["me"]

    data = await gql.ok(LOGIN, {"i": {"username": "sapa.admin", "password": pilot["password"]}})
    assert data["login"]["errors"] == []
    assert data["login"]["accessToken"]


async def test_unknown_user_and_wrong_password_look_the_same(
    gql: GraphQLClient, pilot: dict[str, Any]
) -> None:
    wrong_password = await gql.ok(
        LOGIN, {"i": {"username": "sapa.admin", "password": pilot["password"] + "x"}}
    )
    unknown_user = await gql.ok(
        LOGIN, {"i": {"username": "nobody.at.all", "password": pilot["password"]}}
    )
    for data in (wrong_password, unknown_user):
        assert data["login"]["accessToken"] is None
        assert data["login"]["refreshToken"] is None
    assert wrong_password["login"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    assert wrong_password["login"]["errors"] == unknown_user["login"]["errors"]


# --- asymmetric signing ---------------------------------------------------------------------


@pytest.fixture
def es256_settings(tmp_path: Path) -> Settings:
    key = ec.generate_private_key(ec.SECP256R1())
    private, public = tmp_path / "jwt.key", tmp_path / "jwt.pub"
    private.write_bytes(pem_private(key))
    public.write_bytes(pem_public(key))
    return Settings(
        jwt_algorithm="ES256",
        jwt_private_key_file=private,
        jwt_public_key_file=public,
        data_dir=tmp_path,
    )


def test_es256_round_trip(es256_settings: Settings) -> None:
    tokens = TokenService(es256_settings.token_config())
    user_id, tenant_id = uuid.uuid4(), uuid.uuid4()
    token, ttl = tokens.issue_access(user_id, tenant_id, uuid.uuid4())
    assert ttl == es256_settings.access_token_ttl_seconds
    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    identity = tokens.verify(token)
    assert (identity.user_id, identity.tenant_id) == (user_id, tenant_id)
    assert identity.token_id and identity.external_subject is None

    provincial, _ = tokens.issue_access(user_id, None, uuid.uuid4())
    assert tokens.verify(provincial).tenant_id is None


def test_es256_refuses_other_key_and_hmac_with_public_key(es256_settings: Settings) -> None:
    tokens = TokenService(es256_settings.token_config())
    good, _ = tokens.issue_access(uuid.uuid4(), None, uuid.uuid4())
    claims = jwt.decode(good, options={"verify_signature": False})

    other = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(claims, other, algorithm="ES256")
    with pytest.raises(DomainError) as refused:
        tokens.verify(forged)
    assert refused.value.code == "INVALID_TOKEN"

    # Classic confusion: HS256 "signed" with the (public) verification key as the secret.
    public_pem = es256_settings.jwt_public_key_file.read_bytes()  # type: ignore[union-attr]
    signing_input = f"{b64json({'alg': 'HS256', 'typ': 'JWT'})}.{b64json(claims)}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(DomainError) as confused:
        tokens.verify(f"{signing_input}.{b64url(mac)}")
    assert confused.value.code == "INVALID_TOKEN"


def test_asymmetric_algorithm_needs_key_files(tmp_path: Path) -> None:
    # Refused when the service is configured (at start-up), not at the first login.
    with pytest.raises(ValueError, match="PRIVATE_KEY"):
        Settings(jwt_algorithm="RS256", data_dir=tmp_path).token_config()
    with pytest.raises(ValueError, match="none"):
        Settings(jwt_algorithm="none", data_dir=tmp_path).token_config()


# --- external identities (OIDC) -------------------------------------------------------------


class JwksServer:
    """Serves a JWKS document on 127.0.0.1 (PyJWKClient accepts only http(s) URLs)."""

    def __init__(self) -> None:
        self.document: dict[str, Any] = {"keys": []}
        self.requests = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.requests += 1
                body = json.dumps(owner.document).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/jwks.json"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def idp_key() -> rsa.RSAPrivateKey:
    return rsa_key()


@pytest.fixture
def jwks_server(idp_key: rsa.RSAPrivateKey) -> Iterator[JwksServer]:
    server = JwksServer()
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(idp_key.public_key()))
    server.document = {"keys": [{**jwk, "kid": "idp-1", "use": "sig", "alg": "RS256"}]}
    yield server
    server.close()


@pytest.fixture
def oidc_tokens(jwks_server: JwksServer, tmp_path: Path) -> TokenService:
    return TokenService(
        Settings(
            jwt_secret=TEST_SECRET,
            oidc_issuer=OIDC_ISSUER,
            oidc_jwks_url=jwks_server.url,
            oidc_audience="paht",
            data_dir=tmp_path,
        ).token_config()
    )


IdpToken = Callable[..., str]


@pytest.fixture
def idp_token(idp_key: rsa.RSAPrivateKey) -> IdpToken:
    def make(
        sub: str = "cccd-001094000123",
        key: rsa.RSAPrivateKey | None = None,
        kid: str = "idp-1",
        **changes: Any,
    ) -> str:
        now = int(time.time())
        claims = {"iss": OIDC_ISSUER, "aud": "paht", "sub": sub, "iat": now, "exp": now + 300}
        claims.update(changes)
        return jwt.encode(claims, key or idp_key, algorithm="RS256", headers={"kid": kid})

    return make


def test_jwks_file_url_is_refused_at_startup(tmp_path: Path) -> None:
    # PyJWKClient accepts http(s) only; a file:// JWKS URL must fail when the service is built,
    # not on the first request (where it would break every token, local ones included).
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": []}))
    with pytest.raises(jwt.PyJWKClientError, match="scheme"):
        TokenService(
            Settings(
                jwt_secret=TEST_SECRET,
                oidc_issuer=OIDC_ISSUER,
                oidc_jwks_url=jwks.as_uri(),
                data_dir=tmp_path,
            ).token_config()
        )


def test_oidc_token_gives_external_subject(
    oidc_tokens: TokenService, idp_token: IdpToken, jwks_server: JwksServer
) -> None:
    identity = oidc_tokens.verify(idp_token(sub="cccd-001094000123", jti="abc"))
    assert identity.external_subject == f"{OIDC_ISSUER}|cccd-001094000123"
    assert identity.user_id is None and identity.tenant_id is None
    assert identity.token_id == "abc"
    assert jwks_server.requests == 1

    # Local tokens still verify with the same service.
    local, _ = oidc_tokens.issue_access(uuid.uuid4(), None, uuid.uuid4())
    assert oidc_tokens.verify(local).external_subject is None


@pytest.mark.parametrize(
    "forgery",
    [
        pytest.param({"key": "other"}, id="other-key-same-kid"),
        pytest.param({"key": "other", "kid": "idp-2"}, id="other-key-unknown-kid"),
        pytest.param({"aud": "paht-api"}, id="wrong-audience"),
        pytest.param({"exp": NOW - 600}, id="expired"),
    ],
)
def test_oidc_forgeries_are_refused(
    oidc_tokens: TokenService, idp_token: IdpToken, forgery: dict[str, Any]
) -> None:
    assert oidc_tokens.verify(idp_token()).external_subject  # the control
    if forgery.get("key") == "other":
        forgery = {**forgery, "key": rsa_key()}
    with pytest.raises(DomainError) as refused:
        oidc_tokens.verify(idp_token(**forgery))
    assert refused.value.code == "INVALID_TOKEN"


def test_oidc_issuer_token_signed_with_local_secret_is_refused(
    oidc_tokens: TokenService, idp_token: IdpToken
) -> None:
    # Knowing the IdP's issuer is not enough: it is verified against the IdP's keys only.
    now = int(time.time())
    claims = {"iss": OIDC_ISSUER, "aud": "paht", "sub": "x", "iat": now, "exp": now + 300}
    token = jwt.encode(claims, TEST_SECRET, algorithm="HS256", headers={"kid": "idp-1"})
    with pytest.raises(DomainError) as refused:
        oidc_tokens.verify(token)
    assert refused.value.code == "INVALID_TOKEN"


async def test_linked_external_user_gets_their_scope(
    oidc_tokens: TokenService, idp_token: IdpToken, pilot: dict[str, Any]
) -> None:
    subject = f"sub-{uuid.uuid4().hex[:8]}"
    token = idp_token(sub=subject)

    with pytest.raises(DomainError) as unlinked:
        await scope_from_token(token, oidc_tokens)
    assert unlinked.value.code == "UNKNOWN_EXTERNAL_USER"

    user = await user_named("sapa.admin")
    sapa = tenant_transaction(pilot["tenants"]["sa-pa"].id)
    async with sapa:
        user.external_subject = f"{OIDC_ISSUER}|{subject}"
        await user.save(update_fields=["external_subject"])
    try:
        scope = (await scope_from_token(token, oidc_tokens)).scope
        assert scope.user_id == user.id
        assert scope.tenant_id == pilot["tenants"]["sa-pa"].id == user.default_tenant_id
        assert "tenant_admin" in scope.roles
        assert scope.allows("tenant:manage")
    finally:
        async with tenant_transaction(pilot["tenants"]["sa-pa"].id):
            user.external_subject = None
            await user.save(update_fields=["external_subject"])

    with pytest.raises(DomainError) as unlinked_again:
        await scope_from_token(token, oidc_tokens)
    assert unlinked_again.value.code == "UNKNOWN_EXTERNAL_USER"
