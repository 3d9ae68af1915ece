"""Read-only public pages from a read replica of PostgreSQL, when one is configured.

``DATABASE_REPLICA_URL`` adds the database alias ``replica`` and sets ``READ_REPLICA`` to
it. A view that only reads, and that may show what the primary held a moment ago (the
public total, the log's checkpoint, tiles and proofs, a receipt's check), is wrapped in
``replica_reads``; while it runs, ``ReplicaRouter`` sends every read to the replica.
Everything else reads and writes the primary, as do the middleware around those views
(sessions, logins): a volunteer never reads a stale desk, and no write goes to a replica.

A replica is consistent in itself: the checkpoint and the tiles a reader fetches from it
belong to one state of the log, at most the replication lag behind the primary's.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, ParamSpec, TypeVar

from django.conf import settings

_reading_replica: ContextVar[bool] = ContextVar("reading_replica", default=False)

P = ParamSpec("P")
R = TypeVar("R")


def replica_reads(view: Callable[P, R]) -> Callable[P, R]:
    """Run ``view`` with its reads sent to the replica (``READ_REPLICA``), if there is one."""

    @functools.wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        token = _reading_replica.set(True)
        try:
            return view(*args, **kwargs)
        finally:
            _reading_replica.reset(token)

    return wrapped


class ReplicaRouter:
    """Reads inside ``replica_reads`` go to ``READ_REPLICA``; everything else is left to
    the routers before it and to the default database."""

    def db_for_read(self, model: type, **hints: Any) -> str | None:
        replica: str = getattr(settings, "READ_REPLICA", "")
        if replica and _reading_replica.get():
            return replica
        return None

    def db_for_write(self, model: type, **hints: Any) -> str | None:
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        # A row read from the replica is the primary's row: they may be related.
        replica = getattr(settings, "READ_REPLICA", "")
        databases = {obj1._state.db, obj2._state.db}
        if replica and databases <= {"default", replica}:
            return True
        return None

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return None
