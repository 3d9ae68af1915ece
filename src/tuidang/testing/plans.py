"""Watching query plans: record the SQL a request runs, and ask the database how it would
run each statement, so that a test fails on a full scan of a table that grows with the
hotline's history (calls, offers, declarations, the log, screening rows, the audit log).

SQLite: ``EXPLAIN QUERY PLAN``, where a full scan reads ``SCAN <table>`` (a search by an
index reads ``SEARCH``), and so does a skip-scan, ``SEARCH <table> USING INDEX i
(ANY(a) AND ...)``: an index whose leading column the query does not name, read whole
for each of that column's values (SQLite picks one when ``ANALYZE`` found few values).
PostgreSQL: ``EXPLAIN (FORMAT JSON)``, a ``Seq Scan`` node on the table. The plans only
mean something once the tables hold enough rows and the planner knows it (``ANALYZE``
after filling them: see ``demo/history.py``).

A plan can change with the table's size: SQLite read the whole calls table in the order
of its keys rather than sort the few queued calls it would find through an index, once
the table held 2,000,000 calls, where it used the index over a few thousand. So on SQLite
``statistics_of_a_year`` tells the planner the growing tables are as large as a year's,
before the plans are asked for.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models

from tuidang.audit.models import AuditEvent
from tuidang.calls.models import Call, CallDisposition, CallNote, Offer, Voicemail
from tuidang.declarations.models import Declaration, Revocation
from tuidang.screening.models import Block, CallerScore, ScreeningEvent
from tuidang.shifts.models import Assignment, Slot
from tuidang.tlog.models import LogEntry
from tuidang.volunteers.models import Volunteer, VolunteerLanguage

GROWING: tuple[type[models.Model], ...] = (
    Call,
    Offer,
    Voicemail,
    CallDisposition,
    CallNote,
    Declaration,
    Revocation,
    LogEntry,
    CallerScore,
    Block,
    ScreeningEvent,
    AuditEvent,
    Slot,  # every week, for every shift
    Assignment,  # routing asks who is on shift at every offer
)


# The team: it grows with the hotline, not with its calls, and the desk's team page lists
# it whole. A webhook reads only the volunteers it needs (those on duty, those ready):
# hundreds of volunteers, a handful of them on duty at night.
TEAM: tuple[type[models.Model], ...] = (Volunteer, VolunteerLanguage)


def growing_tables(*, with_team: bool = False) -> set[str]:
    return {model._meta.db_table for model in GROWING + (TEAM if with_team else ())}


@dataclass(frozen=True)
class Statement:
    label: str
    sql: str
    params: tuple[Any, ...]


@dataclass
class Recorder:
    """Every SELECT, UPDATE and DELETE run on the default database, with the label of what
    ran it (a webhook, a page) at the time."""

    label: str = ""
    statements: list[Statement] = field(default_factory=list)

    def __call__(
        self,
        execute: Callable[..., Any],
        sql: str,
        params: Any,
        many: bool,
        context: dict[str, Any],
    ) -> Any:
        if not many and sql.lstrip().split(None, 1)[0].upper() in {"SELECT", "UPDATE", "DELETE"}:
            self.statements.append(Statement(self.label, sql, tuple(params or ())))
        return execute(sql, params, many, context)

    @contextmanager
    def labelled(self, label: str) -> Iterator[None]:
        previous, self.label = self.label, label
        try:
            yield
        finally:
            self.label = previous

    def labels(self) -> set[str]:
        return {statement.label for statement in self.statements}


@contextmanager
def recording() -> Iterator[Recorder]:
    recorder = Recorder()
    with connection.execute_wrapper(recorder):
        yield recorder


# `"calls_call" U0`, `"calls_call" AS "U0"`, `calls_call AS s`: an alias of a table. Sought
# after each table's name: a pattern run along the whole statement would pair the words
# out of step (`FROM "calls_call"`, then `U0 WHERE`) and miss the subqueries' aliases.
_NOT_ALIASES = {"ON", "WHERE", "INNER", "LEFT", "SET", "JOIN", "ORDER", "GROUP", "LIMIT"}


def _aliases(sql: str, tables: set[str]) -> dict[str, str]:
    found = {table: table for table in tables}
    for table in tables:
        pattern = rf'(?<!\w)"?{re.escape(table)}"?\s+(?:AS\s+)?"?(\w+)"?'
        for alias in re.findall(pattern, sql, re.IGNORECASE):
            if alias.upper() not in _NOT_ALIASES:
                found[alias] = table
    return found


# A column whose values each match at least this share of a small year's rows has few
# distinct values (a state, a language): its values keep matching that share of a year's.
# Any other (a caller key, a time) keeps matching as few rows as it did.
_FEW_VALUES_SHARE = 0.01


@contextmanager
def statistics_of_a_year(factor: float) -> Iterator[None]:
    """On SQLite, the growing tables' statistics (``sqlite_stat1``, from ``ANALYZE``)
    scaled up ``factor`` times, as the planner would find them in a year; fresh ones
    again after. PostgreSQL's statistics keep each frequent value's share, which a
    year does not change: it is left as it is."""
    if connection.vendor != "sqlite":
        yield
        return
    tables = growing_tables()
    with connection.cursor() as cursor:
        cursor.execute("SELECT tbl, idx, stat FROM sqlite_stat1")
        for table, index, stat in cursor.fetchall():
            if table not in tables:
                continue
            rows, *matches = stat.split()
            # Each column's rows a value matches; a word after them (`unordered`) kept.
            scaled = [
                str(round(int(match) * factor))
                if match.isdigit() and int(match) >= int(rows) * _FEW_VALUES_SHARE
                else match
                for match in matches
            ]
            year = " ".join([str(round(int(rows) * factor)), *scaled])
            cursor.execute(
                "UPDATE sqlite_stat1 SET stat = %s WHERE tbl = %s AND idx IS %s",
                [year, table, index],
            )
        cursor.execute("ANALYZE sqlite_schema")  # the planner reads them again
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _sqlite_scans(statement: Statement, tables: set[str]) -> list[str]:
    aliases = _aliases(statement.sql, tables)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {statement.sql}", statement.params)
        details = [str(row[-1]) for row in cursor.fetchall()]
    scans = []
    for detail in details:
        words = detail.split()
        if len(words) < 2 or words[1] not in aliases:
            continue
        if words[0] == "SCAN" or (words[0] == "SEARCH" and "(ANY(" in detail):
            scans.append(f"{aliases[words[1]]}: {detail}")
    return scans


# PostgreSQL reads a table of a few pages whole rather than through an index, rightly:
# a sequential scan is reported only on a table at least this many pages long.
MIN_PAGES = 8


def postgresql_pages(tables: set[str]) -> dict[str, int]:
    """The tables' sizes in pages as the planner knows them (after ANALYZE)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, relpages FROM pg_class WHERE relkind = 'r' AND relname = ANY(%s)",
            [sorted(tables)],
        )
        return {name: int(pages) for name, pages in cursor.fetchall()}


def _postgresql_scans(statement: Statement, tables: set[str]) -> list[str]:
    pages = postgresql_pages(tables)
    tables = {table for table in tables if pages.get(table, 0) >= MIN_PAGES}
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {statement.sql}", statement.params)
        (plan,) = cursor.fetchone()
    if isinstance(plan, str):
        plan = json.loads(plan)
    scans = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("Node Type") == "Seq Scan" and node.get("Relation Name") in tables:
            scans.append(f"{node['Relation Name']}: Seq Scan (filter {node.get('Filter', '-')})")
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    return scans


def full_scans(statements: Sequence[Statement], *, with_team: bool = False) -> list[str]:
    """A line for each statement that would read a growing table whole (or, ``with_team``,
    the team's)."""
    tables = growing_tables(with_team=with_team)
    scans_of = _postgresql_scans if connection.vendor == "postgresql" else _sqlite_scans
    found = []
    seen = set()
    for statement in statements:
        if (statement.label, statement.sql) in seen:
            continue
        seen.add((statement.label, statement.sql))
        for scan in scans_of(statement, tables):
            found.append(f"[{statement.label}] {scan}\n    {statement.sql}")
    return found


@dataclass(frozen=True)
class TableIndex:
    name: str
    columns: tuple[str, ...]
    partial: bool
    # PostgreSQL's index for LIKE (``varchar_pattern_ops``), which serves only a prefix search.
    for_prefixes: bool


_POSTGRESQL_INDEXES = """
    SELECT i.relname, array_agg(a.attname ORDER BY k.ord), x.indpred IS NOT NULL,
           bool_or(o.opcname LIKE '%%pattern_ops')
    FROM pg_index x
    JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_class t ON t.oid = x.indrelid
    CROSS JOIN LATERAL unnest(x.indkey::int2[], x.indclass::oid[])
        WITH ORDINALITY AS k(attnum, opclass, ord)
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
    JOIN pg_opclass o ON o.oid = k.opclass
    WHERE t.relname = %s AND t.relnamespace = current_schema()::regnamespace
    GROUP BY i.relname, x.indpred
"""


def table_indexes(table: str) -> list[TableIndex]:
    """Every index of a table, as the database holds it (the primary key's too)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(_POSTGRESQL_INDEXES, [table])
            return [TableIndex(name, tuple(columns), partial, bool(prefixes))
                    for name, columns, partial, prefixes in cursor.fetchall()]  # fmt: skip
        indexes = [TableIndex(f"{table} (rowid)", ("id",), False, False)]
        cursor.execute(f"PRAGMA index_list({connection.ops.quote_name(table)})")
        for _seq, name, _unique, _origin, partial in cursor.fetchall():
            cursor.execute(f"PRAGMA index_info({connection.ops.quote_name(name)})")
            columns = tuple(column for _rank, _cid, column in cursor.fetchall())
            indexes.append(TableIndex(name, columns, bool(partial), False))
        return indexes
