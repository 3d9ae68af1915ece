"""A batch of rows, prepared and then written below the ORM.

A batch is prepared (keys looked up, aliases sealed, entries written and hashed, counts
gathered) outside its transaction, then written in one transaction with its log entries
and rollups (``lib/bulk.py``): killed half-way, an import leaves whole batches only.
"""

from __future__ import annotations

import contextlib
import os
import time
from binascii import b2a_base64
from collections import Counter
from collections.abc import Callable, Iterator
from hashlib import sha256
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tuidang.declarations.imports.rows import Row
from tuidang.declarations.models import (
    DailyTotal,
    Declaration,
    MonthlyRollup,
    Organization,
    Rollup,
    Subject,
)
from tuidang.declarations.services import RECEIPT_CODE_BYTES, Tally, declaration_entry
from tuidang.lib.bulk import bulk_insert, db_value
from tuidang.tlog.models import FullTile, LogEntry, TileNode, TreeHead
from tuidang.tlog.services import HEAD, log_append
from tuidang.vault.sealing import Sealer

BATCH = 10_000
# Each set of organizations in the order the log writes them: seven sets, a million rows.
_ORDERED = {
    frozenset(subset): tuple(subset)
    for subset in (
        [org for bit, org in enumerate(Organization.values) if mask >> bit & 1]
        for mask in range(1, 1 << len(Organization.values))
    )
}


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
    memory changes, never durability: every batch is committed to the write-ahead log
    before the next begins, as always. The log is copied back by the backend's thread
    beside the writers (lib/sqlite), not in the import's turn, as for every writer."""
    if connection.vendor != "sqlite":
        yield
        return
    # A page cache that holds the indexes' working set (in KiB when negative).
    wanted = {"cache_size": -256 * 1024}
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
        "how_heard",
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
