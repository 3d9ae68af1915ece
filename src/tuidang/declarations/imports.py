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
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, TextIO

from django.db import transaction

from tuidang.declarations.models import Declaration, DeclarationChannel, Organization, Relationship
from tuidang.declarations.services import RECEIPT_CODE_BYTES, log_entry, rollup_count
from tuidang.tlog.services import log_append

BATCH = 1000
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
    rows: list[Row], *, progress: Callable[[int, int], None] | None = None
) -> tuple[int, int]:
    """(imported, skipped as already there)."""
    imported = skipped = 0
    for start in range(0, len(rows), BATCH):
        batch = rows[start : start + BATCH]
        with transaction.atomic():
            existing = set(
                Declaration.objects.filter(import_key__in=[row.key for row in batch]).values_list(
                    "import_key", flat=True
                )
            )
            fresh = [row for row in batch if row.key not in existing]
            skipped += len(batch) - len(fresh)
            declarations = []
            for row in fresh:
                declaration = Declaration(
                    subject="family" if row.relationship else "self",
                    relationship=row.relationship,
                    declared_on=row.declared_on,
                    region=row.region,
                    source="",
                    channel=row.channel,
                    consent_to_publish=row.consent,
                    import_key=row.key,
                    receipt_salt=secrets.token_bytes(RECEIPT_CODE_BYTES),
                    **{org: org in row.organizations for org in Organization.values},
                )
                declaration.alias = row.alias
                declarations.append(declaration)
            Declaration.objects.bulk_create(declarations)
            indexes = log_append(entries=[log_entry(d) for d in declarations])
            for declaration, index in zip(declarations, indexes, strict=True):
                declaration.log_index = index
            # bulk_create may not return primary keys on every database: update by key.
            for declaration in declarations:
                Declaration.objects.filter(import_key=declaration.import_key).update(
                    log_index=declaration.log_index
                )
            rollup_count(declarations, +1)
            imported += len(declarations)
        if progress is not None:
            progress(min(start + BATCH, len(rows)), len(rows))
    return imported, skipped


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
