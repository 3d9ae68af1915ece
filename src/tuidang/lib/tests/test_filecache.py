"""The cache without Redis keeps its connections from one request to the next."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from diskcache import DjangoCache  # type: ignore[import-untyped]
from django.conf import settings
from django.core.cache import cache, caches
from django.test import Client

from tuidang.lib.filecache import FileCache


def test_the_hotline_uses_it_without_redis() -> None:
    assert settings.REDIS_URL or isinstance(caches["default"], FileCache)


@pytest.mark.django_db
def test_a_request_ending_does_not_close_the_cache_for_the_next(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = str(Path(settings.CACHES["default"]["LOCATION"]))
    opened: list[str] = []
    connect = sqlite3.connect

    def counted(database: str, *args: object, **kwargs: object) -> sqlite3.Connection:
        if str(database).startswith(folder):
            opened.append(str(database))
        made: sqlite3.Connection = connect(database, *args, **kwargs)  # type: ignore[call-overload]
        return made

    monkeypatch.setattr(sqlite3, "connect", counted)
    # diskcache's own close: from here each file is opened anew.
    DjangoCache.close(caches["default"])
    for n in range(20):
        cache.set(f"key-{n}", n)
        assert client.get("/healthz").status_code == 200  # Django closes caches after it
        assert cache.get(f"key-{n}") == n
    # Each of its files opened once by this thread, not once a request.
    assert opened and len(opened) == len(set(opened))
