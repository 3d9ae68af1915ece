"""Statements of the webhooks, built once per process below the ORM's compiler.

Every webhook of a call's path runs a handful of statements, and Django builds and
compiles each afresh on every request: more of the webhook's time than the database
spends running them. Here each is built once per process and database and then only run.

``insert`` stores one row. ``Model.objects.create`` compiles its INSERT afresh for every
row; for the incoming-call webhook's nineteen columns that was a third of the time the
call spends in the database layer. ``insert`` builds the statement once per model and
database and still converts every value through its field, as the ORM does, so the row
stored is the same, and it sends ``pre_save`` and ``post_save`` as ``save()`` does, in
its order, so no receiver is skipped. A model that overrides ``save()``, one with
parents, a column left to its database default and a database that cannot return the
new row's key from its INSERT are saved through the ORM instead. ``update`` saves named
fields of a stored row the same way, and ``update_while`` only while the row still holds
what the caller read (a write that needs no lock held from its read to its UPDATE).

``Prepared`` is a query written with the ORM, with a ``Slot`` for each value that changes
from one run to the next: the ORM compiles it the first time it runs on a database, and
every later run sends the same SQL with the new values, each converted by its slot's
field as the ORM converts a value compared with that field. The rows come back through the
compiler's own converters, as model instances or as values, so what a caller gets is what
the ORM would have given. A query whose shape depends on a value (a list's length, a
None) is one ``Prepared`` per shape.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from django.db import DatabaseError, connections, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import DatabaseDefault, Expression
from django.db.models.query import get_related_populators  # type: ignore[attr-defined]
from django.db.models.signals import post_save, pre_save
from django.db.models.sql import Query
from django.db.models.sql.compiler import SQLCompiler
from django.db.models.sql.subqueries import UpdateQuery

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
    meta = model._meta
    connection = connections[using]
    sql, fields = _statement(model, using)
    if (
        model.save is not models.Model.save
        or meta.parents
        # RETURNING needs SQLite 3.35 or later; Django itself supports older ones.
        or not connection.features.can_return_columns_from_insert
        # A column left to its database default: the ORM's INSERT says so in its SQL.
        or any(isinstance(getattr(instance, field.attname), DatabaseDefault) for field in fields)
    ):
        instance.save(force_insert=True, using=using)
        return instance
    # In save()'s order: related objects checked, pre_save, the values, the INSERT, post_save.
    instance._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    signals = not meta.auto_created
    if signals:
        pre_save.send(sender=model, instance=instance, raw=False, using=using, update_fields=None)
    values = [field.pre_save(instance, add=True) for field in fields]
    params = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(fields, values, strict=True)
    ]
    # As in save(): a failure here spoils the transaction around it.
    with transaction.mark_for_rollback_on_error(using=using), connection.cursor() as cursor:
        cursor.execute(sql, params)
        (instance.pk,) = cursor.fetchone()
    instance._state.adding = False
    instance._state.db = using
    if signals:
        _post_save(instance, created=True, update_fields=None, using=using)
    return instance


@functools.cache
def _update_statement(
    model: type[models.Model],
    names: frozenset[str],
    still: tuple[str, ...],
    null: frozenset[str],
    using: str,
) -> tuple[str, tuple[models.Field[Any, Any], ...], tuple[models.Field[Any, Any], ...]] | None:
    """The UPDATE ``save(update_fields=names)`` sends, with a condition on each field named
    in ``still`` (that it is NULL, for those in ``null``), or None where this one would not
    be it (a name that is not one of the model's own columns, a field with a placeholder
    of its own, a model with parents)."""
    meta = model._meta
    fields = tuple(
        field
        for field in meta.local_concrete_fields
        if not field.primary_key
        and not field.generated
        and (field.name in names or field.attname in names)
    )
    compared = tuple(
        field
        for name in still
        if isinstance(field := meta.get_field(name), models.Field)
        and field.concrete
        and not field.primary_key
    )
    if (
        meta.parents
        or meta.proxy
        or meta.select_on_save
        or len(fields) != len(names)
        or any(hasattr(field, "get_placeholder") for field in fields)
        or len(compared) != len(still)
    ):
        return None
    quote = connections[using].ops.quote_name
    table = quote(meta.db_table)
    # The columns in the model's order, the key qualified by its table: the ORM's text.
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    conditions = "".join(
        f" AND {table}.{quote(field.column)} {'IS NULL' if field.name in null else '= %s'}"
        for field in compared
    )
    sql = (
        f"UPDATE {table} SET {assignments}"  # noqa: S608 - names from the model's metadata
        f" WHERE {table}.{quote(meta.pk.column)} = %s{conditions}"
    )
    return sql, fields, compared


def update(instance: models.Model, fields: Sequence[str], *, using: str = "default") -> None:
    """``instance.save(update_fields=fields)`` for a row already stored, with its UPDATE
    built once per model and fields: the same statement, the same values (each through
    its field's ``pre_save`` and ``get_db_prep_save``), the same ``pre_save`` and
    ``post_save`` signals, and the same DatabaseError when no row was changed. Anything
    else (a model that overrides ``save``, a value that is an expression) is saved
    through the ORM."""
    _update(instance, fields, {}, using, orm=True)


def update_while(
    instance: models.Model,
    fields: Sequence[str],
    *,
    still: Mapping[str, Any],
    using: str = "default",
) -> bool:
    """``update``, only while the row holds the values ``still`` names (as the caller read
    them; None: NULL): ``filter(pk=…, **still).update(…)`` with ``save()``'s values and signals, in
    one statement. False, with nothing stored and no ``post_save``, when another writer
    changed one of them first: the caller reads the row again. For a write that needs no
    lock held from its read to its UPDATE (on SQLite, the writers' turn is then this one
    statement). Only for what ``update`` saves without the ORM (TypeError otherwise)."""
    if not still:
        raise TypeError("update_while needs a value read to compare the row with")
    return _update(instance, fields, still, using, orm=False)


def _update(
    instance: models.Model,
    fields: Sequence[str],
    still: Mapping[str, Any],
    using: str,
    *,
    orm: bool,
) -> bool:
    model = type(instance)
    names = frozenset(fields)
    found = (
        _update_statement(
            model,
            names,
            tuple(sorted(still)),
            frozenset(name for name, value in still.items() if value is None),
            using,
        )
        if names
        and instance.pk is not None
        and not instance._state.adding
        and model.save is models.Model.save
        else None
    )
    if found is None or any(
        hasattr(getattr(instance, field.attname), "resolve_expression") for field in found[1]
    ):
        if not orm:
            raise TypeError(f"{model.__name__}({sorted(names)}) is saved by the ORM, not here")
        instance.save(update_fields=fields, using=using)
        return True
    sql, columns, compared = found
    connection = connections[using]
    meta = model._meta
    # In save()'s order: related objects checked, pre_save, the values, the UPDATE, post_save.
    instance._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]
    if not meta.auto_created:
        pre_save.send(sender=model, instance=instance, raw=False, using=using, update_fields=names)
    params = [
        field.get_db_prep_save(field.pre_save(instance, False), connection) for field in columns
    ]
    params.append(meta.pk.get_db_prep_value(instance.pk, connection))
    params += [
        field.get_db_prep_value(still[field.name], connection, prepared=False)
        for field in compared
        if still[field.name] is not None
    ]
    # As in save(): a failure here, or no row changed, spoils the transaction around it.
    with transaction.mark_for_rollback_on_error(using=using):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            changed = cursor.rowcount
        if not changed and not still:
            raise DatabaseError("Save with update_fields did not affect any rows.")
    if not changed:
        return False
    instance._state.db = using
    instance._state.adding = False
    if not meta.auto_created:
        _post_save(instance, created=False, update_fields=names, using=using)
    return True


def _post_save(
    instance: models.Model, *, created: bool, update_fields: frozenset[str] | None, using: str
) -> None:
    """``post_save`` as ``save()`` sends it, once the row is stored."""
    post_save.send(
        sender=type(instance),
        instance=instance,
        created=created,
        update_fields=update_fields,
        raw=False,
        using=using,
    )


# --- Queries compiled once ------------------------------------------------------------


@dataclass(frozen=True)
class _Marker:
    """Where a slot's value goes among a compiled statement's parameters."""

    name: str
    field: models.Field[Any, Any]


class Slot(Expression):
    """A value given each time a ``Prepared`` query runs, compared with ``field``."""

    def __init__(self, name: str, field: models.Field[Any, Any]) -> None:
        super().__init__(output_field=field)
        self.name = name

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, list[Any]]:
        return "%s", [_Marker(self.name, self.output_field)]


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    converters: dict[int, tuple[list[Any], Any]]
    compiler: SQLCompiler
    # For a query of model instances, as Django's ModelIterable reads them: the columns of
    # the model's own fields, the attribute each fills, and the select_related() models.
    columns: slice
    attnames: tuple[str, ...]
    related: tuple[Any, ...]


class Prepared(Generic[M]):
    """A query built by ``build`` (a queryset, or ``.update``'s query) with ``Slot``s,
    compiled once per database. ``build`` runs once, the first time; it is not run again,
    so nothing it reads may change (a setting, the time)."""

    def __init__(self, build: Callable[[], models.QuerySet[M, Any] | Query]) -> None:
        self.build = build
        self._compiled: dict[str, _Compiled] = {}

    def _compile(self, using: str) -> _Compiled:
        found = self._compiled.get(using)
        if found is not None:
            return found
        built = self.build()
        query = built if isinstance(built, Query) else built.query
        if isinstance(query, UpdateQuery) and query.related_updates:
            raise ValueError("a prepared update changes one table")
        compiler = query.get_compiler(using)
        sql, params = compiler.as_sql()
        # An UPDATE reads no rows: nothing to convert.
        selected = compiler.select[: compiler.col_count] if compiler.select else []
        converters = compiler.get_converters([column for column, _sql, _alias in selected])
        columns, attnames, related = slice(0), (), ()
        info = compiler.klass_info
        if (
            info is not None
            and isinstance(built, models.QuerySet)
            and (built._iterable_class is models.query.ModelIterable)
        ):
            if compiler.annotation_col_map or getattr(built, "_known_related_objects", None):
                raise ValueError("a prepared query reads models and their fields only")
            columns = slice(info["select_fields"][0], info["select_fields"][-1] + 1)
            attnames = tuple(column.target.attname for column, _s, _a in compiler.select[columns])
            related = tuple(get_related_populators(info, compiler.select, using))
        found = _Compiled(sql, tuple(params), converters, compiler, columns, attnames, related)
        # Two threads compiling at once store the same statement: either one does.
        self._compiled[using] = found
        return found

    def _execute(self, compiled: _Compiled, using: str, values: dict[str, Any]) -> Any:
        connection = connections[using]
        params = [
            (
                param.field.get_db_prep_value(values[param.name], connection, prepared=False)
                if isinstance(param, _Marker)
                else param
            )
            for param in compiled.params
        ]
        cursor = connection.cursor()
        cursor.execute(compiled.sql, params)
        return cursor

    def rows(self, *, using: str = "default", **values: Any) -> list[tuple[Any, ...]]:
        """The rows, each value converted as the ORM converts it."""
        compiled = self._compile(using)
        with self._execute(compiled, using, values) as cursor:
            rows: Iterable[Sequence[Any]] = cursor.fetchall()
        if compiled.converters:
            rows = compiled.compiler.apply_converters(rows, compiled.converters)
        return [tuple(row) for row in rows]

    def instances(self, *, using: str = "default", **values: Any) -> list[M]:
        """The rows as the model's instances, as iterating the queryset gives them."""
        compiled = self._compile(using)
        model = cast("type[M]", compiled.compiler.query.model)
        found = []
        for row in self.rows(using=using, **values):
            instance = model.from_db(using, compiled.attnames, row[compiled.columns])
            for populator in compiled.related:
                populator.populate(row, instance)
            found.append(instance)
        return found

    def first(self, *, using: str = "default", **values: Any) -> M | None:
        """The first instance, or None (the query says its order and its limit)."""
        found = self.instances(using=using, **values)
        return found[0] if found else None

    def update(self, *, using: str = "default", **values: Any) -> int:
        """Run an UPDATE (``build`` gives ``update_query(...)``): the rows changed."""
        compiled = self._compile(using)
        with self._execute(compiled, using, values) as cursor:
            return int(cursor.rowcount)


class _Captured(Exception):
    """Not an error: the statement a count would run, caught before it runs."""

    def __init__(self, sql: str, params: Sequence[Any]) -> None:
        self.sql, self.params = sql, tuple(params)


def _capture(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
    raise _Captured(sql, params)


class PreparedCount:
    """A count (or several, ``aggregate`` of ``Count``s) the ORM runs for ``run()``, with
    ``Slot``s: the ORM builds its statement the first time, which is captured before it
    reaches the database, and later runs send it with new values. The row comes back as
    the database gives it: counts are integers on every database."""

    def __init__(self, run: Callable[[], object]) -> None:
        self.run = run
        self._compiled: dict[str, tuple[str, tuple[Any, ...]]] = {}

    def _compile(self, using: str) -> tuple[str, tuple[Any, ...]]:
        found = self._compiled.get(using)
        if found is not None:
            return found
        connection = connections[using]
        # Neither logged as a query that ran (it never does: tests count statements) nor
        # shown to the connection's other wrappers, such as a test's that records
        # statements to explain them (testing/plans.py), which would get it without values.
        logged, connection.force_debug_cursor = connection.force_debug_cursor, False
        wrappers, connection.execute_wrappers = connection.execute_wrappers, [_capture]
        try:
            self.run()
        except _Captured as captured:
            found = (captured.sql, captured.params)
        finally:
            connection.force_debug_cursor = logged
            connection.execute_wrappers = wrappers
        if found is None:
            raise ValueError("the prepared count ran no statement")
        self._compiled[using] = found
        return found

    def row(self, *, using: str = "default", **values: Any) -> tuple[Any, ...] | None:
        """The statement's first row (None: it gave none, as ``exists()`` may)."""
        sql, template = self._compile(using)
        connection = connections[using]
        params = [
            (
                param.field.get_db_prep_value(values[param.name], connection, prepared=False)
                if isinstance(param, _Marker)
                else param
            )
            for param in template
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return None if row is None else tuple(row)


def update_query(queryset: models.QuerySet[Any, Any], **values: Any) -> UpdateQuery:
    """The query ``queryset.update(**values)`` runs, to prepare (for a ``Prepared``)."""
    query = cast(UpdateQuery, queryset.query.chain(UpdateQuery))
    query.add_update_values(values)
    query.clear_select_clause()
    return query
