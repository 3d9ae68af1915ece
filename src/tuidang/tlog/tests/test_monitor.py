"""The monitor: a log that only grows passes; a split view, a shrink or a bad signature
is an alarm, kept in the state file with the checkpoint that raised it."""

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from pytest_django.live_server_helper import LiveServer

from tuidang.testing.witnesses import ToyLog
from tuidang.tlog import merkle
from tuidang.tlog.monitor import MonitorReport, monitor_run
from tuidang.tlog.note import Signer
from tuidang.tlog.services import log_append, log_checkpoint_sign
from tuidang.tlog.tiles import TILE_WIDTH


def look(log: ToyLog, size: int, state: Path, *, note: str | None = None) -> MonitorReport:
    log.grow(size)
    return monitor_run(
        fetch_checkpoint=lambda: note or log.note(size),
        read_tile=log.tile,
        verifier=log.signer.verifier,
        state=state,
    )


def forked(size: int, changed: int = 2) -> ToyLog:
    fork = ToyLog()
    fork.grow(size)
    fork.leaves[changed] = b"\x00" * 32
    return fork


def test_a_log_that_only_grows_raises_no_alarm(tmp_path: Path) -> None:
    log, state = ToyLog(), tmp_path / "seen.json"
    for size in (5, 9, 9, 300, 70_000):
        assert look(log, size, state).alarms == []
    sizes = [seen["size"] for seen in json.loads(state.read_text())["checkpoints"]]
    assert sizes == [5, 9, 300, 70_000]


def test_a_fork_is_a_split_view(tmp_path: Path) -> None:
    state = tmp_path / "seen.json"
    look(ToyLog(), 5, state)
    report = look(forked(9), 9, state)
    assert report.alarms == ["split view: checkpoint 9 is not consistent with checkpoint 5"]
    kept = json.loads(state.read_text())
    assert [seen["size"] for seen in kept["checkpoints"]] == [5]  # not taken as seen
    assert forked(9).note(9) == kept["alarms"][0]["checkpoint"]


def test_a_second_root_for_a_size_seen_is_a_split_view(tmp_path: Path) -> None:
    state = tmp_path / "seen.json"
    look(ToyLog(), 9, state)
    assert look(forked(9), 9, state).alarms[0].startswith("split view: two roots for size 9")


def test_a_smaller_checkpoint_after_a_larger_one_is_an_alarm(tmp_path: Path) -> None:
    state, log = tmp_path / "seen.json", ToyLog()
    look(log, 9, state)
    assert "checkpoint 5 after checkpoint 9" in look(log, 5, state).alarms[0]


def test_a_checkpoint_not_signed_by_the_log_is_an_alarm(tmp_path: Path) -> None:
    log = ToyLog()
    log.grow(3)
    impostor = Signer(log.origin, bytes(32)).sign(log.checkpoint(3).body())
    assert "not signed" in look(log, 3, tmp_path / "s.json", note=impostor).alarms[0]


def test_tiles_that_do_not_hash_to_the_signed_root_are_an_alarm(tmp_path: Path) -> None:
    log, fork = ToyLog(), forked(9)
    log.grow(9)
    report = monitor_run(
        fetch_checkpoint=lambda: log.note(9),
        read_tile=fork.tile,
        verifier=log.signer.verifier,
        state=tmp_path / "s.json",
    )
    assert "do not hash to the root" in report.alarms[0]


@pytest.mark.django_db(transaction=True)
def test_tuidang_monitor_follows_the_hotline_and_exits_non_zero_on_a_split_view(
    live_server: LiveServer, tmp_path: Path
) -> None:
    state = tmp_path / "seen.json"
    for count in (3, 4):
        with transaction.atomic():
            log_append(entries=[b'{"kind":"test"}'] * count)  # counted in no total
        log_checkpoint_sign()
        call_command("monitor", live_server.url, state=state)
    seen = json.loads(state.read_text())
    assert [checkpoint["size"] for checkpoint in seen["checkpoints"]] == [3, 7]
    seen["checkpoints"][0]["root"] = "A" * 43 + "="  # as if a forked log had been shown
    state.write_text(json.dumps(seen))
    with pytest.raises(CommandError, match="misbehaved"):
        call_command("monitor", live_server.url, state=state)


class CountedLog(ToyLog):
    """A toy log of declaration and revocation entries, which serves its entry bundles."""

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[bytes] = []

    def add(self, kind: str, count: int) -> None:
        self.entries += [b'{"kind":"%s","n":%d}' % (kind.encode(), i) for i in range(count)]
        self.leaves = [merkle.leaf_hash(entry) for entry in self.entries]

    def bundle(self, index: int, width: int) -> bytes | None:
        first = index * TILE_WIDTH
        if first + width > len(self.entries):
            return None
        chosen = self.entries[first : first + width]
        return b"".join(len(entry).to_bytes(2, "big") + entry for entry in chosen)


def count(log: CountedLog, state: Path, total: int) -> list[str]:
    size = len(log.entries)
    return monitor_run(
        fetch_checkpoint=lambda: log.note(size),
        read_tile=log.tile,
        verifier=log.signer.verifier,
        state=state,
        read_entries=log.bundle,
        public_total=lambda: total,
    ).alarms


def test_the_public_total_is_counted_as_the_log_grows(tmp_path: Path) -> None:
    log, state = CountedLog(), tmp_path / "seen.json"
    log.add("declaration", 3)
    assert count(log, state, 3) == []
    log.add("declaration", 400)  # across a tile's edge
    log.add("revocation", 2)
    assert count(log, state, 401) == []
    kept = json.loads(state.read_text())["count"]
    assert (kept["size"], kept["declarations"], kept["revocations"]) == (405, 403, 2)


def test_a_public_total_that_is_not_what_the_log_counts_is_an_alarm(tmp_path: Path) -> None:
    log, state = CountedLog(), tmp_path / "seen.json"
    log.add("declaration", 300)
    assert count(log, state, 300) == []
    log.add("declaration", 5)
    assert count(log, state, 310) == ["the public total is 310, the log counts 305"]
    assert json.loads(state.read_text())["count"]["size"] == 300  # the count not moved on
    assert count(log, state, 305) == []


def test_entries_that_are_not_the_signed_ones_are_an_alarm(tmp_path: Path) -> None:
    log, state = CountedLog(), tmp_path / "seen.json"
    log.add("declaration", 5)
    shown = CountedLog()
    shown.add("declaration", 5)
    shown.entries[2] = b'{"kind":"revocation","n":2}'  # the tiles and root stay the log's
    alarms = monitor_run(
        fetch_checkpoint=lambda: log.note(5),
        read_tile=log.tile,
        verifier=log.signer.verifier,
        state=state,
        read_entries=shown.bundle,
        public_total=lambda: 3,
    ).alarms
    assert alarms == ["the entries do not hash to the root of checkpoint 5"]


@pytest.mark.django_db(transaction=True)
def test_tuidang_monitor_alarms_when_the_site_shows_another_total(
    live_server: LiveServer, tmp_path: Path
) -> None:
    with transaction.atomic():  # a declaration in the log that the total does not count
        log_append(entries=[b'{"kind":"declaration"}'])
    log_checkpoint_sign()
    with pytest.raises(CommandError, match="misbehaved"):
        call_command("monitor", live_server.url, state=tmp_path / "seen.json")
    alarms = json.loads((tmp_path / "seen.json").read_text())["alarms"]
    assert alarms[0]["alarms"] == ["the public total is 0, the log counts 1"]
