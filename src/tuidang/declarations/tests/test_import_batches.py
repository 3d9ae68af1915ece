"""A long import: batches written in the file's order, each whole, by two processes in
turns; a failure stops it after whole batches; a race with another import doubles nothing."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import pytest
from django.db import connection

from tuidang.declarations.imports import ImportFailed, Row, batches, import_declarations, relay
from tuidang.declarations.models import Declaration, Rollup
from tuidang.declarations.selectors import public_totals
from tuidang.tlog import merkle
from tuidang.tlog.models import LogEntry, TreeHead
from tuidang.tlog.services import tree_hashes

if TYPE_CHECKING:
    from multiprocessing.queues import Queue


def history(count: int, start: int = 0) -> list[Row]:
    return [
        Row(
            line=i + 2,
            key=f"k{i}",
            declared_on=date(2020, 1, 1 + i % 28),
            organizations=frozenset(["party", "youth_league"][: 1 + i % 2]),
            region=["CN-JL", "CN-HN", ""][i % 3],
            channel="fax",
            relationship="",
            alias="Wang" if i % 4 == 0 else "",
            consent=False,
        )
        for i in range(start, start + count)
    ]


def assert_log_matches_head() -> None:
    head = TreeHead.objects.get()
    leaves = [
        bytes(leaf)
        for leaf in LogEntry.objects.order_by("index").values_list("leaf_hash", flat=True)
    ]
    assert bytes(head.root) == merkle.root(leaves) == tree_hashes(head.size).root()


@pytest.mark.django_db(transaction=True)
def test_a_long_import_writes_its_batches_in_order_and_reports_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(relay, "_can_relay", lambda batches: True)
    reports: list[tuple[int, int]] = []
    rows = history(2_100)
    imported, skipped = import_declarations(
        rows, batch_size=200, progress=lambda done, total: reports.append((done, total))
    )
    assert (imported, skipped) == (2_100, 0)
    assert reports == [(min(200 * n, 2_100), 2_100) for n in range(1, 12)]
    # The file's order is the log's: row i is entry i, whichever process wrote its batch.
    indexes = dict(Declaration.objects.values_list("import_key", "log_index"))
    assert indexes == {f"k{i}": i for i in range(2_100)}
    assert public_totals().total == 2_100
    assert sum(Rollup.objects.filter(organization="party").values_list("count", flat=True)) == 2_100
    assert Declaration.objects.get(import_key="k4").alias == "Wang"
    assert_log_matches_head()

    # Again, with more: only the new rows are imported.
    assert import_declarations(history(2_300), batch_size=200) == (200, 2_100)
    assert public_totals().total == LogEntry.objects.count() == 2_300
    assert_log_matches_head()


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_fails_stops_the_import_after_whole_batches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(relay, "_can_relay", lambda batches: True)
    write = batches._Batch.write

    def fail_on_the_fourth(self: batches._Batch) -> None:
        if self.batch[0].key == "k300":  # the fourth batch, written by the second process
            raise RuntimeError("disk full")
        write(self)

    monkeypatch.setattr(batches._Batch, "write", fail_on_the_fourth)
    with pytest.raises(ImportFailed, match="disk full"):
        import_declarations(history(1_000), batch_size=100)
    assert set(Declaration.objects.values_list("import_key", flat=True)) == {
        f"k{i}" for i in range(300)
    }
    assert public_totals().total == 300
    assert_log_matches_head()


@pytest.mark.django_db
def test_rows_another_import_stored_after_they_were_looked_up_are_skipped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert import_declarations(history(100)) == (100, 0)
    looked_up = batches._existing_keys
    calls = []

    def too_early(keys: list[str]) -> set[str]:
        calls.append(connection.in_atomic_block)
        # The first look-up sees the table as it was before the other import committed.
        return set() if len(calls) == 1 else looked_up(keys)

    monkeypatch.setattr(batches, "_existing_keys", too_early)
    assert import_declarations(history(300)) == (200, 100)
    assert len(calls) == 2
    indexes = Declaration.objects.order_by("log_index").values_list("log_index", flat=True)
    assert list(indexes) == list(range(300))
    assert public_totals().total == 300
    assert_log_matches_head()


def _state(pid: int) -> str:
    """A process's state letter, or "gone" (a dead process nobody reaped is a zombie, Z)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"


def _first_process(ready: int) -> None:
    """Stands in for the import's first process: forks a second that must die with it."""
    import os
    import time

    parent = os.getpid()
    child = os.fork()
    if child == 0:
        try:
            relay._die_with(parent)
            time.sleep(60)  # a second process waiting for its turn
        finally:
            os._exit(0)
    os.write(ready, f"{child}\n".encode())
    time.sleep(60)


def test_the_second_process_dies_when_the_first_is_killed() -> None:
    import multiprocessing
    import os
    import signal
    import time

    read, write = os.pipe()
    first = multiprocessing.get_context("fork").Process(target=_first_process, args=(write,))
    first.start()
    second = int(os.read(read, 64).decode())
    time.sleep(0.2)  # the second process has asked to die with the first
    assert _state(second) in {"S", "R"}
    assert first.pid is not None
    os.kill(first.pid, signal.SIGKILL)
    first.join(timeout=10)
    deadline = time.monotonic() + 5
    while _state(second) not in {"Z", "gone"} and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _state(second) in {"Z", "gone"}


def _late_second_process(result: Queue[str]) -> None:
    try:
        relay._die_with(parent=-1)  # its first process is already gone
    except relay._Stopped:
        result.put("stopped")
    else:
        result.put("went on")


def test_a_second_process_whose_first_is_already_gone_writes_nothing() -> None:
    import multiprocessing

    context = multiprocessing.get_context("fork")
    result = context.Queue()
    process = context.Process(target=_late_second_process, args=(result,))
    process.start()
    assert result.get(timeout=10) == "stopped"
    process.join(timeout=10)
