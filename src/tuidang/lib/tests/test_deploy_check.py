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
    "WEB_ADDRESS_PEPPER",
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
        # The demo's phone network: no real caller could reach the hotline.
        ({"TELEPHONY_PROVIDER": "simulated"}, "tuidang.E002"),
        # No provider chosen: never the simulated network by default, and no phone rings.
        ({"TELEPHONY_PROVIDER": "<unset>"}, "tuidang.E002"),
        # Silencing Django's own warning does not let DEBUG through.
        ({"DEBUG": "true"}, "tuidang.E003"),
        # A secret the operator forgot, generated into var/secrets/ beside the data.
        ({"GENERATE_SECRETS": "true", "BACKUP_KEY": "<unset>"}, "tuidang.W002"),
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


def test_a_generated_secret_is_named_and_never_shown(tmp_path: Path) -> None:
    environment = production(tmp_path, GENERATE_SECRETS="true", TLOG_SIGNING_KEY="<unset>")
    result = deploy_check(environment)
    assert result.returncode != 0
    assert "tuidang.W002" in result.stderr
    assert "TLOG_SIGNING_KEY" in result.stderr
    generated = (tmp_path / "secrets" / "tlog_signing_key").read_text(encoding="utf-8")
    assert generated.strip() not in result.stderr + result.stdout


@pytest.mark.parametrize(
    "name", ["tuidang.sqlite3", "tuidang.sqlite3-wal", "secrets", "secrets/secret_key"]
)
def test_a_database_or_secrets_others_can_read_fail_it(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    if name.startswith("secrets"):
        (tmp_path / "secrets").mkdir(mode=0o700)
    if name == "secrets":
        path.chmod(0o755)
    else:
        path.write_bytes(b"")
        path.chmod(0o644)
    result = deploy_check(production(tmp_path))
    assert result.returncode != 0
    assert "tuidang.W003" in result.stderr
    assert str(path) in result.stderr


def test_private_files_pass_it(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir(mode=0o700)
    for name in ["tuidang.sqlite3", "tuidang.sqlite3-wal", "secrets/secret_key"]:
        (tmp_path / name).write_bytes(b"")
        (tmp_path / name).chmod(0o600)
    result = deploy_check(production(tmp_path))
    assert result.returncode == 0, result.stderr


def serves(environment: dict[str, str], path: str) -> bool:
    """Whether the hotline started in ``environment`` has a page at ``path``."""
    code = (
        "from django.urls import Resolver404, resolve\n"
        f"try: resolve({path!r}); print('served')\n"
        "except Resolver404: print('not served')"
    )
    command = [sys.executable, "-m", "tuidang.manage", "shell", "-v", "0", "-c", code]
    result = subprocess.run(
        command, env=environment, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip() == "served"


@pytest.mark.parametrize(
    ("provider", "served"), [("<unset>", False), ("twilio", False), ("simulated", True)]
)
def test_the_simulated_network_is_served_only_when_chosen(
    tmp_path: Path, provider: str, served: bool
) -> None:
    environment = production(tmp_path, TELEPHONY_PROVIDER=provider)
    assert serves(environment, "/sim/") is served
    assert serves(environment, "/telephony/twilio/voice")
