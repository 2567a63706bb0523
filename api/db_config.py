"""Tortoise configuration for the `tortoise` CLI (makemigrations, sqlmigrate, history).

It reads ``DATABASE_OWNER_URL`` (migrations run as the owner); without it, the embedded
development database under the data folder is started."""

from __future__ import annotations

import os

from api.database import start_embedded, tortoise_config
from api.settings import get_settings


def _owner_url() -> str:
    if url := os.environ.get("DATABASE_OWNER_URL"):
        return url
    _, urls = start_embedded(get_settings().data_dir)
    return urls.owner


TORTOISE_ORM = tortoise_config(_owner_url(), pool_max=2)
