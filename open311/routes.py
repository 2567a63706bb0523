"""The Open311 GeoReport v2 HTTP endpoint, mounted by the API at ``/open311/v2``.

``<resource>.json`` or ``<resource>.xml``; ``jurisdiction_id`` is the tenant's code, resolved
before any query, and every read or write then runs in one transaction scoped to that tenant
(``permissions.session.scoped_transaction`` with an anonymous Scope), as GraphQL's do."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.errors import DomainError
from core.tenancy import tenant_by_code
from open311 import reads, services, submit
from open311.formats import CONTENT_TYPES, Format, Open311Error, bad_request, not_found, render
from open311.mapping import Status
from permissions.scope import Scope, anonymous_in
from permissions.session import scoped_transaction
from reports.media_links import MediaLinks

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-02T00:00:00+07:00"  # the last change of this endpoint's behaviour
BASE_PATH = "/open311/v2"
MAX_FORM_BYTES = 256 * 1024  # a POST form: 4,000 characters of description and a few answers
CONTACT = ("Quản trị viên của đơn vị triển khai", "The administrators of each tenant")
KEY_SERVICE = (
    "Quản trị viên đơn vị triển khai cấp khóa cho từng ứng dụng kết nối (`registerOpen311Client`).",
    "Each tenant's administrators issue one api key per client application "
    "(GraphQL registerOpen311Client).",
)

Form = Mapping[str, Sequence[str]]


def _split(name: str) -> tuple[str, Format]:
    base, dot, suffix = name.rpartition(".")
    if not dot or suffix not in Format._value2member_map_:
        raise not_found("Use the .json or .xml suffix.")
    return base, Format(suffix)


def _multi(items: Sequence[tuple[str, Any]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for key, value in items:
        if isinstance(value, str):
            found[key].append(value)
    return dict(found)


def _date(form: Form, name: str, lang: str) -> datetime | None:
    text = submit._one(form, name)
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise bad_request(
            f"{name} must be a W3C date-time with a timezone." if lang == "en"
            else f"Ngày `{name}` phải theo chuẩn W3C, có múi giờ."
        )  # fmt: skip
    return moment


def _listed(form: Form, name: str) -> tuple[str, ...]:
    text = submit._one(form, name) or ""
    return tuple(v.strip() for v in text.split(",") if v.strip())


def _number(form: Form, name: str, default: int, top: int, lang: str) -> int:
    text = submit._one(form, name)
    if text is None:
        return default
    if not text.isdigit() or not 1 <= int(text) <= top:
        raise bad_request(f"{name} must be a whole number from 1 to {top}." if lang == "en"
                          else f"Tham số `{name}` phải là số nguyên từ 1 đến {top}.")  # fmt: skip
    return int(text)


def request_query(form: Form, lang: str) -> reads.RequestQuery:
    statuses = []
    for value in _listed(form, "status"):
        if value not in Status._value2member_map_:
            raise bad_request("status must be open, closed or both." if lang == "en"
                              else "Trạng thái `status` chỉ nhận `open`, `closed`.")  # fmt: skip
        statuses.append(Status(value))
    return reads.RequestQuery(
        ids=_listed(form, "service_request_id"),
        service_codes=_listed(form, "service_code"),
        start=_date(form, "start_date", lang),
        end=_date(form, "end_date", lang),
        statuses=tuple(statuses),
        page=_number(form, "page", 1, 1_000_000, lang),
        page_size=_number(form, "page_size", reads.MAX_ROWS, reads.MAX_ROWS, lang),
    )


async def _form(request: Request, lang: str) -> Form:
    try:
        return _multi((await request.form()).multi_items())
    except HTTPException as error:  # a malformed body
        text = ("The form is malformed." if lang == "en"
                else "Biểu mẫu sai định dạng.")  # fmt: skip
        raise Open311Error(400, [(error.status_code, text)]) from None


@dataclass(frozen=True)
class Open311:
    media: submit.MediaPolicy
    media_links: MediaLinks
    public_url: str | None
    language: Callable[[str | None], str]  # the API's reading of Accept-Language

    def routes(self) -> list[Route]:
        return [
            Route("/discovery.{fmt}", self.discovery),
            Route("/services.{fmt}", self.services),
            Route("/services/{name}", self.service_definition),
            Route(
                "/requests.{fmt}",
                self.requests,
                methods=["GET", "POST"],
                max_body_size=MAX_FORM_BYTES,
            ),
            Route("/requests/{name}", self.request),
            Route("/tokens/{name}", self.token),
        ]

    def origin(self, request: Request) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"{request.url.scheme}://{request.url.netloc}"

    async def _answer(self, request: Request, fmt_text: str,
                      work: Callable[[Format, str], Any]) -> Response:  # fmt: skip
        lang = self.language(request.headers.get("accept-language"))
        fmt = Format.JSON
        try:
            _, fmt = _split("x." + fmt_text)
            return await work(fmt, lang)
        except Open311Error as error:
            return error.response(fmt)
        except DomainError as error:  # a typed refusal from below (never expected here)
            return submit.refused(error, lang).response(fmt)

    async def _scope(self, form: Form, lang: str) -> Scope:
        code = submit._one(form, "jurisdiction_id")
        if code is None:
            raise bad_request("jurisdiction_id was not provided." if lang == "en"
                              else "Thiếu mã đơn vị triển khai `jurisdiction_id`.")  # fmt: skip
        tenant = await tenant_by_code(code)
        if tenant is None or not tenant.active:
            raise not_found("jurisdiction_id was not found." if lang == "en"
                            else "Không tìm thấy đơn vị triển khai `jurisdiction_id`.")  # fmt: skip
        return anonymous_in(tenant.id)

    # --- endpoints ---------------------------------------------------------------------------
    async def discovery(self, request: Request) -> Response:
        async def work(fmt: Format, lang: str) -> Response:
            return render(fmt, "discovery", {
                "changeset": CHANGESET,
                "contact": CONTACT[1] if lang == "en" else CONTACT[0],
                "key_service": KEY_SERVICE[1] if lang == "en" else KEY_SERVICE[0],
                "endpoints": [{
                    "specification": SPECIFICATION,
                    "url": self.origin(request) + BASE_PATH,
                    "changeset": CHANGESET,
                    "type": "production",
                    "formats": list(CONTENT_TYPES),
                }],
            })  # fmt: skip

        return await self._answer(request, request.path_params["fmt"], work)

    async def services(self, request: Request) -> Response:
        form = _multi(request.query_params.multi_items())

        async def work(fmt: Format, lang: str) -> Response:
            scope = await self._scope(form, lang)
            async with scoped_transaction(scope):
                fields = await services.active_fields(scope)
            return render(fmt, "services", [services.service(f, lang) for f in fields])

        return await self._answer(request, request.path_params["fmt"], work)

    async def service_definition(self, request: Request) -> Response:
        form = _multi(request.query_params.multi_items())
        code, _, suffix = request.path_params["name"].rpartition(".")

        async def work(fmt: Format, lang: str) -> Response:
            scope = await self._scope(form, lang)
            async with scoped_transaction(scope):
                field = await services.service_field(scope, code, lang)
            return render(fmt, "service_definition", services.definition(field, lang))

        return await self._answer(request, suffix, work)

    async def requests(self, request: Request) -> Response:
        query = _multi(request.query_params.multi_items())
        form: Form = {}

        async def work(fmt: Format, lang: str) -> Response:
            nonlocal form
            if request.method == "POST":
                form = await _form(request, lang)
            merged = {**query, **form}
            scope = await self._scope(merged, lang)
            if request.method == "POST":
                created = await submit.create_request(scope, form, self.media, lang)
                return render(fmt, "service_requests", created)
            wanted = request_query(merged, lang)
            media = self.media_links.at(self.origin(request))
            async with scoped_transaction(scope):
                found = await reads.find_requests(scope, wanted, media, lang)
            return render(fmt, "service_requests", found)

        return await self._answer(request, request.path_params["fmt"], work)

    async def request(self, request: Request) -> Response:
        form = _multi(request.query_params.multi_items())
        code, _, suffix = request.path_params["name"].rpartition(".")

        async def work(fmt: Format, lang: str) -> Response:
            scope = await self._scope(form, lang)
            media = self.media_links.at(self.origin(request))
            async with scoped_transaction(scope):
                found = await reads.find_request(scope, code, media, lang)
            if not found:
                found = await reads.find_moved_request(scope, code, media, lang)
            if not found:
                raise not_found("service_request_id was not found." if lang == "en"
                                else "Không tìm thấy phản ánh này.")  # fmt: skip
            return render(fmt, "service_requests", found)

        return await self._answer(request, suffix, work)

    async def token(self, request: Request) -> Response:
        """Every service is ``realtime``: no token is ever issued, so none is found."""
        form = _multi(request.query_params.multi_items())
        _, _, suffix = request.path_params["name"].rpartition(".")

        async def work(fmt: Format, lang: str) -> Response:
            await self._scope(form, lang)
            raise not_found("token was not found." if lang == "en"
                            else "Không tìm thấy mã `token` này.")  # fmt: skip

        return await self._answer(request, suffix, work)
