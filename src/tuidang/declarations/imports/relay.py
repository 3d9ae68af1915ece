"""Bulk import and export of historical declarations (CSV or JSON lines).

An import validates every row before it writes anything, and reports every bad row with
its line number. It then writes in batches, each batch in one transaction with its log
entries and rollups: killed half-way, it leaves whole batches only, and running it again
skips the rows already imported (each row has a key).
"""

from __future__ import annotations

import contextlib
import csv
import ctypes
import gc
import io
import json
import os
import signal
import sys
import time
from binascii import b2a_base64
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from hashlib import sha256
from typing import Any, BinaryIO, TextIO

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteDatabase
from django.utils import timezone

from tuidang.declarations.models import (
    DailyTotal,
    Declaration,
    DeclarationChannel,
    MonthlyRollup,
    Organization,
    Relationship,
    Rollup,
    Subject,
)
from tuidang.declarations.services import RECEIPT_CODE_BYTES, Tally, declaration_entry
from tuidang.lib.bulk import bulk_insert, db_value
from tuidang.lib.crypto import Sealer
from tuidang.tlog.models import FullTile, LogEntry, TileNode, TreeHead
from tuidang.tlog.services import HEAD, log_append

BATCH = 10_000
# Each set of organizations in the order the log writes them: seven sets, a million rows.
_ORDERED = {
    frozenset(subset): tuple(subset)
    for subset in (
        [org for bit, org in enumerate(Organization.values) if mask >> bit & 1]
        for mask in range(1, 1 << len(Organization.values))
    )
}
FIELDS = ["key", "date", "organizations", "region", "channel", "relationship", "alias", "consent"]


class ImportRejected(Exception):
    def __init__(self, errors: list[str]) -> None:
        super().__init__(f"{len(errors)} bad rows")
        self.errors = errors


@dataclass(frozen=True)
class Row:
    line: int
    key: str
    declared_on: date
    organizations: frozenset[str]
    region: str
    channel: str
    relationship: str
    alias: str
    consent: bool


def _rows(handle: TextIO, fmt: str) -> Iterator[tuple[int, dict[str, Any]]]:
    if fmt == "csv":
        reader = csv.DictReader(handle)
        for record in reader:
            yield reader.line_num, record
    else:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield number, {"__error__": f"not JSON ({exc.msg})"}
                    continue
                yield number, record if isinstance(record, dict) else {"__error__": "not an object"}


def _parse(line: int, record: dict[str, Any]) -> Row:
    if "__error__" in record:
        raise ValueError(record["__error__"])
    key = str(record.get("key") or "").strip()
    if not key or len(key) > 100:
        raise ValueError("a key of 1 to 100 characters is required")
    try:
        declared_on = date.fromisoformat(str(record.get("date", "")))
    except ValueError:
        raise ValueError("date must be YYYY-MM-DD") from None
    raw = record.get("organizations", "")
    names = raw if isinstance(raw, list) else str(raw).replace(",", ";").split(";")
    wrong = f"organizations must be some of {', '.join(Organization.values)}"
    if not all(isinstance(name, str) for name in names):
        raise ValueError(wrong)
    organizations = frozenset(name.strip() for name in names if name.strip())
    if not organizations or organizations - set(Organization.values):
        raise ValueError(wrong)
    channel = str(record.get("channel", "")).strip()
    if channel not in DeclarationChannel.values:
        raise ValueError(f"channel must be one of {', '.join(DeclarationChannel.values)}")
    relationship = str(record.get("relationship") or "").strip()
    if relationship and relationship not in Relationship.values:
        raise ValueError(f"relationship must be empty or one of {', '.join(Relationship.values)}")
    consent = str(record.get("consent", "")).strip().lower()
    if consent not in ("", "true", "false", "1", "0", "yes", "no"):
        raise ValueError("consent must be true or false")
    return Row(
        line=line,
        key=key,
        declared_on=declared_on,
        organizations=organizations,
        region=str(record.get("region") or "").strip()[:80],
        channel=channel,
        relationship=relationship,
        alias=str(record.get("alias") or "").strip()[:80],
        consent=consent in ("true", "1", "yes"),
    )


def parse_all(handle: TextIO, fmt: str) -> list[Row]:
    rows, errors, seen = [], [], set()
    for line, record in _rows(handle, fmt):
        try:
            row = _parse(line, record)
        except ValueError as exc:
            errors.append(f"line {line}: {exc}")
            continue
        if row.key in seen:
            errors.append(f"line {line}: the key {row.key!r} appears twice in the file")
            continue
        seen.add(row.key)
        rows.append(row)
    if errors:
        raise ImportRejected(errors)
    return rows


def import_declarations(
    rows: list[Row],
    *,
    progress: Callable[[int, int], None] | None = None,
    batch_size: int = BATCH,
) -> tuple[int, int]:
    """(imported, skipped as already there)."""
    return _import(rows, progress=progress, batch_size=batch_size)


def registry_analyze() -> None:
    """After an import, as PostgreSQL advises after loading data in bulk: refresh the
    planner's statistics of the tables it grew, which until autovacuum catches up would
    take tables of millions of rows for small ones (and read a proof's tiles by scanning
    the log). SQLite plans without statistics."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in (Declaration, LogEntry, TileNode, FullTile, Rollup, MonthlyRollup, DailyTotal):
            cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


@contextlib.contextmanager
def _bulk_writing() -> Iterator[None]:
    """SQLite settings for this connection while it imports, put back afterwards. Only
    memory and the timing of checkpoints change, never durability: every batch is
    committed to the write-ahead log before the next begins, as always."""
    if connection.vendor != "sqlite":
        yield
        return
    # A page cache that holds the indexes' working set (in KiB when negative), and the
    # log copied back into the database every 64 MiB or so rather than every 4 MiB.
    wanted = {"cache_size": -256 * 1024, "wal_autocheckpoint": 16_384}
    saved = {}
    with connection.cursor() as cursor:
        for name, value in wanted.items():
            cursor.execute(f"PRAGMA {name}")
            saved[name] = int(cursor.fetchone()[0])
            cursor.execute(f"PRAGMA {name} = {value}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            for name, value in saved.items():
                cursor.execute(f"PRAGMA {name} = {value}")


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


def _import_batch(prepared: _Batch) -> tuple[int, int]:
    """Write a prepared batch in one transaction: (imported, skipped)."""
    if not prepared.rows:
        return 0, len(prepared.batch)
    try:
        with transaction.atomic():
            prepared.write()
    # The driver's own error too: PostgreSQL's COPY raises it past Django's wrapping.
    except (IntegrityError, connection.Database.IntegrityError):  # type: ignore[attr-defined]
        # Another import stored some of these keys after the batch looked them up: look
        # again, inside the transaction this time, having first locked the tree head,
        # which every import's write goes through: no other writer commits keys until
        # this one has (SQLite's write lock already ensures it; PostgreSQL needs the row
        # lock).
        with transaction.atomic():
            TreeHead.objects.select_for_update().filter(pk=HEAD).first()
            prepared = _Batch(prepared.batch, locked=True)
            if prepared.rows:
                prepared.write()
    return len(prepared.rows), len(prepared.batch) - len(prepared.rows)


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


class _Batch:
    """A batch's new declaration rows as the database stores them, their log entries with
    their leaf hashes, and their counts: all the work that can be done before the
    transaction, which then only writes."""

    FIELDS = [
        "public_id",
        "subject",
        "relationship",
        "party",
        "youth_league",
        "young_pioneers",
        "declared_on",
        "region",
        "source",
        "channel",
        "alias_sealed",
        "statement_sealed",
        "consent_to_publish",
        "created_at",
        "receipt_salt",
        "import_key",
        "log_index",
    ]

    def __init__(self, batch: list[Row], *, locked: bool = False) -> None:
        """``locked``: inside the transaction that writes the batch. Outside it, the rows
        found new may yet be imported by another import before this one writes them;
        the unique key then refuses the batch (see ``_import_batch``)."""
        self.batch = batch
        existing = _existing_keys([row.key for row in batch])
        fresh = [row for row in batch if row.key not in existing] if existing else batch
        days = {day: db_value(day) for day in {row.declared_on for row in fresh}}
        native_uuid = connection.features.has_native_uuid_field
        sealer = Sealer()
        table = Declaration._meta.db_table
        now = db_value(timezone.now())
        self.rows: list[tuple[Any, ...]] = []
        self.entries: list[bytes] = []
        iso = {day: day.isoformat() for day in days}
        self_, family = Subject.SELF.value, Subject.FAMILY.value
        # SQLite stores booleans as 0 and 1, and binds a Python bool through an adapter
        # lookup that costs three times an int's: four a row, a million rows.
        flag: Callable[[bool], bool | int] = int if connection.vendor == "sqlite" else bool
        yes, no = flag(True), flag(False)
        leaves = {
            organizations: tuple(flag(org in organizations) for org in Organization.values)
            for organizations in _ORDERED
        }
        salts = os.urandom(len(fresh) * RECEIPT_CODE_BYTES)
        for i, (hex_id, row) in enumerate(zip(_time_ordered_ids(len(fresh)), fresh, strict=True)):
            salt = salts[i * RECEIPT_CODE_BYTES : (i + 1) * RECEIPT_CODE_BYTES]
            if row.alias:
                alias = row.alias.encode()
                public_id = _dashed(hex_id)
                # Bound to the row by the id's canonical form, as Declaration.alias opens it.
                sealed = sealer.seal(alias, table=table, row=public_id, field="alias")
                stored_id = public_id if native_uuid else hex_id
            else:
                alias, sealed = b"", b""
                stored_id = _dashed(hex_id) if native_uuid else hex_id
            self.rows.append(
                (
                    stored_id,
                    family if row.relationship else self_,
                    row.relationship,
                    *leaves[row.organizations],  # party, youth_league, young_pioneers
                    days[row.declared_on],
                    row.region,
                    "",
                    row.channel,
                    sealed,
                    b"",
                    yes if row.consent else no,
                    now,
                    salt,
                    row.key,
                )
            )
            self.entries.append(
                declaration_entry(
                    declared_on=iso[row.declared_on],
                    organizations=_ORDERED[row.organizations],
                    region=row.region,
                    channel=row.channel,
                    # tlog.services.commitment(salt, alias), written out for a million rows.
                    commitment=b2a_base64(
                        sha256(salt + len(alias).to_bytes(4, "big") + alias).digest(),
                        newline=False,
                    ).decode(),
                )
            )
        # merkle.leaf_hash, inline.
        self.leaf_hashes = [sha256(b"\x00" + entry).digest() for entry in self.entries]
        self.tally = self._tally(fresh)

    def write(self) -> None:
        """Append the entries, insert the rows with their indexes, add the counts: inside
        the batch's transaction."""
        indexes = log_append(entries=self.entries, leaf_hashes=self.leaf_hashes)
        bulk_insert(
            Declaration,
            self.FIELDS,
            [(*row, index) for row, index in zip(self.rows, indexes, strict=True)],
        )
        self.tally.save()

    @staticmethod
    def _tally(rows: list[Row]) -> Tally:
        # Rows alike in every counted field first: a day's history has many of each.
        alike = Counter(
            (row.declared_on, row.organizations, row.region, row.channel) for row in rows
        )
        tally = Tally()
        for (day, organizations, region, channel), count in alike.items():
            tally.add(
                day=day, organizations=organizations, region=region, channel=channel, step=count
            )
        return tally


def _dashed(hex_id: str) -> str:
    """A UUID's 32 hex digits in its canonical form, 8-4-4-4-12."""
    return f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"


def _time_ordered_ids(count: int) -> list[str]:
    """``count`` UUIDs of version 7 (RFC 9562) as 32 hex digits: the time in milliseconds,
    then 74 random bits. Each batch's ids sort after the last batch's, so they join the end
    of the unique index on ``public_id`` instead of landing on random pages of it, which
    costs more the larger the table. The time they reveal is ``created_at``'s."""
    head = (time.time_ns() // 1_000_000) << 80 | 0x7 << 76 | 0b10 << 62
    randomness = os.urandom(10 * count)
    ids = []
    for i in range(count):
        bits = int.from_bytes(randomness[10 * i : 10 * i + 10])
        ids.append(f"{head | (bits >> 62 & 0xFFF) << 64 | bits & _LOW_62:032x}")
    return ids


_LOW_62 = (1 << 62) - 1


def _existing_keys(keys: list[str]) -> set[str]:
    """The keys among ``keys`` already imported: one indexed lookup each, without the ORM
    (a million keys are a hundred batches of ten thousand)."""
    found: set[str] = set()
    table = connection.ops.quote_name(Declaration._meta.db_table)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            # The table's name from the model, quoted; the keys are one array parameter.
            cursor.execute(f"SELECT import_key FROM {table} WHERE import_key = ANY(%s)", [keys])  # noqa: S608 # nosec B608
            return {key for (key,) in cursor.fetchall()}
    chunk = connection.features.max_query_params or 10_000
    with connection.cursor() as cursor:
        for start in range(0, len(keys), chunk):
            part = keys[start : start + chunk]
            # The table's name from the model, quoted; the keys are parameters.
            cursor.execute(
                f"SELECT import_key FROM {table} WHERE import_key IN ({', '.join(['%s'] * len(part))})",  # noqa: S608, E501 # nosec B608
                part,
            )
            found.update(key for (key,) in cursor.fetchall())
    return found


def export_declarations(out: TextIO, fmt: str) -> int:
    """What may be public of every declaration, with its log index; never aliases."""
    fields = [
        "log_index",
        "key",
        "date",
        "organizations",
        "region",
        "channel",
        "relationship",
        "revoked",
    ]
    writer = csv.DictWriter(out, fieldnames=fields) if fmt == "csv" else None
    if writer:
        writer.writeheader()
    count = 0
    for declaration in (
        Declaration.objects.filter(log_index__isnull=False)
        .order_by("log_index")
        .select_related("revocation")
        .iterator()
    ):
        record = {
            "log_index": declaration.log_index,
            "key": declaration.import_key or str(declaration.public_id),
            "date": declaration.declared_on.isoformat(),
            "organizations": ";".join(declaration.organizations()),
            "region": declaration.region,
            "channel": declaration.channel,
            "relationship": declaration.relationship,
            "revoked": hasattr(declaration, "revocation"),
        }
        if writer:
            writer.writerow(record)
        else:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        count += 1
    return count


def open_text(data: bytes) -> TextIO:
    return io.StringIO(data.decode("utf-8-sig"))
