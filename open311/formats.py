"""The two Open311 encodings of one answer: JSON (lists are top-level arrays) and schemaless XML
without a namespace (GeoReport v2 "Spark convention": the JSON is a mechanical mapping of the
XML), and the spec's error list ``[{code, description}]`` with HTTP 400, 403 or 404."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any
from xml.etree import ElementTree as ET

from starlette.responses import Response


class Format(StrEnum):
    JSON = "json"
    XML = "xml"

    @property
    def content_type(self) -> str:
        return (
            "application/json; charset=utf-8" if self is Format.JSON else "text/xml; charset=utf-8"
        )


CONTENT_TYPES = ("text/xml", "application/json")  # as discovery declares them

# The XML element of each item of a list, by the list's name (the JSON keeps only the list).
ITEM = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _append(parent: ET.Element, name: str, value: Any) -> None:
    if value is None:
        return
    element = ET.SubElement(parent, name)
    if isinstance(value, Mapping):
        for key, item in value.items():
            _append(element, key, item)
    elif isinstance(value, list | tuple):
        for item in value:
            _append(element, ITEM[name], item)
    else:
        element.text = _text(value)


def to_xml(root: str, value: Any) -> bytes:
    element = ET.Element(root)
    if isinstance(value, list | tuple):
        for item in value:
            _append(element, ITEM[root], item)
    else:
        for key, item in value.items():
            _append(element, key, item)
    body = ET.tostring(element, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def _drop_none(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_drop_none(v) for v in value]
    return value


def render(fmt: Format, root: str, value: Any, status: int = 200,
           headers: Mapping[str, str] | None = None) -> Response:  # fmt: skip
    """``root`` names the XML document element (``services``, ``service_requests``, …)."""
    if fmt is Format.JSON:
        body = json.dumps(_drop_none(value), ensure_ascii=False, separators=(",", ":")).encode()
    else:
        body = to_xml(root, value)
    return Response(body, status_code=status, media_type=fmt.content_type, headers=headers)


class Open311Error(Exception):
    """An answer in the spec's error shape: HTTP 404 (no such resource), 403 (missing or wrong
    api_key) or 400 (anything else); each error has a ``code`` and a ``description``."""

    def __init__(self, status: int, errors: Sequence[tuple[int | str, str]],
                 headers: Mapping[str, str] | None = None) -> None:  # fmt: skip
        super().__init__(errors[0][1] if errors else str(status))
        self.status = status
        self.errors = list(errors)
        self.headers = dict(headers or {})

    def response(self, fmt: Format) -> Response:
        items = [{"code": code, "description": text} for code, text in self.errors]
        return render(fmt, "errors", items, self.status, self.headers)


def not_found(description: str) -> Open311Error:
    return Open311Error(404, [(404, description)])


def bad_request(description: str) -> Open311Error:
    return Open311Error(400, [(400, description)])
