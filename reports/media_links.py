"""Links to stored media that a client can put straight into ``<img src>``.

Every link is absolute (the deployment's public URL, or the request's own origin). A photo the
public feed shows is linked plainly, so browsers and proxies share one cached copy. Anything
else (the photos of a report not yet published, a result not yet approved, a sensitive field)
is linked with an expiry and an HMAC-SHA256 signature over the key and that expiry: only
someone the API showed the report to holds a working link, and only for a while. The media
route checks both (api/media_files.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime

from reports.storage import validate_key

MEDIA_PATH = "/media"


@dataclass(frozen=True)
class MediaLinks:
    secret: bytes
    ttl_seconds: int = 3600

    def signature(self, key: str, expires: int) -> str:
        mac = hmac.new(self.secret, f"{key}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()

    def expiry(self, now: datetime) -> int:
        """The end of the window after the current one: a link lives one to two TTLs, and the
        same link is handed out for a whole window (so it caches like any other image)."""
        return (int(now.timestamp()) // self.ttl_seconds + 2) * self.ttl_seconds

    def verify(self, key: str, expires: str, signature: str, now: datetime) -> int | None:
        """Seconds the link has left, or None when it is forged, altered or expired."""
        if not expires.isdigit() or len(expires) > 12:
            return None
        if not hmac.compare_digest(signature, self.signature(key, int(expires))):
            return None
        left = int(expires) - int(now.timestamp())
        return left if left > 0 else None

    def at(self, origin: str) -> MediaLinker:
        return MediaLinker(self, origin.rstrip("/") + MEDIA_PATH)


@dataclass(frozen=True)
class MediaLinker:
    """The links of one request: its origin (or the configured public URL) and the clock."""

    links: MediaLinks
    base: str

    def public(self, key: str) -> str:
        return f"{self.base}/{validate_key(key)}"

    def signed(self, key: str, now: datetime) -> str:
        expires = self.links.expiry(now)
        signature = self.links.signature(validate_key(key), expires)
        return f"{self.base}/{key}?expires={expires}&signature={signature}"
