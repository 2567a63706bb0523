"""ASGI factory for benchmarking with several uvicorn workers (`paht serve` has no --workers):

  DATABASE_URL=asyncpg://paht_app@/paht_bench?host=$PWD/.paht/bench/pgdata PAHT_JWT_SECRET=... \
    uvicorn bench.asgi:create --factory --workers 2 --port 8000 --no-access-log

The database must be migrated already (bench/embedded.py or `paht migrate`)."""

from __future__ import annotations

import os

from starlette.applications import Starlette

from api.app import create_app
from api.settings import get_settings


def create() -> Starlette:
    return create_app(get_settings(), os.environ["DATABASE_URL"])
