"""Bulk import and export of historical declarations (CSV or JSON lines).

An import validates every row before it writes anything, and reports every bad row with
its line number. It then writes in batches, each batch in one transaction with its log
entries and rollups: killed half-way, it leaves whole batches only, and running it again
skips the rows already imported (each row has a key).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, TextIO

from django.db import connection, transaction
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
from tuidang.tlog.models import LogEntry, TileNode
from tuidang.tlog.services import commitment, log_append

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
    with _bulk_writing():
        return _import(rows, progress=progress, batch_size=batch_size)


def registry_analyze() -> None:
    """After an import, as PostgreSQL advises after loading data in bulk: refresh the
    planner's statistics of the tables it grew, which until autovacuum catches up would
    take tables of millions of rows for small ones (and read a proof's tiles by scanning
    the log). SQLite plans without statistics."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in (Declaration, LogEntry, TileNode, Rollup, MonthlyRollup, DailyTotal):
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
    imported = skipped = 0
    for start in range(0, len(rows), batch_size):
        batch = rows[start : start + batch_size]
        # Sealing and hashing happen before the transaction, which then only writes.
        prepared = _Batch(batch)
        with transaction.atomic():
            existing = _existing_keys([row.key for row in batch])
            fresh = [i for i, row in enumerate(batch) if row.key not in existing]
            skipped += len(batch) - len(fresh)
            if fresh:
                indexes = log_append(entries=[prepared.entries[i] for i in fresh])
                bulk_insert(
                    Declaration,
                    _Batch.FIELDS,
                    [(*prepared.rows[i], index) for i, index in zip(fresh, indexes, strict=True)],
                )
                prepared.tally(fresh).save()
            imported += len(fresh)
        if progress is not None:
            progress(min(start + batch_size, len(rows)), len(rows))
    return imported, skipped


class _Batch:
    """A batch's declaration rows as the database stores them, and their log entries."""

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

    def __init__(self, batch: list[Row]) -> None:
        self.batch = batch
        self.days = {day: db_value(day) for day in {row.declared_on for row in batch}}
        native_uuid = connection.features.has_native_uuid_field
        sealer = Sealer()
        table = Declaration._meta.db_table
        now = db_value(timezone.now())
        self.rows: list[tuple[Any, ...]] = []
        self.entries: list[bytes] = []
        iso = {day: day.isoformat() for day in self.days}
        self_, family = Subject.SELF.value, Subject.FAMILY.value
        # SQLite stores booleans as 0 and 1, and binds a Python bool through an adapter
        # lookup that costs three times an int's: four a row, a million rows.
        flag: Callable[[bool], bool | int] = int if connection.vendor == "sqlite" else bool
        yes, no = flag(True), flag(False)
        leaves = {
            organizations: tuple(flag(org in organizations) for org in Organization.values)
            for organizations in _ORDERED
        }
        salts = os.urandom(len(batch) * RECEIPT_CODE_BYTES)
        for i, (hex_id, row) in enumerate(zip(_time_ordered_ids(len(batch)), batch, strict=True)):
            public_id = f"{hex_id[:8]}-{hex_id[8:12]}-{hex_id[12:16]}-{hex_id[16:20]}-{hex_id[20:]}"
            salt = salts[i * RECEIPT_CODE_BYTES : (i + 1) * RECEIPT_CODE_BYTES]
            organizations = _ORDERED[row.organizations]
            alias = (
                # Bound to the row by the id's canonical form, as Declaration.alias opens it.
                sealer.seal(row.alias.encode(), table=table, row=public_id, field="alias")
                if row.alias
                else b""
            )
            self.rows.append(
                (
                    public_id if native_uuid else hex_id,
                    family if row.relationship else self_,
                    row.relationship,
                    *leaves[row.organizations],  # party, youth_league, young_pioneers
                    self.days[row.declared_on],
                    row.region,
                    "",
                    row.channel,
                    alias,
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
                    organizations=organizations,
                    region=row.region,
                    channel=row.channel,
                    commitment=commitment(salt, row.alias),
                )
            )

    def tally(self, indexes: list[int]) -> Tally:
        # Rows alike in every counted field first: a day's history has many of each.
        alike = Counter(
            (row.declared_on, row.organizations, row.region, row.channel)
            for row in (self.batch[i] for i in indexes)
        )
        tally = Tally()
        for (day, organizations, region, channel), count in alike.items():
            tally.add(
                day=day, organizations=organizations, region=region, channel=channel, step=count
            )
        return tally


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
