"""Django's SQLite backend, with write transactions queued instead of retried.

Every transaction begins with BEGIN IMMEDIATE, so writers never fail half-way on a lock
upgrade. Waiting for SQLite's write lock, though, means SQLite's busy handler, which
sleeps in steps of up to 100 ms: under load a few unlucky requests wait far longer than
the write they wait for. So writers queue first on a lock of their own — a thread lock
within the process, then an advisory lock on a file beside the database across
processes — and are woken the moment the writer before them commits. The kernel drops
the file lock of a process that dies, so a crash never leaves the database locked.

A write outside any transaction (an ``update()`` or a ``create()`` in autocommit) is a
transaction of its own to SQLite, and queues on the same lock: otherwise it would take
SQLite's lock behind the queue's back, and whoever it met would sleep in the busy handler.

SQLite copies its log into the database (a checkpoint) in the commit that takes the log
past 1,000 pages: two fsyncs, 10 to 15 ms, inside that writer's turn, with every other
writer queued behind it. Here connections do no such checkpoint; a thread of each
process does it beside the writers, at SQLite's pace (`_Checkpointer`).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base, operations

logger = logging.getLogger(__name__)


class _WriteLock:
    """One per database file and process: a thread lock, then a lock on a file.

    A thread of the same process is woken the moment the lock is free; one of another
    process asks the file again and again (`poll_seconds`). A webhook's write holds the
    lock a fraction of a millisecond, so it asks every tenth of one: asking every half
    millisecond left the lock free most of the time a writer slept, and under a
    saturating load the hang-up's requests waited 0.6 ms for it at the median
    (docs/benchmarks.md, the year). A wait past `fast_for_seconds` is a long turn (a
    checkpoint's, an import's batch): it asks every millisecond, as the processor's
    time matters more there than a fraction of a millisecond."""

    poll_seconds = 0.0001
    fast_for_seconds = 0.01
    slow_poll_seconds = 0.001

    def __init__(self, database: str) -> None:
        self.thread_lock = threading.Lock()
        self.path = f"{database}.write-lock"
        self.fd: int | None = None

    def acquire(self, timeout: float) -> None:
        started = time.monotonic()
        deadline = started + timeout
        if not self.thread_lock.acquire(timeout=timeout):
            raise OperationalError("database is locked (waited for another thread's write)")
        try:
            if self.fd is None:
                self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            while True:
                try:
                    fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    return
                except BlockingIOError:
                    now = time.monotonic()
                    if now > deadline:
                        raise OperationalError(
                            "database is locked (waited for another process's write)"
                        ) from None
                    fast = now - started < self.fast_for_seconds
                    time.sleep(self.poll_seconds if fast else self.slow_poll_seconds)
        except BaseException:
            self.thread_lock.release()
            raise

    def release(self) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        self.thread_lock.release()


class _Checkpointer:
    """One per database file and process: a thread that copies the log into the database
    while the writers go on, at SQLite's own pace.

    SQLite checkpoints about every 1,000 pages of log; here, after every
    ``checkpoint_after_writes`` writes of this process, or ``at_most_seconds`` after
    fewer. Not more often: each time the log is all copied, the next writer starts it
    over, and syncs its header in its turn. Such a checkpoint (SQLite's ``PASSIVE``)
    waits for nobody and stops nobody. But a writer starts the log over only when no
    reader is still reading it, which under steady traffic there always is: the log
    would grow as long as the traffic lasts. Past ``restart_frames`` pages the thread
    takes a writers' turn and checkpoints with ``RESTART``, which waits for those
    readers, so that the next writer starts the log over: under a bench's saturating
    load, every eight seconds or so. SQLite syncs the database after a checkpoint only
    when it copied the whole log, which under steady writes it never does (writers add to
    the log while it copies): the pages copied would all be synced in that turn, 100 to
    230 ms with a year behind them (pages all over a large file), every writer waiting.
    So the thread syncs the database after each copy, beside the writers, and the turn
    syncs the few pages copied since: 1 to 10 ms. The log starts over before it reaches
    ``journal_size_limit``, the length SQLite cuts a longer log back to: cutting frees
    the log's blocks in the next writer's turn, 130 ms for a log of 400 MB with every
    writer waiting. The thread ends after ``idle_seconds`` without a write.
    A process at a lower CPU priority runs none (`_checkpoints_here`).

    The thread's connection is open only while it copies, under ``copying``, which a
    fork of the process waits for (`_hold_checkpoints_for_fork`): SQLite keeps the locks
    its connections hold in the process's memory, and a child forked while this
    connection held the write lock would find it held for ever, every write of its own
    failing with "database is locked" (an import's second process, declarations/imports)."""

    # A webhook's write is a few pages: about SQLite's 1,000 pages of log.
    checkpoint_after_writes = 200
    at_most_seconds = 2.0
    # About 400 MB of log, at SQLite's default page of 4 KiB: below _LOG_SIZE_LIMIT.
    # Every 25,000 pages made the turns four times as many and each half as long, which
    # with a year behind it cost more (docs/benchmarks.md, the year).
    restart_frames = 100_000
    # A reader of the log holds it a millisecond: RESTART asks again every fifth of one
    # (SQLite's busy handler would sleep 1, 2, 5, 10 ms, all in the writers' turn), and
    # past this gives the turn back and tries after the next writes.
    restart_wait_seconds = 0.005
    idle_seconds = 60.0

    def __init__(self, database: str, lock: _WriteLock) -> None:
        self.database = database
        self.lock = lock
        self.enough = threading.Event()
        self.guard = threading.Lock()
        self.writes = 0
        self.thread: threading.Thread | None = None
        self.copying = threading.Lock()
        self.descriptor: int | None = None  # of the database, to sync it (_sync_database)

    def after_write(self) -> None:
        with self.guard:
            self.writes += 1
            if self.writes >= self.checkpoint_after_writes:
                self.enough.set()
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self._run, name="sqlite-checkpoint", daemon=True
                )
                self.thread.start()

    def _run(self) -> None:
        last_write = time.monotonic()
        while True:
            self.enough.wait(timeout=self.at_most_seconds)
            with self.guard:
                self.enough.clear()
                writes, self.writes = self.writes, 0
                if not writes and time.monotonic() - last_write > self.idle_seconds:
                    self.thread = None
                    return
            if writes:
                last_write = time.monotonic()
                with self.copying:
                    connection = sqlite3.connect(self.database, timeout=0, isolation_level=None)
                    try:
                        self.checkpoint(connection)
                    finally:
                        connection.close()

    def checkpoint(self, connection: sqlite3.Connection) -> None:
        try:
            _busy, log, copied = connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if copied:
                self._sync_database()
            if log >= self.restart_frames:
                self._restart(connection)
        except (sqlite3.Error, OperationalError, OSError) as error:
            # The next write asks again; a log that is not copied costs disk, not data.
            if getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY:
                # Another process's checkpoint, or a writer that keeps the file to itself:
                # routine where two processes write (an import's, the web server's).
                logger.debug("The checkpoint of %s waits for another's", self.database)
            else:
                logger.warning("The checkpoint of %s failed", self.database, exc_info=True)

    def _sync_database(self) -> None:
        """Write the pages a checkpoint copied to disk, outside any writer's turn.

        Through a descriptor of the file kept open for the process's life, never closed:
        a process's POSIX locks on a file all go with the first descriptor of it that it
        closes, SQLite's own with them. Another process's connection would then take
        itself for the file's last, and delete the log from under this one's. A file
        replaced at the same path (a test's database made again) gets a new descriptor;
        the old one is left open, for the same reason."""
        if self.descriptor is None or not os.path.samestat(
            os.fstat(self.descriptor), os.stat(self.database)
        ):
            self.descriptor = os.open(self.database, os.O_RDONLY)
        os.fdatasync(self.descriptor)

    def _restart(self, connection: sqlite3.Connection) -> None:
        self.lock.acquire(timeout=20)
        try:
            deadline = time.monotonic() + self.restart_wait_seconds
            while connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()[0]:
                if time.monotonic() > deadline:
                    return
                time.sleep(0.0002)
        finally:
            self.lock.release()


# What a log grown longer than the checkpointing thread lets it (a reader that held it
# for minutes) is cut back to when it starts over (bytes).
_LOG_SIZE_LIMIT = 512 * 1024 * 1024

_LOCKS: dict[str, _WriteLock] = {}
_CHECKPOINTERS: dict[str, _Checkpointer] = {}
_LOCKS_GUARD = threading.Lock()
# The checkpointing threads held still for a fork (see _Checkpointer), in the parent.
_HELD_FOR_FORK: list[_Checkpointer] = []


def _forget_locks_after_fork() -> None:
    """A forked process inherits the parent's open lock files, and a lock taken through
    one of them would be the parent's own lock, excluding nothing: the child opens its
    own, so the two queue like any two processes. Closing the inherited copies releases
    nothing the parent holds. Nor has the child the parent's checkpointing threads; their
    descriptors of the database stay open in it, as in the parent (`_sync_database`)."""
    global _LOCKS_GUARD
    for lock in _LOCKS.values():
        if lock.fd is not None:
            with contextlib.suppress(OSError):
                os.close(lock.fd)
    _LOCKS.clear()
    _CHECKPOINTERS.clear()
    _HELD_FOR_FORK.clear()
    _LOCKS_GUARD = threading.Lock()


# A checkpoint waits at most 20 s for its turn at the writers' queue, then copies.
_FORK_WAIT_SECONDS = 60.0


def _hold_checkpoints_for_fork() -> None:
    """Let no checkpointing thread have its connection open while the process forks."""
    for checkpointer in list(_CHECKPOINTERS.values()):
        if checkpointer.copying.acquire(timeout=_FORK_WAIT_SECONDS):
            _HELD_FOR_FORK.append(checkpointer)
        else:
            logger.warning("Forked while the checkpoint of %s went on", checkpointer.database)


def _release_checkpoints_after_fork() -> None:
    while _HELD_FOR_FORK:
        _HELD_FOR_FORK.pop().copying.release()


os.register_at_fork(
    before=_hold_checkpoints_for_fork,
    after_in_parent=_release_checkpoints_after_fork,
    after_in_child=_forget_locks_after_fork,
)


def _lock_for(database: str) -> _WriteLock:
    with _LOCKS_GUARD:
        if database not in _LOCKS:
            _LOCKS[database] = _WriteLock(database)
        return _LOCKS[database]


def _checkpoints_here() -> bool:
    """Whether this process copies the log: not at a lower CPU priority (the pool for
    people), where a checkpoint's writers' turn would be held at a tenth of a core's
    share. The telephony pool and the worker, which writes every second, do it."""
    return os.getpriority(os.PRIO_PROCESS, 0) <= 0


def _checkpointer_for(database: str) -> _Checkpointer:
    lock = _lock_for(database)
    with _LOCKS_GUARD:
        if database not in _CHECKPOINTERS:
            _CHECKPOINTERS[database] = _Checkpointer(database, lock)
        return _CHECKPOINTERS[database]


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(
        self,
        style: Any,
        tables: Any,
        *,
        reset_sequences: bool = False,
        allow_cascade: bool = False,
    ) -> list[str]:
        """Emptying the whole database (`flush`, and the test runner after a transactional
        test) also empties append-only tables, such as the audit log, whose triggers refuse
        every DELETE: their triggers are dropped for the flush and created again after it,
        in the flush's one transaction. PostgreSQL truncates without firing row triggers."""
        statements: list[str] = super().sql_flush(
            style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
        )
        if not tables:
            return statements
        flushed = set(tables)
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'")
            triggers = [(name, sql) for name, table, sql in cursor.fetchall() if table in flushed]
        drop = [f"DROP TRIGGER {self.quote_name(name)};" for name, _sql in triggers]
        create = [f"{sql};" for _name, sql in triggers]
        return drop + statements + create


# Statements that write; Django sends them as they are, without a leading WITH.
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
# How Django's SQLite compiler asks a write for its rows back.
_RETURNING = " RETURNING "


class _CursorWrapper(base.SQLiteCursorWrapper):
    """Queues a write that runs outside a transaction on the database's write lock.

    Such a write commits when SQLite finishes the statement. An ``INSERT … RETURNING``
    (``create()``, lib/prepared.py) is finished only by reading its rows, so they are read
    here, in the write's turn, and handed out from memory: read after the turn, the
    commit (and any checkpoint with it) happened behind the queue's back, holding
    SQLite's lock while the next writer in the queue slept in the busy handler."""

    database: DatabaseWrapper
    _returned: list[Any] | None = None

    def execute(self, query: str, params: Any = None) -> Any:
        self._returned = None
        with self.database.write_queued_if_alone(query) as queued:
            result = super().execute(query, params)
            if queued and _RETURNING in query:
                self._returned = super().fetchall()
            return result

    def fetchone(self) -> Any:
        if self._returned is None:
            return super().fetchone()
        return self._returned.pop(0) if self._returned else None

    def fetchmany(self, size: int | None = None) -> list[Any]:
        if self._returned is None:
            return super().fetchmany(self.arraysize if size is None else size)
        count = self.arraysize if size is None else size
        rows = self._returned[:count]
        del self._returned[:count]
        return rows

    def fetchall(self) -> list[Any]:
        if self._returned is None:
            return super().fetchall()
        rows, self._returned = self._returned, []
        return rows

    def executemany(self, query: str, param_list: Any) -> Any:
        with self.database.write_queued_if_alone(query):
            return super().executemany(query, param_list)


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._holds_write_lock = False

    def get_new_connection(self, conn_params: Any) -> Any:
        connection = super().get_new_connection(conn_params)
        if not self.is_in_memory_db():
            # Checkpoints are the checkpointing thread's (_Checkpointer), not a writer's.
            connection.execute("PRAGMA wal_autocheckpoint = 0")
            connection.execute(f"PRAGMA journal_size_limit = {_LOG_SIZE_LIMIT}")
        return connection

    def create_cursor(self, name: str | None = None) -> _CursorWrapper:
        cursor = self.connection.cursor(factory=_CursorWrapper)
        cursor.database = self
        return cursor  # type: ignore[no-any-return]

    def _write_lock(self) -> _WriteLock | None:
        if self.is_in_memory_db():
            return None
        return _lock_for(str(self.settings_dict["NAME"]))

    def _lock_timeout(self) -> float:
        return float(self.settings_dict.get("OPTIONS", {}).get("timeout", 20))

    @contextmanager
    def write_queued_if_alone(self, query: str) -> Iterator[bool]:
        """Hold the write lock around ``query`` when it writes outside a transaction
        (and say whether it does)."""
        writes_alone = self.autocommit and not self._holds_write_lock
        lock = None
        if writes_alone and query.lstrip()[:7].upper().startswith(_WRITES):
            lock = self._write_lock()
        if lock is None:
            yield False
            return
        lock.acquire(timeout=self._lock_timeout())
        try:
            yield True
        finally:
            lock.release()
        self._after_write()

    def _after_write(self) -> None:
        if not self.is_in_memory_db() and _checkpoints_here():
            _checkpointer_for(str(self.settings_dict["NAME"])).after_write()

    def _start_transaction_under_autocommit(self) -> None:
        lock = self._write_lock()
        if lock is not None:
            lock.acquire(timeout=self._lock_timeout())
            self._holds_write_lock = True
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._release_write_lock()
            raise

    def _release_write_lock(self) -> None:
        if self._holds_write_lock:
            self._holds_write_lock = False
            lock = self._write_lock()
            if lock is not None:
                lock.release()

    def _commit(self) -> None:
        wrote = self._holds_write_lock
        try:
            super()._commit()  # type: ignore[misc]
        finally:
            self._release_write_lock()
        if wrote:
            self._after_write()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]
        finally:
            self._release_write_lock()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]
        finally:
            self._release_write_lock()
