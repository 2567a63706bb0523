"""A real browser (Debian's chromium, driven by Playwright) using the API from another origin:
CORS preflights, a login, a query, a multipart photo upload and a graphql-ws subscription —
and an origin that is not allowed is refused both over HTTP and WebSocket."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from api.app import create_app
from api.database import DatabaseUrls
from api.settings import Settings
from tests.conftest import serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)
PAGES = Path(__file__).resolve().parent


def static_site() -> Starlette:
    return Starlette(routes=[Mount("/", StaticFiles(directory=PAGES))])


@pytest.fixture(scope="module")
async def sites(settings: Settings, database: DatabaseUrls) -> AsyncIterator[dict[str, str]]:
    async with serving(static_site()) as allowed, serving(static_site()) as foreign:
        api_settings = settings.model_copy(update={"allowed_origins": [allowed]})
        app = create_app(api_settings, database.app, manage_db=False)
        async with serving(app) as api:
            yield {"api": api, "allowed": allowed, "foreign": foreign}


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        # No browser download: the system's chromium, with the flags a closed network needs.
        launched = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"],
        )  # fmt: skip
        yield launched
        await launched.close()


async def open_page(browser: Any, site: str, api: str) -> Any:
    page = await browser.new_page()
    await page.goto(f"{site}/app.html?api={api}")
    await page.wait_for_function("typeof window.run === 'function'")
    return page


async def test_a_web_app_on_another_origin_uses_the_whole_api(
    browser: Any, sites: dict[str, str], pilot: dict[str, Any]
) -> None:
    page = await open_page(browser, sites["allowed"], sites["api"])
    result = await asyncio.wait_for(
        page.evaluate("([u, p]) => run(u, p)", ["sapa.citizen", pilot["password"]]), 60
    )
    assert result["loginStatus"] == 200
    assert result["requestId"]  # exposed to scripts by CORS
    assert result["username"] == "sapa.citizen"
    assert result["submitErrors"] == []
    assert result["code"].startswith("SP-")
    assert result["attachment"]["contentType"] == "image/jpeg"
    # The event of the second report arrived over the browser's WebSocket.
    assert result["activity"] == {"code": result["secondCode"], "action": "SUBMIT"}
    await page.close()


async def test_an_origin_not_allowed_is_refused(browser: Any, sites: dict[str, str]) -> None:
    page = await open_page(browser, sites["foreign"], sites["api"])
    assert await page.evaluate("tryFetch()") == "refused"
    assert await page.evaluate("tryWebSocket()") == "refused"
    allowed = await open_page(browser, sites["allowed"], sites["api"])
    assert await allowed.evaluate("tryFetch()") == "allowed"  # the control
    assert await allowed.evaluate("tryWebSocket()") == "allowed"
    await page.close()
    await allowed.close()


async def test_the_preflight_names_what_a_client_may_send(sites: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=sites["api"]) as http:
        preflight = await http.options(
            "/graphql",
            headers={
                "Origin": sites["allowed"],
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type,x-paht-tenant",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == sites["allowed"]
        allowed = preflight.headers["access-control-allow-headers"].lower()
        assert {"authorization", "content-type", "x-paht-tenant", "x-request-id"} <= {
            h.strip() for h in allowed.split(",")
        }
        refused = await http.options(
            "/graphql",
            headers={"Origin": sites["foreign"], "Access-Control-Request-Method": "POST"},
        )
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
