"""A monitor: follows a log over time and raises the alarm on a split view.

Each run fetches the log's checkpoint, checks the log's signature (and counts the
cosignatures of the witnesses it is given), reads the tiles (C2SP tlog-tiles) to check
that they hash to the signed root, and proves with them that the new checkpoint is
consistent with every checkpoint it saw before, kept in a state file. A checkpoint of the
same size with another root, a smaller one after a larger one, a proof that fails or a bad
signature is an alarm: kept in the state file with the offending checkpoint, and the
checkpoint is not taken as seen.

Given the public total, it also counts the entries as ``tuidang verify-log`` does
(declarations less revocations) and raises the alarm when the total the site shows is not
what the log counts. Counting is incremental: the state keeps the count, and the compact
range of the entries counted, so each run reads only the new entries and proves them
against the signed root by extending that range.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tuidang.tlog import merkle
from tuidang.tlog.cosignature import WitnessKey, valid_cosignatures
from tuidang.tlog.note import Checkpoint, NoteError, Verifier, open_note
from tuidang.tlog.proofs import MissingTile, TreeHashes
from tuidang.tlog.tiles import TILE_WIDTH, tile_path

KEEP = 256  # checkpoints remembered (the first one seen and the latest ones)


class Unreachable(Exception):
    """The log could not be read: not an alarm, but nothing was checked."""


@dataclass(frozen=True)
class HttpLog:
    base_url: str

    def _get(self, path: str) -> bytes | None:
        import requests

        try:
            response = requests.get(self.base_url.rstrip("/") + path, timeout=30)
        except requests.RequestException as exc:
            raise Unreachable(f"{path}: {exc}") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise Unreachable(f"{path}: HTTP {response.status_code}")
        return bytes(response.content)

    def checkpoint(self) -> str:
        body = self._get("/log/checkpoint")
        if body is None:
            raise Unreachable("/log/checkpoint: no checkpoint yet")
        return body.decode("utf-8", errors="replace")

    def tile(self, level: int, index: int, width: int) -> bytes | None:
        return self._get(f"/log/tile/{level}/{tile_path(index, width)}")

    def entries(self, index: int, width: int) -> bytes | None:
        return self._get(f"/log/tile/entries/{tile_path(index, width)}")

    def public_total(self) -> int:
        from tuidang.tlog.verify import VerificationError, public_total_of

        page = self._get("/")
        try:
            return public_total_of(page or b"")
        except VerificationError as exc:
            raise Unreachable(f"/: {exc}") from exc


@dataclass
class MonitorReport:
    checkpoint: Checkpoint | None = None
    checked: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)
    cosigned_by: list[str] = field(default_factory=list)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def monitor_run(
    *,
    fetch_checkpoint: Callable[[], str],
    read_tile: Callable[[int, int, int], bytes | None],
    verifier: Verifier,
    state: Path,
    witnesses: Sequence[WitnessKey] = (),
    read_entries: Callable[[int, int], bytes | None] | None = None,
    public_total: Callable[[], int] | None = None,
) -> MonitorReport:
    """One look at the log; the report's alarms are what is wrong (none: all is well).
    With ``read_entries`` (an entry bundle by tile index and width) and ``public_total``,
    the total the site shows is checked against what the log counts."""
    seen: dict[str, Any] = {"checkpoints": [], "alarms": []}
    if state.exists():
        seen = json.loads(state.read_text())
    report = MonitorReport()
    note = fetch_checkpoint()
    try:
        checkpoint = Checkpoint.parse(open_note(note, verifier))
    except NoteError as exc:
        report.alarms.append(f"the checkpoint is not signed by {verifier.name}: {exc}")
        return _remember(state, seen, report, note)
    report.checkpoint = checkpoint
    report.checked.append(f"checkpoint {checkpoint.size} is signed by {verifier.name}")
    if witnesses:
        report.cosigned_by = sorted(valid_cosignatures(note, witnesses))
    tree = TreeHashes(read_tile, checkpoint.size)
    try:
        if tree.root() != checkpoint.root:
            report.alarms.append(
                f"the tiles do not hash to the root of checkpoint {checkpoint.size}"
            )
            return _remember(state, seen, report, note)
        report.checked.append("the tiles hash to its root")
        for old in seen["checkpoints"]:
            size, root = int(str(old["size"])), base64.b64decode(str(old["root"]))
            alarm = _compare(tree, checkpoint, size, root)
            if alarm:
                report.alarms.append(alarm)
    except (MissingTile, merkle.ProofError) as exc:
        report.alarms.append(f"the log cannot prove checkpoint {checkpoint.size}: {exc}")
    if not report.alarms and seen["checkpoints"]:
        report.checked.append(
            f"it is consistent with the {len(seen['checkpoints'])} checkpoints seen before"
        )
    if not report.alarms and read_entries is not None and public_total is not None:
        _count(seen, report, checkpoint, read_entries, public_total)
    return _remember(state, seen, report, note)


def _count(
    seen: dict[str, Any],
    report: MonitorReport,
    checkpoint: Checkpoint,
    read_entries: Callable[[int, int], bytes | None],
    public_total: Callable[[], int],
) -> None:
    """Count the entries added since the last count, proven against the signed root, and
    compare the count with the public total; the count is kept only when all is well."""
    from tuidang.tlog.services import frontier_extend, frontier_root
    from tuidang.tlog.verify import VerificationError, split_bundle

    count = seen.get("count", {"size": 0, "frontier": [], "declarations": 0, "revocations": 0})
    size, frontier = int(count["size"]), [base64.b64decode(node) for node in count["frontier"]]
    declarations, revocations = int(count["declarations"]), int(count["revocations"])
    if size > checkpoint.size:
        return  # a shrink, which the comparison of checkpoints reports
    for tile in range(size // TILE_WIDTH, -(-checkpoint.size // TILE_WIDTH)):
        width = min(TILE_WIDTH, checkpoint.size - tile * TILE_WIDTH)
        body = read_entries(tile, width)
        try:
            entries = split_bundle(body) if body is not None else []
        except VerificationError as exc:
            report.alarms.append(f"entry bundle {tile}: {exc}")
            return
        if len(entries) != width:
            report.alarms.append(f"entry bundle {tile} holds {len(entries)} entries, not {width}")
            return
        new = entries[max(size - tile * TILE_WIDTH, 0) :]
        frontier, _ = frontier_extend(frontier, size, [merkle.leaf_hash(e) for e in new])
        size += len(new)
        for entry in new:
            try:
                kind = json.loads(entry).get("kind")
            except (ValueError, AttributeError):
                kind = None
            declarations += kind == "declaration"
            revocations += kind == "revocation"
    if frontier_root(frontier) != checkpoint.root:
        report.alarms.append(f"the entries do not hash to the root of checkpoint {size}")
        return
    total, counted = public_total(), declarations - revocations
    if total != counted:
        report.alarms.append(f"the public total is {total}, the log counts {counted}")
        return
    report.checked.append(f"the public total, {total}, is what the log counts")
    seen["count"] = {
        "size": size,
        "frontier": [_b64(node) for node in frontier],
        "declarations": declarations,
        "revocations": revocations,
    }


def _compare(tree: TreeHashes, new: Checkpoint, size: int, root: bytes) -> str | None:
    if size > new.size:
        return f"split view or shrink: checkpoint {new.size} after checkpoint {size} was seen"
    if size == new.size:
        if root != new.root:
            return f"split view: two roots for size {size} ({_b64(root)} and {_b64(new.root)})"
        return None
    if size == 0:
        return None
    try:
        merkle.verify_consistency(size, new.size, root, new.root, tree.consistency_proof(size))
    except merkle.ProofError:
        return f"split view: checkpoint {new.size} is not consistent with checkpoint {size}"
    return None


def _remember(state: Path, seen: dict[str, Any], report: MonitorReport, note: str) -> MonitorReport:
    now = datetime.now(UTC).isoformat(timespec="seconds")
    checkpoint = report.checkpoint
    if report.alarms:
        seen["alarms"].append({"at": now, "alarms": report.alarms, "checkpoint": note})
    elif checkpoint is not None and all(
        old["size"] != checkpoint.size for old in seen["checkpoints"]
    ):
        seen["checkpoints"].append(
            {"size": checkpoint.size, "root": _b64(checkpoint.root), "seen_at": now}
        )
        kept = sorted(seen["checkpoints"], key=lambda old: int(str(old["size"])))
        seen["checkpoints"] = kept[:1] + kept[1:][-(KEEP - 1) :]
    state.parent.mkdir(parents=True, exist_ok=True)
    temporary = state.with_name(state.name + ".tmp")
    temporary.write_text(json.dumps(seen, indent=1))
    temporary.replace(state)  # a run killed half-way leaves the old state whole
    return report
