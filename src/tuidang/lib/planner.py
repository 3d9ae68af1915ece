"""What the query planner cannot know from its statistics, told to it.

SQLite's statistics (``ANALYZE``) keep, for each index, how many rows a value matches on
average, not which values are rare. Taken while nearly every row holds one value (a team
that is mostly away), they say that any value matches every row, and the planner then
reads the whole table rather than the few rows that hold another value through its
index. ``Rare`` marks a condition that few rows meet (SQLite's ``likelihood``);
PostgreSQL keeps each value's frequency, and is given the condition as it is.

For conditions on the model's own columns that are never NULL: it is resolved as a
``Q`` inside an expression, without the ORM's handling of NULL under ``exclude()`` or of
a relation with many rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, Expression, Q
from django.db.models.sql.compiler import SQLCompiler


class Rare(Expression):
    """``condition``, which about ``share`` of the rows meet: ``Rare(Q(presence=...))``."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, condition: Q | Expression, share: float = 0.01) -> None:
        share = float(share)
        if not 0 < share < 1:
            raise ValueError(f"a share between 0 and 1, not {share}")
        super().__init__()
        self.condition = condition
        self.share = share

    def get_source_expressions(self) -> list[Any]:
        return [self.condition]

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        (self.condition,) = exprs

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, list[Any]]:
        sql, params = compiler.compile(self.condition)  # type: ignore[arg-type]
        return sql, list(params)

    def as_sqlite(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, list[Any]]:
        sql, params = self.as_sql(compiler, connection)
        # A constant, not a parameter: SQLite's planner reads it when it prepares.
        return f"likelihood({sql}, {self.share!r})", params
