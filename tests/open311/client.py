"""An Open311 GeoReport v2 client written only from the specification (no PAHT code): what an
existing civic app does. Plain httpx; parses the XML with the standard library."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

import httpx


class GeoReportClient:
    def __init__(self, base_url: str, jurisdiction_id: str, api_key: str | None = None) -> None:
        self.base = base_url.rstrip("/")
        self.jurisdiction_id = jurisdiction_id
        self.api_key = api_key

    def _params(self, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"jurisdiction_id": self.jurisdiction_id, **(extra or {})}

    async def get(self, path: str, fmt: str = "json", **params: Any) -> httpx.Response:
        async with httpx.AsyncClient() as http:
            return await http.get(f"{self.base}/{path}.{fmt}", params=self._params(params))

    async def services(self) -> list[dict[str, Any]]:
        response = await self.get("services")
        response.raise_for_status()
        return response.json()

    async def service_definition(self, code: str) -> dict[str, Any]:
        response = await self.get(f"services/{code}")
        response.raise_for_status()
        return response.json()

    async def create(self, service_code: str, **fields: Any) -> httpx.Response:
        form: dict[str, Any] = {"service_code": service_code, "api_key": self.api_key}
        form.update(self._params())
        for key, value in fields.items():
            if key == "attributes":
                for code, answer in value.items():
                    if isinstance(answer, list):
                        form[f"attribute[{code}][]"] = answer
                    else:
                        form[f"attribute[{code}]"] = answer
            else:
                form[key] = value
        async with httpx.AsyncClient() as http:
            return await http.post(f"{self.base}/requests.json", data=form)

    async def request(self, service_request_id: str, fmt: str = "json") -> httpx.Response:
        return await self.get(f"requests/{service_request_id}", fmt)

    async def requests(self, **filters: Any) -> httpx.Response:
        return await self.get("requests", **filters)


def xml_requests(body: bytes) -> list[dict[str, str]]:
    """``<service_requests><request>…</request></service_requests>`` as flat dicts."""
    root = ET.fromstring(body)
    assert root.tag == "service_requests"
    return [{child.tag: child.text or "" for child in item} for item in root.findall("request")]


def xml_errors(body: bytes) -> list[dict[str, str]]:
    root = ET.fromstring(body)
    assert root.tag == "errors"
    return [{child.tag: child.text or "" for child in item} for item in root.findall("error")]
