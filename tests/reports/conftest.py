"""Fixtures shared by the report tests."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.services import sapa_env


@pytest.fixture
async def sapa(pilot: dict[str, Any]) -> dict[str, Any]:
    """Sa Pa's demo users as scopes, and the rows the report tests act on."""
    return await sapa_env(pilot)
