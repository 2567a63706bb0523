"""ASGI factory for benchmarking with uvicorn's own workers, which share one socket (compare
`paht serve --workers 2`, one socket each; bench/README.md):

  DATABASE_URL=asyncpg://paht_app@/paht_bench?host=$PWD/.paht/bench/pgdata PAHT_JWT_SECRET=... \
    uvicorn bench.asgi:create --factory --workers 2 --port 8000 --no-access-log

The database must be migrated already (bench/embedded.py or `paht migrate`). The background
job pass (auto-close, auto-reject, reminders, statistics) is off unless PAHT_JOBS_INTERVAL_SECONDS
is set: at the first start it would rewrite the seeded data while it is being measured."""

from __future__ import annotations

import os

from starlette.applications import Starlette

from api.app import create_app
from api.settings import get_settings


def create() -> Starlette:
    settings = get_settings()
    if "PAHT_JOBS_INTERVAL_SECONDS" not in os.environ:
        settings = settings.model_copy(update={"jobs_interval_seconds": 0})
    return create_app(settings, os.environ["DATABASE_URL"])
