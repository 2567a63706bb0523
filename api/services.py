"""Process-wide services handed to every request through the context."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.tokens import TokenService
from api.settings import Settings
from outbox.channels import Senders
from outbox.runner import Outbox
from reports.media import MediaLimits
from reports.media_links import MediaLinks
from reports.storage import LocalStorage, Storage


def make_storage(settings: Settings) -> Storage:
    """The backend ``PAHT_STORAGE`` names; every one is served by the API under /media."""
    if settings.storage == "s3":
        from reports.storage_s3 import S3Storage

        secret = settings.s3_secret_access_key
        return S3Storage(
            bucket=settings.s3_bucket,
            endpoint_url=settings.s3_endpoint_url,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=secret.get_secret_value() if secret else None,
            path_style=settings.s3_path_style,
            prefix=settings.s3_prefix,
        )
    return LocalStorage(settings.media_dir())


@dataclass(frozen=True)
class Services:
    settings: Settings
    tokens: TokenService
    storage: Storage
    media_limits: MediaLimits
    media_links: MediaLinks
    outbox: Outbox

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        return cls(
            settings=settings,
            tokens=TokenService(settings.token_config()),
            storage=make_storage(settings),
            media_limits=MediaLimits(
                max_image_bytes=settings.max_image_bytes,
                max_video_bytes=settings.max_video_bytes,
                max_video_seconds=settings.max_video_seconds,
            ),
            media_links=MediaLinks(settings.media_link_secret(), settings.media_link_ttl_seconds),
            outbox=Outbox(
                Senders.build(
                    settings.smtp_config(),
                    settings.outbox_http_timeout_seconds,
                    allow_private=settings.outbox_private_hosts,
                ),
                settings.retry_policy(),
            ),
        )
