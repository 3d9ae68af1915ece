"""The shared cache without Redis: diskcache's SQLite files under var/cache.

Django closes every cache when a request ends (``close_caches`` on ``request_finished``).
For diskcache that closes each shard's SQLite connection, which the next request opens
again and sets up anew (a read of its settings, then a pragma each): about a millisecond
of every webhook's request, more than the webhook's own queries. diskcache keeps a
connection per thread and per process (it opens a new one after a fork), so keeping them
for the next request is safe, as a Redis client keeps its pool: this backend does.
"""

from __future__ import annotations

from diskcache import DjangoCache  # type: ignore[import-untyped]


class FileCache(DjangoCache):
    def close(self, **kwargs: object) -> None:
        """Keep this thread's connections open for its next request (see above)."""
