"""Migrations that drop PostgreSQL's second index on an identifier nobody searches by its start.

On PostgreSQL, Django gives every unique or indexed ``CharField`` a second index, named
``…_like`` (``varchar_pattern_ops``), so that a ``startswith`` can use an index too. A
provider's id, a case code or a caller key is looked up whole, never by its start: that
index serves no query, yet every row inserted adds a key to it, at a random place among a
year's rows: a new call's provider id and case code went into four indexes where two
serve. SQLite makes none.

Django creates it again if a later migration alters such a field: the test of the calls'
indexes (``calls/tests/test_query_plans.py``) would then fail.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

Field = tuple[str, str, str]  # app label, model, field


def _fields(apps: Any, fields: tuple[Field, ...]) -> list[tuple[Any, Any]]:
    found = []
    for app_label, model_name, name in fields:
        model = apps.get_model(app_label, model_name)
        found.append((model, model._meta.get_field(name)))
    return found


def drop_pattern_indexes(*fields: Field) -> migrations.RunPython:
    """The operation that drops each field's ``…_like`` index on PostgreSQL (and makes
    it again when the migration is reversed)."""

    def drop(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for model, field in _fields(apps, fields):
            # Named as Django's PostgreSQL schema editor names it.
            name = schema_editor._create_index_name(
                model._meta.db_table, [field.column], suffix="_like"
            )
            schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")

    def make(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        for model, field in _fields(apps, fields):
            statement = schema_editor._create_like_index_sql(model, field)
            if statement is not None:
                schema_editor.execute(statement)

    return migrations.RunPython(drop, make)
