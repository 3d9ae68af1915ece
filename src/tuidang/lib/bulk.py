"""Inserting many rows at once, below the ORM, for the paths where rows per second matter
(the transparency log, historical imports).

PostgreSQL gets COPY; SQLite a prepared INSERT run by executemany. Values must already be
what the database stores: ``db_value`` turns the few Python types that differ between
the two into it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.db import connections, models

Row = Sequence[Any]


def _columns(model: type[models.Model], fields: Sequence[str]) -> list[str]:
    columns = []
    for name in fields:
        field = model._meta.get_field(name)
        if not isinstance(field, models.Field) or not field.column:
            raise ValueError(f"{model.__name__}.{name} is not a column")
        columns.append(field.column)
    return columns


def bulk_insert(
    model: type[models.Model], fields: Sequence[str], rows: Sequence[Row], *, using: str = "default"
) -> None:
    """Insert ``rows`` (tuples in the order of ``fields``) into ``model``'s table."""
    connection = connections[using]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(column) for column in _columns(model, fields))
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join(["%s"] * len(fields))
            # Names come from the model's metadata, quoted; values are parameters.
            sql = f"INSERT INTO {table} ({columns}) VALUES ({placeholders})"  # noqa: S608
            cursor.executemany(sql, rows)


def bulk_add_counts(
    model: type[models.Model],
    key_fields: Sequence[str],
    count_fields: Sequence[str],
    counts: dict[tuple[Any, ...], tuple[int, ...]],
    *,
    using: str = "default",
) -> None:
    """Add ``counts`` to the counters of ``model``, a row per key, creating rows as needed:
    one upsert per key, atomic however many writers add at once."""
    if not counts:
        return
    connection = connections[using]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    keys = [quote(column) for column in _columns(model, key_fields)]
    counters = [quote(column) for column in _columns(model, count_fields)]
    additions = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in counters)
    rows = [(*key, *steps) for key, steps in counts.items()]
    if connection.vendor == "postgresql":
        # One statement for all the rows, a column per array: executemany would be a
        # round trip per row. Keys are distinct, as ON CONFLICT DO UPDATE requires.
        types = [
            model._meta.get_field(name).db_type(connection)  # type: ignore[union-attr]
            for name in [*key_fields, *count_fields]
        ]
        arrays = ", ".join(f"%s::{kind}[]" for kind in types)
        sql = (  # Names and types from the model's metadata; values are parameters.
            f"INSERT INTO {table} ({', '.join(keys + counters)}) "  # noqa: S608
            f"SELECT * FROM unnest({arrays}) "
            f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {additions}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [list(column) for column in zip(*rows, strict=True)])
        return
    placeholders = ", ".join(["%s"] * (len(keys) + len(counters)))
    sql = (  # Names from the model's metadata, quoted; values are parameters.
        f"INSERT INTO {table} ({', '.join(keys + counters)}) VALUES ({placeholders}) "  # noqa: S608
        f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {additions}"
    )
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def db_value(value: Any, *, using: str = "default") -> Any:
    """What the database stores for a date, an aware datetime or a UUID."""
    connection = connections[using]
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, date):
        return connection.ops.adapt_datefield_value(value)
    if isinstance(value, uuid.UUID):
        return value if connection.features.has_native_uuid_field else value.hex
    return value
