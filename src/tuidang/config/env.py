"""Typed readers for the environment, in the manner of healthchecks' settings.

Each helper fails loudly on a value it cannot understand instead of guessing. Secrets
can also come from a file named by ``NAME_FILE`` (Docker and systemd credentials), and
the demo generates the ones it needs once into ``var/secrets/``.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
# The secrets this process read from a directory it generates them into, by name, so
# that `check --deploy` can tell which ones a production server must set itself.
_generated: set[str] = set()


def generated_secrets() -> list[str]:
    """The names of the secrets that came from (or were written into) ``generated_into``."""
    return sorted(_generated)


def private_files() -> None:
    """Create every file and directory of this process, and of those it starts, readable
    by its owner alone (0600 and 0700): the database and its WAL hold live session keys,
    var/ holds secrets, recordings and backups. Called once by each entry point."""
    os.umask(0o077)


_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of true/false/1/0/yes/no, not {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_secret(name: str, *, generated_into: Path | None = None, nbytes: int = 32) -> str:
    """Read a secret from ``NAME``, from the file named by ``NAME_FILE``, or generate it.

    A generated secret is written once (mode 0600) into ``generated_into`` so that it
    survives restarts; without that directory a missing secret is a configuration error.
    """
    if name in os.environ:
        value = os.environ[name]
        if not value:
            raise ImproperlyConfigured(f"{name} is set but empty")
        return value
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            value = Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc}") from exc
        if not value:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} is empty")
        return value
    if generated_into is None:
        raise ImproperlyConfigured(f"{name} (or {name}_FILE) must be set")
    path = generated_into / name.lower()
    _generated.add(name)
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    generated_into.mkdir(parents=True, exist_ok=True, mode=0o700)
    value = secrets.token_urlsafe(nbytes)
    # O_EXCL: two processes starting at once must not each write a different secret.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value)
    return value
