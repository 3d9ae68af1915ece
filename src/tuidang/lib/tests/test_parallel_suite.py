"""The suite runs in a process per core (`make test`, pytest-xdist): each keeps its own
files and its own Redis database, which it empties before every test."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from tuidang.config.settings import SQLITE_ENGINE
from tuidang.config.test_settings import _worker_redis_url


def test_each_worker_has_a_redis_database_of_its_own() -> None:
    assert _worker_redis_url("redis://127.0.0.1:6379/15", 0) == "redis://127.0.0.1:6379/15"
    assert _worker_redis_url("redis://127.0.0.1:6379/15", 1) == "redis://127.0.0.1:6379/14"


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379", "redis://127.0.0.1:6379/1"])
def test_a_redis_url_without_a_database_for_every_worker_is_refused(url: str) -> None:
    with pytest.raises(ValueError, match="database number of 2 or more"):
        _worker_redis_url(url, 2)


def test_each_worker_keeps_its_files_in_a_folder_of_its_own() -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    var_dir = Path(settings.VAR_DIR)
    workers_folders = [part for part in var_dir.parts if re.fullmatch(r"gw\d+", part)]
    if worker is None:  # a run of one process (`TEST_WORKERS=0`, or pytest by hand)
        assert workers_folders == []
        return
    assert workers_folders == [var_dir.name] == [worker]
    database: Any = settings.DATABASES["default"]
    if database["ENGINE"] == SQLITE_ENGINE:
        assert Path(database["TEST"]["NAME"]).parent == var_dir
