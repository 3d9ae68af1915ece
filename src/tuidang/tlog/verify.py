"""An outsider's check of the log: signature, contents, history, and the public total.

Reads the log through a Source (over HTTP from a deployed hotline, or from the local
database), so the same checks run against production and in the tests. The total the log
counts (entries of kind "declaration" less those of kind "revocation") is compared with
the public total: over HTTP read from the public page, locally given by the app that keeps
it (`tuidang verify-log` is a command of the declarations for that reason).

With ``figures``, the counts the open data publishes are recomputed from the entries as
well: each day's renunciations by region, organization and channel (a declaration counts
once in each organization it names, on its date, region and channel; a revocation takes
that back), compared cell by cell with the open data's CSV (``/data/daily.csv``, or
locally what the declarations give), and may be written out in the same form.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tuidang.tlog import merkle
from tuidang.tlog.cosignature import WitnessKey, valid_cosignatures
from tuidang.tlog.note import Checkpoint, NoteError, Verifier, open_note
from tuidang.tlog.tiles import TILE_WIDTH, tile_path


class VerificationError(Exception):
    pass


class FiguresMoved(VerificationError):
    """The public figures disagree with the log, and the checkpoint moved meanwhile: a
    batch was published between the two reads, on a hotline that is live."""


# How often a check is made again when a publication lands between its reads.
MOVED_RETRIES = 3


class BadKey(Exception):
    """The verifier key given cannot be read."""


class Source(Protocol):
    def checkpoint(self) -> str: ...

    def entry_bundle(self, path: str) -> bytes: ...

    def public_total(self) -> int: ...

    def daily_counts(self) -> Counter[Cell]: ...


# A day (YYYY-MM-DD), a region, an organization and a channel: a cell of the open data.
Cell = tuple[str, str, str, str]
DAILY_CSV_HEADER = ["day", "region", "organization", "channel", "count"]


def daily_csv(cells: Iterable[tuple[object, str, str, str, int]]) -> Iterable[str]:
    """The open data's daily counts as CSV lines, the header first (docs/open-data.md)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(DAILY_CSV_HEADER)
    yield buffer.getvalue()
    for day, region, organization, channel, count in cells:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([str(day), region, organization, channel, count])
        yield buffer.getvalue()


def parse_daily_csv(text: str) -> Counter[Cell]:
    rows = csv.reader(io.StringIO(text))
    if next(rows, None) != DAILY_CSV_HEADER:
        raise VerificationError(f"the daily counts do not start with {','.join(DAILY_CSV_HEADER)}")
    counts: Counter[Cell] = Counter()
    for row in rows:
        if len(row) != len(DAILY_CSV_HEADER) or not row[4].lstrip("-").isdigit():
            raise VerificationError(f"a malformed line in the daily counts: {row!r}")
        counts[row[0], row[1], row[2], row[3]] += int(row[4])
    return counts


class HttpSource:
    def __init__(self, base_url: str) -> None:
        import requests

        self.base = base_url.rstrip("/")
        self.session = requests.Session()

    def _get(self, path: str) -> bytes:
        response = self.session.get(self.base + path, timeout=30)
        if response.status_code != 200:
            raise VerificationError(f"{path}: HTTP {response.status_code}")
        return bytes(response.content)

    def checkpoint(self) -> str:
        return self._get("/log/checkpoint").decode()

    def entry_bundle(self, path: str) -> bytes:
        return self._get(f"/log/tile/entries/{path}")

    def public_total(self) -> int:
        return public_total_of(self._get("/"))

    def daily_counts(self) -> Counter[Cell]:
        return parse_daily_csv(self._get("/data/daily.csv").decode())


def public_total_of(page: bytes) -> int:
    """The total the public home page shows."""
    match = re.search(r'data-testid="total">([\d,]+)<', page.decode(errors="replace"))
    if match is None:
        raise VerificationError("the public page shows no total")
    return int(match.group(1).replace(",", ""))


class LocalSource:
    """This database's log; ``public_total`` gives the total shown on the public page."""

    def __init__(
        self,
        public_total: Callable[[], int],
        daily_counts: Callable[[], Iterable[tuple[object, str, str, str, int]]] = tuple,
    ) -> None:
        self._public_total = public_total
        self._daily_counts = daily_counts

    def checkpoint(self) -> str:
        from tuidang.tlog.models import SignedCheckpoint
        from tuidang.tlog.witnessing import cosigned_note

        latest = SignedCheckpoint.objects.order_by("-size").first()
        if latest is None:
            raise VerificationError("no checkpoint has been signed")
        return cosigned_note(latest)

    def entry_bundle(self, path: str) -> bytes:
        from tuidang.tlog.services import entry_bundle
        from tuidang.tlog.tiles import parse_tile_path

        index, width = parse_tile_path(path)
        bundle = entry_bundle(index, width)
        if bundle is None:
            raise VerificationError(f"entry bundle {path} is missing")
        return bundle

    def public_total(self) -> int:
        return self._public_total()

    def daily_counts(self) -> Counter[Cell]:
        counts: Counter[Cell] = Counter()
        for day, region, organization, channel, count in self._daily_counts():
            counts[str(day), region, organization, channel] += count
        return counts


def split_bundle(bundle: bytes) -> list[bytes]:
    entries, position = [], 0
    while position < len(bundle):
        if position + 2 > len(bundle):
            raise VerificationError("a truncated entry bundle")
        length = int.from_bytes(bundle[position : position + 2], "big")
        entries.append(bundle[position + 2 : position + 2 + length])
        position += 2 + length
    if position != len(bundle):
        raise VerificationError("a truncated entry bundle")
    return entries


@dataclass
class Report:
    checkpoint: Checkpoint
    declarations: int = 0
    revocations: int = 0
    checked: list[str] = field(default_factory=list)
    # Renunciations by day, region, organization and channel, as the entries count them.
    cells: Counter[Cell] = field(default_factory=Counter)


def check_cosignatures(note: str, witnesses: Sequence[WitnessKey], quorum: int) -> list[str]:
    """The names of the witnesses whose valid cosignatures ``note`` carries, if they are at
    least ``quorum``; VerificationError otherwise."""
    cosigned = sorted(valid_cosignatures(note, witnesses))
    if len(cosigned) < quorum:
        raise VerificationError(
            f"the checkpoint is cosigned by {len(cosigned)} of the {len(witnesses)} witnesses "
            f"given ({', '.join(cosigned) or 'none'}); {quorum} are needed"
        )
    return cosigned


def _unless_moved(source: Source, note: str) -> None:
    """Raise FiguresMoved when the source's checkpoint is no longer ``note``: the figures
    read after it may be those of the next batch, not a disagreement."""
    if source.checkpoint() != note:
        raise FiguresMoved("the checkpoint moved while the figures were read")


def verify(
    source: Source,
    verifier: Verifier,
    *,
    state: Path | None = None,
    witnesses: Sequence[WitnessKey] = (),
    quorum: int | None = None,
    figures: bool = False,
) -> Report:
    """``quorum`` (default: all of ``witnesses``) valid cosignatures are required; with
    ``figures``, the source's daily counts must be what the entries count."""
    note = source.checkpoint()
    checkpoint = Checkpoint.parse(open_note(note, verifier))
    report = Report(checkpoint)
    report.checked.append(f"the checkpoint is signed by {verifier.name}")
    if witnesses:
        needed = len(witnesses) if quorum is None else quorum
        cosigned = check_cosignatures(note, witnesses, needed)
        report.checked.append(
            f"it is cosigned by {len(cosigned)} of {len(witnesses)} witnesses "
            f"({', '.join(cosigned)}), {needed} needed"
        )
    entries: list[bytes] = []
    for tile in range((checkpoint.size + TILE_WIDTH - 1) // TILE_WIDTH):
        width = min(TILE_WIDTH, checkpoint.size - tile * TILE_WIDTH)
        bundle = split_bundle(source.entry_bundle(tile_path(tile, width)))
        if len(bundle) != width:
            raise VerificationError(f"entry bundle {tile} holds {len(bundle)}, not {width}")
        entries.extend(bundle)
    leaves = [merkle.leaf_hash(entry) for entry in entries]
    if merkle.root(leaves) != checkpoint.root:
        raise VerificationError("the entries do not hash to the checkpoint's root")
    report.checked.append(f"all {checkpoint.size} entries hash to the signed root")
    if state is not None and state.exists():
        seen = json.loads(state.read_text())
        old_size, old_root = seen["size"], base64.b64decode(seen["root"])
        if old_size > checkpoint.size or merkle.root(leaves[:old_size]) != old_root:
            raise VerificationError(
                f"the log is not an extension of the checkpoint seen before (size {old_size})"
            )
        report.checked.append(f"the log extends the checkpoint seen before (size {old_size})")
    count_entries(entries, report)
    total = source.public_total()
    expected = report.declarations - report.revocations
    if total != expected:
        _unless_moved(source, note)
        raise VerificationError(f"the public total is {total}, the log counts {expected}")
    report.checked.append(f"the public total, {total}, is what the log counts")
    if figures:
        published = +source.daily_counts()  # + drops the cells at zero
        if published != +report.cells:
            _unless_moved(source, note)
            wrong = sorted(set(published.items()) ^ set((+report.cells).items()))[:3]
            raise VerificationError(
                f"the daily counts published are not what the log counts (e.g. {wrong})"
            )
        report.checked.append(
            f"the daily counts by region, organization and channel ({len(published)} cells, "
            f"{published.total()} renunciations) are what the log counts"
        )
    if state is not None:
        remembered = {"size": checkpoint.size, "root": base64.b64encode(checkpoint.root).decode()}
        if witnesses:  # the size last seen cosigned by enough of the witnesses given
            remembered["witnessed_size"] = checkpoint.size
        elif state.exists() and "witnessed_size" in (seen := json.loads(state.read_text())):
            remembered["witnessed_size"] = seen["witnessed_size"]
        state.write_text(json.dumps(remembered))
    return report


def count_entries(entries: Sequence[bytes], report: Report) -> None:
    """Count the declarations and revocations, and the renunciations in each cell."""
    declared: dict[int, list[Cell]] = {}
    for index, entry in enumerate(entries):
        fields = json.loads(entry)
        kind = fields.get("kind")
        if kind == "declaration":
            report.declarations += 1
            cells = [
                (str(fields["date"]), str(fields["region"]), str(org), str(fields["channel"]))
                for org in fields.get("organizations", ())
            ]
            declared[index] = cells
            report.cells.update(cells)
        elif kind == "revocation":
            report.revocations += 1
            report.cells.subtract(declared.get(fields.get("revokes"), ()))


def log_verify(
    *,
    url: str | None,
    key: str | None,
    state: Path | None,
    local_total: Callable[[], int],
    witnesses: Sequence[str] = (),
    quorum: int | None = None,
    local_figures: Callable[[], Iterable[tuple[object, str, str, str, int]]] | None = None,
) -> Report:
    """Verify the log of the hotline at ``url`` (default: this database, whose public total
    ``local_total`` gives) against the verifier ``key`` (default: this hotline's own),
    remembering the checkpoint in ``state`` when given, and requiring ``quorum`` (default:
    all) valid cosignatures by the ``witnesses`` (their verifier keys) when given, and
    checking the daily counts (locally those ``local_figures`` gives) when it is. Raises
    BadKey, or VerificationError or NoteError when the log does not verify."""
    from tuidang.tlog.services import verifier_key

    try:
        verifier = Verifier.parse(key or verifier_key())
        witness_keys = [WitnessKey.parse(witness) for witness in witnesses]
    except NoteError as exc:
        raise BadKey(str(exc)) from exc
    if quorum is not None and not 0 <= quorum <= len(witness_keys):
        raise BadKey(f"a quorum of {quorum} with {len(witness_keys)} witness keys")
    figures = local_figures is not None
    source: Source = HttpSource(url) if url else LocalSource(local_total, local_figures or tuple)
    for _attempt in range(MOVED_RETRIES):
        try:
            return verify(
                source, verifier, state=state, witnesses=witness_keys, quorum=quorum,
                figures=figures,
            )  # fmt: skip
        except FiguresMoved:
            continue  # against the new checkpoint, and the figures that go with it
    return verify(
        source, verifier, state=state, witnesses=witness_keys, quorum=quorum, figures=figures
    )
