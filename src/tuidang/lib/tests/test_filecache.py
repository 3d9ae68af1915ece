"""The cache without Redis keeps its connections from one request to the next."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from diskcache import DjangoCache  # type: ignore[import-untyped]
from django.core.cache import cache, caches
from django.test import Client
from pytest_django.fixtures import Settings

from tuidang.lib.filecache import FileCache


def test_the_hotline_uses_it_without_redis(settings: Settings) -> None:
    assert settings.REDIS_URL or isinstance(caches["default"], FileCache)


@pytest.mark.django_db
def test_a_request_ending_does_not_close_the_cache_for_the_next(
    client: Client, monkeypatch: pytest.MonkeyPatch, settings: Settings, tmp_path: Path
) -> None:
    # The cache without Redis, wherever this suite runs (CI runs it with Redis too).
    folder = str(tmp_path / "cache")
    settings.CACHES = {
        "default": {"BACKEND": "tuidang.lib.filecache.FileCache", "LOCATION": folder}
    }
    opened: list[str] = []
    connect = sqlite3.connect

    def counted(database: str, *args: object, **kwargs: object) -> sqlite3.Connection:
        if str(database).startswith(folder):
            opened.append(str(database))
        made: sqlite3.Connection = connect(database, *args, **kwargs)  # type: ignore[call-overload]
        return made

    monkeypatch.setattr(sqlite3, "connect", counted)
    cache.set("first", 0)  # every shard's file opened by this thread
    for shard in range(8):
        cache.set(f"shard-{shard}", shard)
    opened.clear()
    for n in range(20):
        cache.set(f"key-{n}", n)
        assert client.get("/healthz").status_code == 200  # Django closes caches after it
        assert cache.get(f"key-{n}") == n
    assert opened == []  # no file opened again after a request
    # (and the count does see a file opened: diskcache's own close, then a read)
    DjangoCache.close(caches["default"])
    cache.get("first")
    assert opened
