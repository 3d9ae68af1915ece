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
        "BEHIND_TLS_PROXY": "true",
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


def test_a_production_environment_passes_the_deployment_checklist(tmp_path: Path) -> None:
    result = deploy_check(production(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_behind_a_tls_proxy_without_a_public_url_passes_too(tmp_path: Path) -> None:
    environment = production(tmp_path, PUBLIC_BASE_URL="<unset>", BEHIND_TLS_PROXY="true")
    result = deploy_check(environment)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("overrides", "warning"),
    [
        (
            {"PUBLIC_BASE_URL": "http://hotline.example.org", "BEHIND_TLS_PROXY": "<unset>"},
            "security.W004",
        ),  # no TLS
        ({"DEBUG": "true"}, "security.W018"),
        ({"SECURE_HSTS_PRELOAD": "false"}, "security.W021"),
        ({"SECURE_COOKIES": "false"}, "security.W012"),
        # An https address with no proxy header: nothing can tell TLS from plain HTTP.
        ({"BEHIND_TLS_PROXY": "<unset>"}, "tuidang.W001"),
        ({"BEHIND_TLS_PROXY": "<unset>", "SECURE_SSL_REDIRECT": "true"}, "tuidang.E001"),
    ],
)
def test_an_environment_that_is_not_production_fails_it(
    tmp_path: Path, overrides: dict[str, str], warning: str
) -> None:
    result = deploy_check(production(tmp_path, **overrides))
    assert result.returncode != 0
    assert warning in result.stderr


def test_a_missing_secret_stops_the_start_with_its_name(tmp_path: Path) -> None:
    result = deploy_check(production(tmp_path, CALLER_KEY_PEPPER="<unset>"))
    assert result.returncode != 0
    assert "CALLER_KEY_PEPPER (or CALLER_KEY_PEPPER_FILE) must be set" in result.stderr


def answer(environment: dict[str, str], *headers: str) -> str:
    """The status of an unsigned webhook request made inside ``environment``."""
    code = (
        "from django.test import Client;"
        f"print(Client().post('/telephony/twilio/voice', HTTP_HOST='hotline.example.org',"
        f" {', '.join(headers)}).status_code)"
    )
    command = [sys.executable, "-m", "tuidang.manage", "shell", "-v", "0", "-c", code]
    result = subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_in_production_requests_over_tls_reach_the_hotline_and_plain_http_is_redirected(
    tmp_path: Path,
) -> None:
    environment = production(tmp_path)
    # The webhook checks the signature first: 403, not a redirect to itself.
    assert answer(environment, "HTTP_X_FORWARDED_PROTO='https'") == "403"
    assert answer(environment, "HTTP_X_FORWARDED_PROTO='http'") == "301"


def test_an_https_address_without_the_proxy_setting_never_redirects_to_itself(
    tmp_path: Path,
) -> None:
    environment = production(tmp_path, BEHIND_TLS_PROXY="<unset>")
    assert answer(environment, "HTTP_X_FORWARDED_PROTO='https'") == "403"
