"""Process-wide services handed to every request through the context."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.tokens import TokenService
from api.settings import Settings


@dataclass(frozen=True)
class Services:
    settings: Settings
    tokens: TokenService

    @classmethod
    def from_settings(cls, settings: Settings) -> Services:
        return cls(settings=settings, tokens=TokenService(settings))
