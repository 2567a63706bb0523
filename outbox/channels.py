"""The channels behind one small interface: ``await channel.send(message, tenant) -> Delivery``.

E-mail goes through SMTP (aiosmtplib); SMS and Zalo ZNS through the tenant's HTTP gateways;
webhooks are signed POSTs (outbox/signing.py). A channel never raises for a failed delivery: it
answers what happened, and the runner decides about retries. Errors are recorded without the
recipient (personal data stays out of logs and of the admin's list)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import TYPE_CHECKING, Any, Protocol

from core.net import is_public_url, outbound_client
from outbox.models import ChannelSettings, OutboxMessage, WebhookEndpoint
from outbox.signing import signed_headers
from outbox.vocabulary import Channel

if TYPE_CHECKING:  # imported when first used: every CLI start (api.settings) stays quick
    import httpx


@dataclass(frozen=True)
class Delivery:
    ok: bool
    status_code: int | None = None
    duration_ms: int = 0
    error: str | None = None
    retry: bool = True  # False: trying again cannot help (no gateway configured, endpoint off)


@dataclass(frozen=True)
class TenantChannels:
    """What a delivery needs to know of the tenant: its channel settings and, for a webhook,
    the endpoint."""

    settings: ChannelSettings | None
    endpoint: WebhookEndpoint | None = None


class Sender(Protocol):
    async def send(self, message: OutboxMessage, tenant: TenantChannels) -> Delivery: ...


def _redact(text: str, message: OutboxMessage) -> str:
    text = text[:500]
    if message.recipient:
        text = text.replace(message.recipient, "***")
    return text


def _elapsed(start: float) -> int:
    return round((time.perf_counter() - start) * 1000)


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "127.0.0.1"
    port: int = 1025
    username: str | None = None
    password: str | None = None
    use_tls: bool = False
    start_tls: bool | None = None  # None: when the server offers it
    sender: str = "PAHT <no-reply@paht.local>"
    timeout_seconds: float = 30


class EmailSender:
    def __init__(self, config: SmtpConfig) -> None:
        self.config = config

    def build(self, message: OutboxMessage, tenant: TenantChannels) -> EmailMessage:
        settings = tenant.settings
        mail = EmailMessage()
        mail["From"] = (settings.email_from if settings else None) or self.config.sender
        mail["To"] = message.recipient or ""
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(message.created_at.timestamp(), usegmt=True)
        # The idempotency id: every attempt carries the same one, so a mailbox or a relay can
        # drop a repeat.
        mail["Message-ID"] = f"<{message.id}@paht>"
        mail.set_content(message.body)
        mail["Content-Language"] = message.language  # after set_content, which resets Content-*
        return mail

    async def send(self, message: OutboxMessage, tenant: TenantChannels) -> Delivery:
        if tenant.settings is not None and not tenant.settings.email_enabled:
            return Delivery(False, error="e-mail is switched off for this tenant", retry=False)
        import aiosmtplib

        c = self.config
        start = time.perf_counter()
        try:
            await aiosmtplib.send(
                self.build(message, tenant),
                hostname=c.host, port=c.port, username=c.username, password=c.password,
                use_tls=c.use_tls, start_tls=c.start_tls, timeout=c.timeout_seconds,
            )  # fmt: skip
        except aiosmtplib.SMTPRecipientsRefused as exc:
            return Delivery(False, None, _elapsed(start), _redact(str(exc), message), retry=False)
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            error = _redact(f"{type(exc).__name__}: {exc}", message)
            return Delivery(False, None, _elapsed(start), error)
        return Delivery(True, 250, _elapsed(start))


async def _post(
    client: httpx.AsyncClient,
    message: OutboxMessage,
    url: str,
    body: bytes,
    headers: dict[str, str],
    allow_private: bool,
) -> tuple[Delivery, httpx.Response | None]:
    import httpx

    if not allow_private and not await is_public_url(url):
        # Checked at every delivery, since a name may resolve elsewhere tomorrow.
        return Delivery(False, error="refused: the address is not public", retry=False), None
    start = time.perf_counter()
    try:
        response = await client.post(
            url, content=body, headers={"content-type": "application/json", **headers}
        )
    except httpx.HTTPError as exc:
        return Delivery(False, None, _elapsed(start), _redact(f"{type(exc).__name__}: {exc}",
                                                               message)), None  # fmt: skip
    took = _elapsed(start)
    if response.is_success:
        return Delivery(True, response.status_code, took), response
    error = _redact(f"HTTP {response.status_code}: {response.text[:200]}", message)
    return Delivery(False, response.status_code, took, error), response


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


class WebhookSender:
    def __init__(self, client: httpx.AsyncClient, allow_private: bool = False) -> None:
        self.client = client
        self.allow_private = allow_private

    async def send(self, message: OutboxMessage, tenant: TenantChannels) -> Delivery:
        endpoint = tenant.endpoint
        if endpoint is None or not endpoint.active:
            return Delivery(False, error="endpoint disabled", retry=False)
        body = _json_bytes(message.payload)
        timestamp = int(time.time())
        headers = signed_headers(endpoint.secret, str(message.id), timestamp, body)
        delivery, _ = await _post(
            self.client, message, endpoint.url, body, headers, self.allow_private
        )
        return delivery


class SmsSender:
    """A generic SMS gateway: ``POST {to, text, sender, id}`` with a bearer token."""

    def __init__(self, client: httpx.AsyncClient, allow_private: bool = False) -> None:
        self.client = client
        self.allow_private = allow_private

    async def send(self, message: OutboxMessage, tenant: TenantChannels) -> Delivery:
        s = tenant.settings
        if s is None or not s.sms_url:
            return Delivery(False, error="no SMS gateway configured", retry=False)
        body = _json_bytes(
            {"id": str(message.id), "to": message.recipient, "text": message.subject,
             "sender": s.sms_sender}
        )  # fmt: skip
        headers = {"Idempotency-Key": str(message.id)}
        if s.sms_token:
            headers["Authorization"] = f"Bearer {s.sms_token}"
        delivery, _ = await _post(
            self.client, message, s.sms_url, body, headers, self.allow_private
        )
        return delivery


def zalo_phone(phone: str) -> str:
    """ZNS wants the international form without "+": 0912… → 84912…"""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return "84" + digits[1:] if digits.startswith("0") else digits


class ZaloSender:
    """Zalo Notification Service: ``POST {phone, template_id, template_data, tracking_id}`` with
    the ``access_token`` header; ZNS answers 200 with ``error`` 0 on success."""

    def __init__(self, client: httpx.AsyncClient, allow_private: bool = False) -> None:
        self.client = client
        self.allow_private = allow_private

    async def send(self, message: OutboxMessage, tenant: TenantChannels) -> Delivery:
        s = tenant.settings
        template_id = ((s.zalo_templates or {}) if s else {}).get(message.event_type)
        if s is None or not s.zalo_url or not template_id:
            return Delivery(False, error="no Zalo template configured", retry=False)
        payload = message.payload or {}
        body = _json_bytes(
            {"phone": zalo_phone(message.recipient or ""), "template_id": template_id,
             "template_data": payload.get("template_data", {}), "tracking_id": str(message.id)}
        )  # fmt: skip
        delivery, response = await _post(
            self.client,
            message,
            s.zalo_url,
            body,
            {"access_token": s.zalo_token or ""},
            self.allow_private,
        )
        if delivery.ok and response is not None:
            try:
                code = response.json().get("error", 0)
            except ValueError:
                code = -1
            if code != 0:
                error = _redact(f"ZNS error {code}: {response.text[:200]}", message)
                return Delivery(False, delivery.status_code, delivery.duration_ms, error)
        return delivery


@dataclass
class Senders:
    """One sender per channel, built once per process from the settings (api/services)."""

    email: Sender
    sms: Sender
    zalo: Sender
    webhook: Sender

    def of(self, channel: Channel) -> Sender:
        return {
            Channel.EMAIL: self.email,
            Channel.SMS: self.sms,
            Channel.ZALO: self.zalo,
            Channel.WEBHOOK: self.webhook,
        }[channel]

    @classmethod
    def build(
        cls, smtp: SmtpConfig, http_timeout_seconds: float = 10, *, allow_private: bool = False
    ) -> Senders:
        """``allow_private``: let tenant-configured URLs reach private or loopback addresses."""
        client = outbound_client(http_timeout_seconds, allow_private=allow_private)
        return cls(
            EmailSender(smtp),
            SmsSender(client, allow_private),
            ZaloSender(client, allow_private),
            WebhookSender(client, allow_private),
        )
