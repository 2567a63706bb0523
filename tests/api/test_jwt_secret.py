"""A signing secret shorter than 32 bytes is refused at start-up, with a message that says how
long it is and never what it is."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from accounts.tokens import TokenService
from api.app import create_app
from api.database import DatabaseUrls
from api.settings import MIN_JWT_SECRET_BYTES, Settings

ROOT = Path(__file__).resolve().parents[2]
SHORT = "sa-pa-secret"  # 12 bytes


@pytest.mark.parametrize(
    ("secret", "length"),
    [(SHORT, 12), ("x" * (MIN_JWT_SECRET_BYTES - 1), 31), ("đ" * 15, 30)],  # bytes, not chars
)
def test_short_secrets_are_refused(secret: str, length: int, tmp_path: Path) -> None:
    settings = Settings(jwt_secret=secret, data_dir=tmp_path)
    problem = settings.jwt_secret_problem()
    assert problem is not None
    assert f"PAHT_JWT_SECRET is {length} bytes long" in problem and secret not in problem
    with pytest.raises(ValueError, match="at least 32 random bytes"):
        TokenService(settings.token_config())
    with pytest.raises(ValueError, match="at least 32 random bytes"):
        create_app(settings, None)


@pytest.mark.parametrize("secret", ["x" * MIN_JWT_SECRET_BYTES, "đ" * 16])
def test_32_bytes_are_enough(secret: str, tmp_path: Path) -> None:
    settings = Settings(jwt_secret=secret, data_dir=tmp_path)
    assert settings.jwt_secret_problem() is None
    tokens = TokenService(settings.token_config())
    user, session = uuid.uuid4(), uuid.uuid4()
    token, _ = tokens.issue_access(user, None, session)
    identity = tokens.verify(token)
    assert (identity.user_id, identity.session_id) == (user, session)


def test_without_a_configured_secret_nothing_is_refused(tmp_path: Path) -> None:
    # Development: a random secret of 48 bytes is generated and kept in the data folder.
    settings = Settings(jwt_secret=None, data_dir=tmp_path)
    assert settings.jwt_secret_problem() is None
    assert len(settings.signing_secret().encode()) >= MIN_JWT_SECRET_BYTES


def test_paht_serve_refuses_a_short_secret(database: DatabaseUrls, tmp_path: Path) -> None:
    env = dict(
        os.environ,
        DATABASE_URL=database.app,
        DATABASE_OWNER_URL=database.owner,
        PAHT_DATA_DIR=str(tmp_path),
        PAHT_JWT_SECRET=SHORT,
    )
    result = subprocess.run(
        [sys.executable, "-m", "api.cli", "serve"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert "PAHT_JWT_SECRET is 12 bytes long; HS256 needs a secret of at least 32" in result.stderr
    assert "secrets.token_urlsafe(48)" in result.stderr  # how to make a good one
    assert SHORT not in result.stderr and SHORT not in result.stdout
    assert "Uvicorn running" not in result.stderr  # refused before serving anything
