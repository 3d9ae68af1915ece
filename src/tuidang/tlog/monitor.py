"""A monitor: follows a log over time and raises the alarm on a split view.

Each run fetches the log's checkpoint, checks the log's signature (and counts the
cosignatures of the witnesses it is given), reads the tiles (C2SP tlog-tiles) to check
that they hash to the signed root, and proves with them that the new checkpoint is
consistent with every checkpoint it saw before, kept in a state file. A checkpoint of the
same size with another root, a smaller one after a larger one, a proof that fails or a bad
signature is an alarm: kept in the state file with the offending checkpoint, and the
checkpoint is not taken as seen.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tuidang.tlog import merkle
from tuidang.tlog.cosignature import WitnessKey, valid_cosignatures
from tuidang.tlog.note import Checkpoint, NoteError, Verifier, open_note
from tuidang.tlog.proofs import MissingTile, TreeHashes
from tuidang.tlog.tiles import tile_path

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
) -> MonitorReport:
    """One look at the log; the report's alarms are what is wrong (none: all is well)."""
    seen: dict[str, list[dict[str, object]]] = {"checkpoints": [], "alarms": []}
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
    return _remember(state, seen, report, note)


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


def _remember(
    state: Path, seen: dict[str, list[dict[str, object]]], report: MonitorReport, note: str
) -> MonitorReport:
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
