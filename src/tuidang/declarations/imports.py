"""Bulk import and export of historical declarations (CSV or JSON lines).

An import validates every row before it writes anything, and reports every bad row with
its line number. It then writes in batches, each batch in one transaction with its log
entries and rollups: killed half-way, it leaves whole batches only, and running it again
skips the rows already imported (each row has a key).
"""

from __future__ import annotations

import csv
import io
import json
import os
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, TextIO

from django.db import connection, transaction
from django.utils import timezone

from tuidang.declarations.models import (
    Declaration,
    DeclarationChannel,
    Organization,
    Relationship,
    Subject,
)
from tuidang.declarations.services import RECEIPT_CODE_BYTES, Tally, declaration_entry
from tuidang.lib.bulk import bulk_insert, db_value
from tuidang.lib.crypto import Sealer
from tuidang.tlog.services import commitment, log_append

BATCH = 10_000
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
    organizations = frozenset(
        raw if isinstance(raw, list) else str(raw).replace(",", ";").split(";")
    )
    organizations = frozenset(org.strip() for org in organizations if org.strip())
    if not organizations or organizations - set(Organization.values):
        raise ValueError(f"organizations must be some of {', '.join(Organization.values)}")
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
        randomness = os.urandom(len(batch) * (16 + RECEIPT_CODE_BYTES))
        for i, row in enumerate(batch):
            chunk = randomness[i * 26 : i * 26 + 26]
            public_id = str(uuid.UUID(bytes=chunk[:16], version=4))
            salt = chunk[16:]
            organizations = tuple(org for org in Organization.values if org in row.organizations)
            alias = (
                sealer.seal(row.alias.encode(), table=table, row=public_id, field="alias")
                if row.alias
                else b""
            )
            self.rows.append(
                (
                    public_id if native_uuid else public_id.replace("-", ""),
                    (Subject.FAMILY if row.relationship else Subject.SELF).value,
                    row.relationship,
                    "party" in organizations,
                    "youth_league" in organizations,
                    "young_pioneers" in organizations,
                    self.days[row.declared_on],
                    row.region,
                    "",
                    row.channel,
                    alias,
                    b"",
                    row.consent,
                    now,
                    salt,
                    row.key,
                )
            )
            self.entries.append(
                declaration_entry(
                    declared_on=row.declared_on.isoformat(),
                    organizations=organizations,
                    region=row.region,
                    channel=row.channel,
                    commitment=commitment(salt, row.alias),
                )
            )

    def tally(self, indexes: list[int]) -> Tally:
        tally = Tally()
        for i in indexes:
            row = self.batch[i]
            tally.add(
                day=row.declared_on,
                organizations=row.organizations,
                region=row.region,
                channel=row.channel,
                step=1,
            )
        return tally


def _existing_keys(keys: list[str]) -> set[str]:
    found: set[str] = set()
    # SQLite allows so many parameters in one statement.
    for start in range(0, len(keys), 900):
        chunk = Declaration.objects.filter(import_key__in=keys[start : start + 900])
        found.update(key for key in chunk.values_list("import_key", flat=True) if key)
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
