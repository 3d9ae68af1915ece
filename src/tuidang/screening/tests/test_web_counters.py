"""The declaration form's rate counts in the database (screening/web.py), where Redis is
not configured: one statement a post, and nothing kept past the windows that matter."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext

from tuidang.screening.models import WebHit
from tuidang.screening.web import HOUR, MINUTE, TableCounter


@pytest.mark.django_db
def test_each_post_adds_one_to_its_window_in_one_statement() -> None:
    counter = TableCounter()
    with CaptureQueriesContext(connection) as queries:
        assert counter.add("k", 600, MINUTE) == 1
    first = len(queries)
    with CaptureQueriesContext(connection) as queries:
        assert counter.add("k", 600, MINUTE) == 2
        assert counter.add("k", 600, MINUTE) == 3
    # A window's first post also forgets the windows past an hour; the others, one upsert.
    assert first <= 2
    assert len(queries) == 2
    assert counter.add("other", 600, MINUTE) == 1
    assert counter.add("k", 660, MINUTE) == 1
    assert counter.get("k", 600) == 3
    assert counter.get("k", 660) == 1
    assert counter.get("k", 720) == 0


@pytest.mark.django_db
def test_a_new_window_forgets_those_past_an_hour() -> None:
    counter = TableCounter()
    counter.add("k", 0, HOUR)
    counter.add("k", HOUR, HOUR)
    assert counter.add("k", HOUR, HOUR) == 2  # not a new window: nothing deleted
    assert set(WebHit.objects.values_list("window", flat=True)) == {0, HOUR}
    counter.add("k", 2 * HOUR, MINUTE)
    assert set(WebHit.objects.values_list("window", flat=True)) == {HOUR, 2 * HOUR}


@pytest.mark.django_db(transaction=True)
def test_posts_counted_at_the_same_moment_are_each_counted() -> None:
    counter = TableCounter()

    def add(_: int) -> int:
        try:
            return counter.add("*", 1200, MINUTE)
        finally:
            close_old_connections()

    with ThreadPoolExecutor(max_workers=4) as pool:
        counts = sorted(pool.map(add, range(40)))
    assert counts == list(range(1, 41))
    assert counter.get("*", 1200) == 40
