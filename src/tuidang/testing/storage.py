"""Storage choices for tests: the recordings and uploads on one node's own disk."""

from __future__ import annotations

from pathlib import Path

from pytest_django.fixtures import Settings


def keep_files_under(settings: Settings, var_dir: Path) -> None:
    """``STORAGE_BACKEND=files`` under ``var_dir``: recordings in ``var_dir/recordings``,
    uploads in ``var_dir/media``, as a hotline on one machine keeps them."""
    settings.VAR_DIR = var_dir
    settings.MEDIA_ROOT = var_dir / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "tuidang.lib.storage.PrivateFileStorage",
            "OPTIONS": {"location": str(var_dir / "media")},
        },
        "recordings": {
            "BACKEND": "tuidang.lib.storage.PrivateFileStorage",
            "OPTIONS": {"location": str(var_dir / "recordings"), "overwrite": True},
        },
    }
