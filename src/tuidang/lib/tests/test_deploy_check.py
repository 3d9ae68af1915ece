"""A production environment passes Django's deployment checklist with no warning at all.

`tuidang check --deploy --fail-level WARNING` runs in a process of its own with nothing
but the environment an operator sets (docs/configuration.md), as it would on a server.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from pathlib import Path

import pytest

SECRETS = [
    "SECRET_KEY",
    "CALLER_KEY_PEPPER",
    "FIELD_KEK",
    "BACKUP_KEY",
    "TLOG_SIGNING_KEY",
    "TWILIO_AUTH_TOKEN",
]


def production(var_dir: Path, **overrides: str) -> dict[str, str]:
    environment = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(var_dir),
        "VAR_DIR": str(var_dir),
        "DATABASE_URL": f"sqlite:///{var_dir / 'tuidang.sqlite3'}",
        "DEBUG": "false",
        "GENERATE_SECRETS": "false",
        "ALLOWED_HOSTS": "hotline.example.org",
        "PUBLIC_BASE_URL": "https://hotline.example.org",
        "TELEPHONY_PROVIDER": "twilio",
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
    }
    environment.update({name: secrets.token_urlsafe(48) for name in SECRETS})
    environment.update(overrides)
    return {name: value for name, value in environment.items() if value != "<unset>"}


def deploy_check(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "tuidang.manage", "check", "--deploy"]
    return subprocess.run(
        [*command, "--fail-level", "WARNING"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_production_environment_passes_the_deployment_checklist(tmp_path):
    result = deploy_check(production(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_behind_a_tls_proxy_without_a_public_url_passes_too(tmp_path):
    environment = production(tmp_path, PUBLIC_BASE_URL="<unset>", BEHIND_TLS_PROXY="true")
    result = deploy_check(environment)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("overrides", "warning"),
    [
        ({"PUBLIC_BASE_URL": "http://hotline.example.org"}, "security.W004"),  # no TLS
        ({"DEBUG": "true"}, "security.W018"),
        ({"SECURE_HSTS_PRELOAD": "false"}, "security.W021"),
        ({"SECURE_COOKIES": "false"}, "security.W012"),
    ],
)
def test_an_environment_that_is_not_production_fails_it(tmp_path, overrides, warning):
    result = deploy_check(production(tmp_path, **overrides))
    assert result.returncode != 0
    assert warning in result.stderr


def test_a_missing_secret_stops_the_start_with_its_name(tmp_path):
    result = deploy_check(production(tmp_path, CALLER_KEY_PEPPER="<unset>"))
    assert result.returncode != 0
    assert "CALLER_KEY_PEPPER (or CALLER_KEY_PEPPER_FILE) must be set" in result.stderr
