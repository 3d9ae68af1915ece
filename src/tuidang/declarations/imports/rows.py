"""Rows of a history file (CSV or JSON lines), parsed and checked.

Every row is checked before anything is written, and every bad row is reported with its
line number.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from tuidang.declarations.models import DeclarationChannel, Organization, Relationship
from tuidang.lib.regions import region_from_text

FIELDS = ["key", "date", "organizations", "region", "channel", "relationship", "alias", "consent"]


class Unreadable(Exception):
    """The file cannot be read as text: nothing was imported."""


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
    region = region_from_text(str(record.get("region") or ""))
    if region is None:
        raise ValueError(
            "region must be empty, or a code or name from the list of regions "
            "(CN-BJ or Beijing, HK, US...; docs/counting.md)"
        )
    consent = str(record.get("consent", "")).strip().lower()
    if consent not in ("", "true", "false", "1", "0", "yes", "no"):
        raise ValueError("consent must be true or false")
    return Row(
        line=line,
        key=key,
        declared_on=declared_on,
        organizations=organizations,
        region=region,
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


def open_text(data: bytes) -> TextIO:
    return io.StringIO(data.decode("utf-8-sig"))


def rows_read(path: Path, fmt: str | None = None) -> list[Row]:
    """Every row of the file at ``path``, checked; ``fmt`` (csv or jsonl) from the file's
    extension unless given. Raises Unreadable, or ImportRejected with every bad row."""
    fmt = fmt or ("csv" if path.suffix.lower() == ".csv" else "jsonl")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Unreadable(f"cannot read {path}: {exc}") from exc
    try:
        text = open_text(data)
    except UnicodeDecodeError as exc:
        raise Unreadable(
            f"{path} is not UTF-8 text (byte {exc.start} cannot be read); "
            "save it as UTF-8 and import it again. Nothing was imported."
        ) from None
    return parse_all(text, fmt)
