"""Writers from several processes queue on the write lock instead of failing or sleeping."""

import multiprocessing
import sqlite3
import time
from pathlib import Path

from tuidang.lib.sqlite.base import _WriteLock

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


def test_writers_in_several_processes_all_get_through(tmp_path: Path):
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
