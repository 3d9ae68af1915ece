"""Writers from several processes queue on the write lock instead of failing or sleeping."""

import contextlib
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from django.db import OperationalError
from django.db.utils import ConnectionHandler

from tuidang.lib.sqlite.base import _Checkpointer, _WriteLock

WRITERS = 4
WRITES_EACH = 50


def _write(database: str, writer: int) -> None:
    lock = _WriteLock(database)
    # A busy timeout of a millisecond: without the lock, writers would fail on each other.
    connection = sqlite3.connect(database, timeout=0.001, isolation_level=None)
    for index in range(WRITES_EACH):
        lock.acquire(timeout=20)
        try:
            connection.execute("BEGIN IMMEDIATE")
            (count,) = connection.execute("SELECT COUNT(*) FROM t").fetchone()
            connection.execute("INSERT INTO t VALUES (?, ?, ?)", (writer, index, count))
            time.sleep(0.002)  # a write that takes a moment
            connection.execute("COMMIT")
        finally:
            lock.release()


def test_writers_in_several_processes_all_get_through(tmp_path: Path) -> None:
    database = str(tmp_path / "writers.sqlite3")
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("CREATE TABLE t (writer INTEGER, n INTEGER, seen INTEGER)")
    processes = [
        multiprocessing.get_context("fork").Process(target=_write, args=(database, writer))
        for writer in range(WRITERS)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [process.exitcode for process in processes] == [0] * WRITERS
    with sqlite3.connect(database) as connection:
        seen = [row[0] for row in connection.execute("SELECT seen FROM t ORDER BY rowid")]
    # Each writer saw every write before its own: they really took turns.
    assert seen == list(range(WRITERS * WRITES_EACH))


def _database_of_our_backend(path: Path, columns: str) -> tuple[str, ConnectionHandler]:
    """A database in WAL mode with a table ``t`` of ``columns``, and connections to it
    through the hotline's SQLite backend (not the test database)."""
    database = str(path)
    # Closed here, not whenever the collector gets to it: the last connection to close
    # copies the log into the file, which would then grow under a test's eyes.
    with contextlib.closing(sqlite3.connect(database, isolation_level=None)) as connection:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(f"CREATE TABLE t ({columns})")
    handler = ConnectionHandler({"default": {"ENGINE": "tuidang.lib.sqlite", "NAME": database}})
    return database, handler


def test_a_write_outside_a_transaction_waits_its_turn_in_the_queue(
    tmp_path: Path, django_db_blocker: Any
) -> None:
    database, handler = _database_of_our_backend(tmp_path / "alone.sqlite3", "n INTEGER")
    writer_before = _WriteLock(database)  # another process's writer, as far as the file knows
    writer_before.acquire(timeout=5)
    written_at: list[float] = []

    def write_alone() -> None:
        connection = handler["default"]
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO t VALUES (1)")  # autocommit: a transaction of its own
        written_at.append(time.monotonic())
        connection.close()

    # Its own database, not the test database: the blocker guards only the latter.
    with django_db_blocker.unblock():
        writer = threading.Thread(target=write_alone)
        writer.start()
        time.sleep(0.3)
        released_at = time.monotonic()
        writer_before.release()
        writer.join(timeout=10)
    assert len(written_at) == 1
    assert written_at[0] >= released_at


def test_a_writer_of_another_process_asks_often_at_first_then_every_millisecond(
    tmp_path: Path, monkeypatch: Any
) -> None:
    # The lock a webhook's write takes is free again within a fraction of a millisecond:
    # a waiter that slept half of one left it free most of that time. A long turn (a
    # checkpoint's, an import's batch) is waited for at a millisecond's pace.
    database = str(tmp_path / "poll.sqlite3")
    other = _WriteLock(database)  # another process's writer, as far as the file knows
    other.acquire(timeout=1)
    asked: list[float] = []
    started = time.monotonic()
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        asked.append(seconds)
        if time.monotonic() - started > 0.03:
            other.release()  # a turn of 30 ms
        real_sleep(seconds)

    monkeypatch.setattr(time, "sleep", sleep)
    writer = _WriteLock(database)
    writer.acquire(timeout=5)
    monkeypatch.undo()
    writer.release()
    assert asked[0] == _WriteLock.poll_seconds == 0.0001
    assert asked[-1] == _WriteLock.slow_poll_seconds == 0.001
    assert asked == sorted(asked)  # fast first, for at most fast_for_seconds
    assert asked.count(0.0001) <= _WriteLock.fast_for_seconds / 0.0001
    assert asked.count(0.001) <= 0.03 / 0.001 + 1


def test_an_insert_returning_its_id_has_committed_when_its_turn_ends(
    tmp_path: Path, django_db_blocker: Any
) -> None:
    # create() and the new call's prepared INSERT ask for the new row's id back: SQLite
    # commits such a write only once its rows are read, which must be in the write's turn.
    database, handler = _database_of_our_backend(
        tmp_path / "returning.sqlite3", "id INTEGER PRIMARY KEY, n INTEGER"
    )
    # The next writer in the queue, which would otherwise sleep in SQLite's busy handler.
    next_writer = sqlite3.connect(database, timeout=0, isolation_level=None)
    with django_db_blocker.unblock():
        connection = handler["default"]
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO t (n) VALUES (%s) RETURNING id", [7])
            # The turn is over: the next writer gets SQLite's lock at once.
            next_writer.execute("BEGIN IMMEDIATE")
            next_writer.execute("ROLLBACK")
            assert cursor.fetchone() == (1,)
            assert cursor.fetchone() is None
            cursor.execute("INSERT INTO t (n) VALUES (%s), (%s) RETURNING id", [8, 9])
            assert cursor.fetchmany(1) == [(2,)]
            assert cursor.fetchall() == [(3,)]
            cursor.execute("SELECT n FROM t ORDER BY id")  # reads are not held back
            assert cursor.fetchall() == [(7,), (8,), (9,)]
        connection.close()
    next_writer.close()


def _try_the_lock(database: str, go: Any, result: Any) -> None:
    from tuidang.lib.sqlite.base import _lock_for

    go.wait(timeout=10)
    try:
        _lock_for(database).acquire(timeout=0.2)
    except OperationalError:
        result.put("waited")
    else:
        result.put("acquired")


def test_a_forked_process_queues_behind_the_parents_write(tmp_path: Path) -> None:
    # An import forks a second process after its first writes: the child inherits the
    # parent's open lock file, on which a lock would be the parent's own.
    from tuidang.lib.sqlite.base import _lock_for

    database = str(tmp_path / "forked.sqlite3")
    lock = _lock_for(database)
    lock.acquire(timeout=1)
    lock.release()
    context = multiprocessing.get_context("fork")
    go, result = context.Event(), context.Queue()
    child = context.Process(target=_try_the_lock, args=(database, go, result))
    child.start()
    lock.acquire(timeout=1)  # the parent writes
    try:
        go.set()
        assert result.get(timeout=10) == "waited"
    finally:
        lock.release()
        child.join(timeout=30)
    go, result = context.Event(), context.Queue()
    child = context.Process(target=_try_the_lock, args=(database, go, result))
    child.start()
    go.set()
    assert result.get(timeout=10) == "acquired"
    child.join(timeout=30)


def _write_once(database: str, result: Any) -> None:
    handler = ConnectionHandler(
        {"default": {"ENGINE": "tuidang.lib.sqlite", "NAME": database, "OPTIONS": {"timeout": 3}}}
    )
    try:
        _insert_pages(handler, 1)
    except OperationalError as error:
        result.put(str(error))
    else:
        result.put("wrote")
    handler["default"].close()


def test_a_process_forked_during_a_checkpoint_can_write(
    tmp_path: Path, django_db_blocker: Any, monkeypatch: Any
) -> None:
    # SQLite keeps its connections' locks in the process's memory: a child forked while
    # the checkpointing thread's connection held the write lock (a RESTART, up to 150 ms
    # with a year behind it) found it held for ever, and an import's second process
    # failed with "database is locked" (bench/year_bench.py, building the year).
    copying = threading.Event()

    def long_restart(self: _Checkpointer, connection: sqlite3.Connection) -> None:
        connection.execute("BEGIN IMMEDIATE")  # SQLite's write lock, as RESTART takes it
        copying.set()
        time.sleep(0.5)
        connection.execute("ROLLBACK")

    monkeypatch.setattr(_Checkpointer, "checkpoint_after_writes", 1)
    monkeypatch.setattr(_Checkpointer, "checkpoint", long_restart)
    database, handler = _database_of_our_backend(tmp_path / "fork.sqlite3", "n INTEGER, s TEXT")
    context = multiprocessing.get_context("fork")
    result = context.Queue()
    with django_db_blocker.unblock():
        _insert_pages(handler, 1)
        assert copying.wait(timeout=10)
        child = context.Process(target=_write_once, args=(database, result))
        child.start()
        assert result.get(timeout=30) == "wrote"
        child.join(timeout=30)
        handler["default"].close()


def _insert_pages(handler: ConnectionHandler, rows: int) -> None:
    """A write outside a transaction of about ``rows`` / 2 pages, through our backend."""
    with handler["default"].cursor() as cursor:
        cursor.execute(
            "INSERT INTO t (n, s) WITH RECURSIVE c(x) AS "
            f"(SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < {rows}) "
            "SELECT x, hex(randomblob(1000)) FROM c"
        )


def test_a_write_leaves_the_checkpoint_to_the_checkpointing_thread(
    tmp_path: Path, django_db_blocker: Any, monkeypatch: Any
) -> None:
    # SQLite itself would copy the log into the database in the commit that takes it past
    # 1,000 pages, with its fsyncs in that writer's turn and every other writer behind it.
    # Long enough that the thread's own round cannot come between the write and the look
    # at the file, on a loaded machine too.
    monkeypatch.setattr(_Checkpointer, "at_most_seconds", 5.0)
    database, handler = _database_of_our_backend(tmp_path / "log.sqlite3", "n INTEGER, s TEXT")
    size_before = Path(database).stat().st_size
    with django_db_blocker.unblock():
        _insert_pages(handler, 3000)  # about 1,500 pages
        assert Path(f"{database}-wal").stat().st_size > 1_000 * 4096
        assert Path(database).stat().st_size == size_before
        assert _grows_within(Path(database), 1_000 * 4096, 20)
        handler["default"].close()


def _grows_within(path: Path, size: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while path.stat().st_size <= size and time.monotonic() < deadline:
        time.sleep(0.02)
    return path.stat().st_size > size


def test_the_log_is_copied_at_sqlites_pace_not_after_every_write(
    tmp_path: Path, django_db_blocker: Any, monkeypatch: Any
) -> None:
    # Each time the log is all copied, the next writer starts it over and syncs its header
    # in its turn: a checkpoint after every write would put an fsync in many writers' turns.
    monkeypatch.setattr(_Checkpointer, "checkpoint_after_writes", 100)
    monkeypatch.setattr(_Checkpointer, "at_most_seconds", 60.0)
    database, handler = _database_of_our_backend(tmp_path / "pace.sqlite3", "n INTEGER, s TEXT")
    database_file = Path(database)
    size_before = database_file.stat().st_size
    with django_db_blocker.unblock():
        for _ in range(99):
            _insert_pages(handler, 1)
        assert not _grows_within(database_file, size_before, 0.5)
        _insert_pages(handler, 1)  # the hundredth
        assert _grows_within(database_file, size_before, 20)
        handler["default"].close()


def test_under_writes_that_never_pause_the_log_still_starts_over(
    tmp_path: Path, django_db_blocker: Any, monkeypatch: Any
) -> None:
    # Each checkpoint beside the writers copies what the log held when it began, never all
    # of it: without a turn of its own now and then, the log would grow as long as they write.
    monkeypatch.setattr(_Checkpointer, "checkpoint_after_writes", 1)
    monkeypatch.setattr(_Checkpointer, "restart_frames", 300)
    monkeypatch.setattr(_Checkpointer, "restart_wait_seconds", 1.0)
    database, handler = _database_of_our_backend(tmp_path / "busy.sqlite3", "n INTEGER, s TEXT")
    writes = 150

    def write() -> None:
        for _ in range(writes):
            _insert_pages(handler, 8)  # four pages or so, and the index's
        handler["default"].close()

    with django_db_blocker.unblock():
        writers = [threading.Thread(target=write) for _ in range(4)]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(timeout=60)
    with sqlite3.connect(database) as reader:
        (rows,) = reader.execute("SELECT COUNT(*) FROM t").fetchone()
    assert rows == 4 * writes * 8
    # Some 3,000 pages were written; the log was started over and kept well below that.
    assert Path(f"{database}-wal").stat().st_size < 1_500 * 4096


def _write_at_lower_priority(database: str, done: Any) -> None:
    os.nice(10)  # as the pool for people runs
    handler = ConnectionHandler({"default": {"ENGINE": "tuidang.lib.sqlite", "NAME": database}})
    _insert_pages(handler, 3000)
    time.sleep(1.0)  # the checkpoint it does not run would have run by now
    done.put(Path(database).stat().st_size)
    handler["default"].close()


def test_a_process_at_a_lower_priority_leaves_the_checkpoint_to_others(
    tmp_path: Path, django_db_blocker: Any, monkeypatch: Any
) -> None:
    # A checkpoint's turn at the writers' queue, held at a tenth of a core's share while
    # the webhooks' writers wait behind it.
    monkeypatch.setattr(_Checkpointer, "at_most_seconds", 0.05)
    database, handler = _database_of_our_backend(tmp_path / "people.sqlite3", "n INTEGER, s TEXT")
    size_before = Path(database).stat().st_size
    context = multiprocessing.get_context("fork")
    done = context.Queue()
    with django_db_blocker.unblock():  # the child inherits it
        people = context.Process(target=_write_at_lower_priority, args=(database, done))
        people.start()
        size_after_its_write = done.get(timeout=30)
        people.join(timeout=30)
        assert size_after_its_write == size_before
        _insert_pages(handler, 1)  # a webhook's write, at full priority
        assert _grows_within(Path(database), 1_000 * 4096, 20)
        handler["default"].close()


def test_the_log_starts_over_before_sqlite_would_cut_it_back(
    tmp_path: Path, django_db_blocker: Any
) -> None:
    # SQLite cuts a log longer than journal_size_limit back when the next writer starts it
    # over, freeing its blocks in that writer's turn: 130 ms for 400 MB, every writer
    # waiting (docs/benchmarks.md, the year). The thread starts it over before that.
    _database, handler = _database_of_our_backend(tmp_path / "limit.sqlite3", "n INTEGER")
    with django_db_blocker.unblock():
        with handler["default"].cursor() as cursor:
            cursor.execute("PRAGMA page_size")
            (page_size,) = cursor.fetchone()
            cursor.execute("PRAGMA journal_size_limit")
            (limit,) = cursor.fetchone()
        handler["default"].close()
    assert _Checkpointer.restart_frames * page_size < limit


def _wal_database(path: Path, columns: str) -> tuple[str, sqlite3.Connection]:
    """A database in WAL mode with a table ``t``, and a connection to it that leaves the
    log as it is (no checkpoint of its own)."""
    database = str(path)
    connection = sqlite3.connect(database, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA wal_autocheckpoint=0")
    connection.execute(f"CREATE TABLE t ({columns})")
    return database, connection


def test_a_checkpoint_that_finds_the_file_busy_waits_quietly_and_a_broken_one_is_logged(
    tmp_path: Path, caplog: Any
) -> None:
    # Two processes writing (an import's two, the web server's and the worker's) each copy
    # the log, and one finds the other at it: routine, not a traceback in the log.
    database, maker = _wal_database(tmp_path / "busy.sqlite3", "n INTEGER")
    maker.close()
    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")
    holder.execute("INSERT INTO t VALUES (1)")  # keeps the file to itself from now on
    checkpointer = _Checkpointer(database, _WriteLock(database))
    caplog.set_level("DEBUG", logger="tuidang.lib.sqlite.base")
    with contextlib.closing(sqlite3.connect(database, timeout=0, isolation_level=None)) as asking:
        checkpointer.checkpoint(asking)
    holder.close()
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("DEBUG", f"The checkpoint of {database} waits for another's")
    ]
    caplog.clear()
    broken = tmp_path / "broken.sqlite3"
    broken.write_bytes(b"not a database, " * 512)
    checkpointer = _Checkpointer(str(broken), _WriteLock(str(broken)))
    with contextlib.closing(sqlite3.connect(broken, timeout=0, isolation_level=None)) as asking:
        checkpointer.checkpoint(asking)
    assert [(r.levelname, r.exc_info is not None) for r in caplog.records] == [("WARNING", True)]


def test_the_pages_a_checkpoint_copies_are_synced_beside_the_writers_not_in_their_turn(
    tmp_path: Path, monkeypatch: Any
) -> None:
    # A reader still on an older state of the log keeps the checkpoint from copying all of
    # it, as writers adding to it do under steady traffic; SQLite then leaves the database
    # unsynced, and the RESTART turn would sync every page copied since, writers waiting.
    database, writer = _wal_database(tmp_path / "synced.sqlite3", "s TEXT")
    writer.execute("INSERT INTO t VALUES (?)", ("x" * 3000,))
    reader = sqlite3.connect(database, isolation_level=None)
    reader.execute("BEGIN")
    reader.execute("SELECT COUNT(*) FROM t").fetchone()  # holds this state of the log
    for _ in range(200):
        writer.execute("INSERT INTO t VALUES (?)", ("x" * 3000,))
    lock = _WriteLock(database)
    checkpointer = _Checkpointer(database, lock)
    synced: list[tuple[str, bool]] = []
    real_fdatasync = os.fdatasync

    def fdatasync(descriptor: int) -> None:
        synced.append((os.readlink(f"/proc/self/fd/{descriptor}"), lock.thread_lock.locked()))
        real_fdatasync(descriptor)

    monkeypatch.setattr(os, "fdatasync", fdatasync)
    with contextlib.closing(sqlite3.connect(database, timeout=0, isolation_level=None)) as asking:
        checkpointer.checkpoint(asking)
        _busy, log, copied = asking.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    reader.close()
    writer.close()
    assert 0 < copied < log  # some of the log copied, not all: SQLite did not sync
    assert synced == [(os.path.realpath(database), False)]


_READ_AND_CLOSE = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1])
connection.execute("SELECT COUNT(*) FROM t").fetchone()
connection.close()
"""


def test_syncing_the_database_keeps_the_locks_sqlite_holds_on_it(tmp_path: Path) -> None:
    # A process's POSIX locks on a file all go with the first descriptor of it that it
    # closes. Had the sync closed one, this process's connection would no longer hold the
    # database: the next connection of another process to close would take itself for the
    # last one and delete the log and its index from under this one ("disk I/O error").
    database, holder = _wal_database(tmp_path / "held.sqlite3", "s TEXT")
    holder.execute("INSERT INTO t VALUES ('x')")
    checkpointer = _Checkpointer(database, _WriteLock(database))
    for _ in range(2):
        with contextlib.closing(sqlite3.connect(database, timeout=0, isolation_level=None)) as c:
            checkpointer.checkpoint(c)
    subprocess.run([sys.executable, "-c", _READ_AND_CLOSE, database], check=True, timeout=30)
    assert Path(f"{database}-wal").exists()
    assert Path(f"{database}-shm").exists()
    holder.execute("INSERT INTO t VALUES ('y')")
    assert holder.execute("SELECT COUNT(*) FROM t").fetchone() == (2,)
    holder.close()


def test_a_database_made_again_at_the_same_path_is_the_one_synced(
    tmp_path: Path, monkeypatch: Any
) -> None:
    # A test's database is made again at the same path: the descriptor kept open for the
    # first file (never closed, for SQLite's locks) must not be the one synced after.
    path = tmp_path / "again.sqlite3"
    database, first = _wal_database(path, "s TEXT")
    first.execute("INSERT INTO t VALUES ('x')")
    checkpointer = _Checkpointer(database, _WriteLock(database))
    synced: list[str] = []
    real_fdatasync = os.fdatasync

    def fdatasync(descriptor: int) -> None:
        synced.append(os.readlink(f"/proc/self/fd/{descriptor}"))
        real_fdatasync(descriptor)

    monkeypatch.setattr(os, "fdatasync", fdatasync)
    with contextlib.closing(sqlite3.connect(database, timeout=0, isolation_level=None)) as c:
        checkpointer.checkpoint(c)
    first.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    _database, again = _wal_database(path, "s TEXT")
    again.execute("INSERT INTO t VALUES ('y')")
    with contextlib.closing(sqlite3.connect(database, timeout=0, isolation_level=None)) as c:
        checkpointer.checkpoint(c)
    again.close()
    real = os.path.realpath(database)
    assert synced == [real, real]  # the second a live file, not "… (deleted)"
