"""A real OpenID Connect provider for the tests (oidc-provider-mock: authlib behind a Werkzeug
server on a thread of this process), and the authorisation-code flow a citizen app runs
against it to get an ID token."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from oidc_provider_mock import run_server_in_thread

CLIENT_ID = "paht-citizen-app"
REDIRECT_URI = "http://localhost/callback"


def run_provider() -> Iterator[str]:
    """The provider's issuer URL (its discovery document, keys and endpoints are under it)."""
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


async def id_token(issuer: str, sub: str, claims: dict[str, Any], nonce: str) -> str:
    """Log ``sub`` in at the provider (the consent form's POST) with the ``nonce`` PAHT gave
    (startExternalLogin) and redeem the code."""
    async with httpx.AsyncClient(base_url=issuer) as http:
        stored = await http.put(f"/users/{sub}", json=claims)
        assert stored.status_code == 204, stored.text
        params = {
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": "openid profile email phone",
            "state": "st",
            "nonce": nonce,
        }
        authorised = await http.post("/oauth2/authorize", params=params, data={"sub": sub})
        assert authorised.status_code == 302, authorised.text
        code = parse_qs(urlsplit(authorised.headers["location"]).query)["code"][0]
        token = await http.post(
            "/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "client_id": CLIENT_ID,
                "client_secret": "app-secret",
            },
        )
        assert token.status_code == 200, token.text
        return str(token.json()["id_token"])
