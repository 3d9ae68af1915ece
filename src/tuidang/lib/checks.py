"""Deployment checks of our own, run by `tuidang check --deploy`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def check_tls_is_known(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The server speaks plain HTTP to a proxy that terminates TLS; only the proxy's
    X-Forwarded-Proto tells it which requests came over TLS. Without that header,
    redirecting to HTTPS sends every request, webhooks included, back to itself forever."""
    if settings.SECURE_SSL_REDIRECT and settings.SECURE_PROXY_SSL_HEADER is None:
        return [
            Error(
                "SECURE_SSL_REDIRECT is on but no request can look secure: every request "
                "would be redirected to itself.",
                hint="Set BEHIND_TLS_PROXY=true, with a proxy that sends X-Forwarded-Proto.",
                id="tuidang.E001",
            )
        ]
    if settings.SERVED_OVER_TLS and settings.SECURE_PROXY_SSL_HEADER is None:
        return [
            Warning(
                "PUBLIC_BASE_URL is https:// but BEHIND_TLS_PROXY is not set, so plain HTTP "
                "is not redirected to HTTPS.",
                hint="Set BEHIND_TLS_PROXY=true, with a proxy that sends X-Forwarded-Proto.",
                id="tuidang.W001",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_phone_network_is_real(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The simulated network is the demo's and the tests' phone company: in production
    nobody could call the hotline, and the simulator's own pages would play the provider.
    No provider at all is as wrong: every call's offer to a volunteer would fail."""
    if settings.TELEPHONY_PROVIDER == "simulated":
        return [
            Error(
                "TELEPHONY_PROVIDER is 'simulated': the hotline answers a simulated phone "
                "network, not real callers.",
                hint="Set TELEPHONY_PROVIDER=twilio or telnyx (docs/configuration.md).",
                id="tuidang.E002",
            )
        ]
    if not settings.TELEPHONY_PROVIDER:
        return [
            Error(
                "TELEPHONY_PROVIDER is not set: no volunteer's phone could be rung.",
                hint="Set TELEPHONY_PROVIDER=twilio or telnyx (docs/configuration.md).",
                id="tuidang.E002",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_debug_is_off(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Django's security.W018 warns too, but can be silenced; a hotline that shows its
    settings and tracebacks to anyone who makes it fail is an error of ours."""
    if settings.DEBUG:
        return [
            Error(
                "DEBUG is on: error pages would show settings, queries and callers' data.",
                hint="Unset DEBUG (or set DEBUG=false).",
                id="tuidang.E003",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def check_secrets_are_set(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A secret generated into var/secrets/ lives beside the data it protects: whoever
    copies var/ (a disk, a careless backup) holds both. Names only, never a value."""
    generated: list[str] = list(getattr(settings, "GENERATED_SECRETS", []))
    if generated:
        return [
            Warning(
                f"These secrets were generated into {settings.SECRETS_DIR}, not set by the "
                f"operator: {', '.join(generated)}.",
                hint="Set each one (or NAME_FILE) in the environment, and GENERATE_SECRETS=false.",
                id="tuidang.W002",
            )
        ]
    return []


def _open_to_others(path: Path) -> bool:
    try:
        return bool(path.stat().st_mode & 0o077)
    except FileNotFoundError:
        return False


@register(Tags.security, deploy=True)
def check_private_files(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The SQLite database and its WAL hold live session keys, var/secrets/ the keys to
    everything: readable by another local user, either hands them the hotline."""
    paths: list[Path] = []
    for database in settings.DATABASES.values():
        if database["ENGINE"] == settings.SQLITE_ENGINE and database["NAME"] != ":memory:":
            name = Path(str(database["NAME"]))
            paths += [name, Path(f"{name}-wal"), Path(f"{name}-shm")]
    secrets_dir = Path(settings.SECRETS_DIR)
    paths.append(secrets_dir)
    if secrets_dir.is_dir():
        paths += sorted(secrets_dir.iterdir())
    open_paths = [str(path) for path in paths if _open_to_others(path)]
    if open_paths:
        return [
            Warning(
                f"Readable or writable by other local users: {', '.join(open_paths)}.",
                hint="chmod go= on each (0600 files, 0700 directories); tuidang itself "
                "creates them so.",
                id="tuidang.W003",
            )
        ]
    return []
