"""One row inserted below the ORM, for the request path where every call pays for it.

``Model.objects.create`` compiles its INSERT afresh for every row; for the incoming-call
webhook's nineteen columns that was a third of the time the call spends in the
database layer. ``insert`` builds the statement once per model and database and still
converts every value through its field, as the ORM does, so the row stored is the same.

It sends no ``pre_save`` or ``post_save`` signal, so a model with receivers of either is
saved through the ORM instead: a receiver added later is never silently skipped. So is
every model on a database that cannot return the new row's key from its INSERT.
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

from django.db import connections, models
from django.db.models.signals import post_save, pre_save

M = TypeVar("M", bound=models.Model)


@functools.cache
def _statement(
    model: type[models.Model], using: str
) -> tuple[str, tuple[models.Field[Any, Any], ...]]:
    connection = connections[using]
    quote = connection.ops.quote_name
    meta = model._meta
    fields = tuple(field for field in meta.concrete_fields if field is not meta.auto_field)
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    # Names from the model's metadata, quoted; values are parameters.
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
        f" RETURNING {quote(meta.pk.column)}"
    )
    return sql, fields


def insert(instance: M, *, using: str = "default") -> M:
    """Store a new ``instance`` with one INSERT and give it its primary key.

    Raises IntegrityError as ``save()`` would. Run it in autocommit, or inside a
    transaction that handles a failure (``atomic()`` makes a savepoint)."""
    model = type(instance)
    connection = connections[using]
    # RETURNING needs SQLite 3.35 or later; Django itself supports older ones.
    if (
        pre_save.has_listeners(model)
        or post_save.has_listeners(model)
        or not connection.features.can_return_columns_from_insert
    ):
        instance.save(force_insert=True, using=using)
        return instance
    sql, fields = _statement(model, using)
    params = [
        field.get_db_prep_save(field.pre_save(instance, add=True), connection) for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        (instance.pk,) = cursor.fetchone()
    instance._state.adding = False
    instance._state.db = using
    return instance
