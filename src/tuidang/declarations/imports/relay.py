"""An import in batches, written in the file's order: in one process, or in two taking
turns on a machine of two cores.

Running the same import again skips the rows already imported (each row has a key).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import os
import signal
import sys
from collections.abc import Callable
from typing import BinaryIO

from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteDatabase

from tuidang.declarations.imports.batches import BATCH, _Batch, _bulk_writing, _import_batch
from tuidang.declarations.imports.rows import Row


def import_declarations(
    rows: list[Row],
    *,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = BATCH,
) -> tuple[int, int]:
    """(imported, skipped as already there)."""
    return _import(rows, progress=progress, batch_size=batch_size)


def _import(
    rows: list[Row], *, progress: Callable[[int, int], None] | None, batch_size: int
) -> tuple[int, int]:
    batches = [rows[start : start + batch_size] for start in range(0, len(rows), batch_size)]
    done = [0]

    def report(imported: int, skipped: int) -> None:
        done[0] += imported + skipped
        if progress is not None:
            progress(done[0], len(rows))

    if _can_relay(len(batches)):
        return _relayed(batches, report)
    imported = skipped = 0
    with _bulk_writing():
        for batch in batches:
            fresh, old = _import_batch(_Batch(batch))
            imported += fresh
            skipped += old
            report(fresh, old)
    return imported, skipped


# --- Two processes taking turns -----------------------------------------------------------
#
# A batch is prepared (keys looked up, aliases sealed, entries written and hashed, counts
# gathered) and then written (log appended, rows inserted, rollups added, committed). Only
# the writing waits for the database's one writer; on a machine of two cores the import
# forks a second process, and the two take batches in turns: each prepares its next batch
# while the other writes. Batches are still written in order, one transaction each, and
# after the one before has committed: the turn passes only after a commit. If either
# process fails or dies, the other writes nothing more.


def _can_relay(batches: int) -> bool:
    # The cores this process may run on, which a container or an affinity mask can limit.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    if batches < 2 or not hasattr(os, "fork") or (cores or 1) < 2:
        return False
    # Inside a transaction the batches are not ours to commit; an in-memory SQLite
    # database is not shared with another process.
    if connection.in_atomic_block:
        return False
    database = connections[DEFAULT_DB_ALIAS]
    return not (isinstance(database, SQLiteDatabase) and database.is_in_memory_db())


def _relayed(batches: list[list[Row]], report: Callable[[int, int], None]) -> tuple[int, int]:
    # Neither process may use a connection the other opened: both open their own.
    connections.close_all()
    to_child, from_parent = _pipe()
    to_parent, from_child = _pipe()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:  # the second process: the odd batches
        status = 1
        try:
            _die_with(parent)
            gc.freeze()  # the objects it inherits stay shared with the first, uncopied
            to_child.close()
            from_child.close()
            _take_turns(batches, 1, inbox=from_parent, outbox=to_parent, parent=parent)
            status = 0
        except _Stopped:
            pass
        except BaseException as exc:
            with contextlib.suppress(OSError):
                to_parent.write(
                    f"fail {type(exc).__name__}: {exc}".replace("\n", " ").encode() + b"\n"
                )
        finally:
            with contextlib.suppress(Exception):
                connections.close_all()
            os._exit(status)
    from_parent.close()
    to_parent.close()
    try:
        return _take_turns(batches, 0, inbox=from_child, outbox=to_child, report=report)
    except _Stopped:
        raise ImportFailed("the second process of the import stopped") from None
    finally:
        to_child.close()  # a second process waiting for its turn stops here
        from_child.close()
        os.waitpid(pid, 0)


class _Stopped(Exception):
    """The other process stopped: this one writes nothing more."""


_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def _die_with(parent: int) -> None:
    """The second process dies with the first. Killed (SIGKILL, the OOM killer), the first
    cannot tell it to stop, and a batch it went on to write would race whatever the
    operator runs next. On Linux the kernel kills it, in the middle of a transaction if
    need be, which then rolls back; elsewhere it looks before each batch (_turns)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the first died before that took effect
        raise _Stopped


def _take_turns(
    batches: list[list[Row]],
    parity: int,
    *,
    inbox: BinaryIO,
    outbox: BinaryIO,
    report: Callable[[int, int], None] | None = None,
    parent: int | None = None,
) -> tuple[int, int]:
    """Write every other batch, from ``parity``: before each, wait for the other process
    to say it committed the batch before; after each, say so. The first process also
    hears what the second imported, and reports progress for both; the second (whose
    ``parent`` is the first) writes nothing once the first is gone."""
    with _bulk_writing():
        return _turns(batches, parity, inbox=inbox, outbox=outbox, report=report, parent=parent)


def _turns(
    batches: list[list[Row]],
    parity: int,
    *,
    inbox: BinaryIO,
    outbox: BinaryIO,
    report: Callable[[int, int], None] | None,
    parent: int | None,
) -> tuple[int, int]:
    imported = skipped = 0

    def heard() -> None:
        nonlocal imported, skipped
        message = inbox.readline().decode()
        if message.startswith("fail "):
            raise ImportFailed(message[5:].strip())
        if not message.startswith("done "):
            raise _Stopped
        fresh, old = map(int, message.split()[1:])
        imported += fresh
        skipped += old
        if report is not None:
            report(fresh, old)

    for number in range(parity, len(batches), 2):
        prepared = _Batch(batches[number])
        if number:
            heard()
        if parent is not None and os.getppid() != parent:
            raise _Stopped  # the first process was killed after its last word
        fresh, old = _import_batch(prepared)
        imported += fresh
        skipped += old
        if report is not None:
            report(fresh, old)
        if number + 1 == len(batches) and parity == 0:
            break  # the last batch: the second process has stopped waiting
        try:
            outbox.write(b"done %d %d\n" % (fresh, old))
        except BrokenPipeError:
            heard()  # why the other stopped, if it said
            raise _Stopped from None
    if parity == 0 and len(batches) % 2 == 0:
        heard()  # the second process wrote the last batch
    return imported, skipped


class ImportFailed(Exception):
    """The second process of an import failed; batches before it are committed."""


def _pipe() -> tuple[BinaryIO, BinaryIO]:
    read, write = os.pipe()
    return os.fdopen(write, "wb", buffering=0), os.fdopen(read, "rb")
