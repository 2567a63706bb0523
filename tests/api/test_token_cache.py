"""Verified tokens are kept for their lifetime (api/auth.py), yet a logout, and the token's
expiry, still refuse the very token that was kept."""

from __future__ import annotations

import time
from typing import Any

import time_machine

from api.auth import verified_tokens

ME = "{ me { user { username } } }"


async def _me(gql: Any, token: str) -> Any:
    return await gql.raw(ME, token=token)


async def test_a_kept_token_is_refused_after_logout(gql: Any, pilot: dict[str, Any]) -> None:
    login = await gql.ok(
        "mutation($i: LoginInput!) { login(input: $i) { accessToken refreshToken } }",
        {"i": {"username": "sapa.handler", "password": pilot["password"], "tenantCode": "sa-pa"}},
    )
    token, refresh = login["login"]["accessToken"], login["login"]["refreshToken"]
    assert (await _me(gql, token)).status_code == 200
    assert any(t == token for _, t in verified_tokens.entries)  # kept after the first use
    assert (await _me(gql, token)).status_code == 200
    await gql.ok(
        "mutation($t: String!) { logout(input: {refreshToken: $t}) { ok } }", {"t": refresh}, token
    )
    refused = await _me(gql, token)
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["extensions"]["code"] == "INVALID_TOKEN"


async def test_a_kept_token_is_refused_once_expired(gql: Any, pilot: dict[str, Any]) -> None:
    token = await gql.login("sapa.handler", pilot["password"], "sa-pa")
    assert (await _me(gql, token)).status_code == 200
    identity = next(i for (_, t), i in verified_tokens.entries.items() if t == token)
    assert identity.expires_at is not None and identity.expires_at > time.time()
    with time_machine.travel(identity.expires_at + 60, tick=False):
        refused = await _me(gql, token)
    assert refused.status_code == 401
    assert refused.json()["errors"][0]["extensions"]["code"] == "INVALID_TOKEN"
