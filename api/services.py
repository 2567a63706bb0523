"""Process-wide services handed to every request through the context."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.tokens import TokenService
from api.settings import Settings
from reports.media import MediaLimits
from reports.storage import LocalStorage, Storage


@dataclass(frozen=True)
class Services:
    settings: Settings
    tokens: TokenService
    storage: Storage
    media_limits: MediaLimits

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        return cls(
            settings=settings,
            tokens=TokenService(settings.token_config()),
            storage=LocalStorage(settings.media_dir(), base_url="/media"),
            media_limits=MediaLimits(
                max_image_bytes=settings.max_image_bytes,
                max_video_bytes=settings.max_video_bytes,
                max_video_seconds=settings.max_video_seconds,
            ),
        )
