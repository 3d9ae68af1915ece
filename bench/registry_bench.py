"""The registry in bulk: importing history, proving receipts, and statistics over years.

For SQLite and then PostgreSQL, each on a fresh database of its own:

1. A history of declarations is generated (dates over ten years in the order an old
   registry exports them, 31 provinces and the unknown, six channels, every combination of
   organizations, family members, aliases). The first ``--rows`` (1,000,000) are imported
   in chunks, and before each chunk the same rows go into a plain table of the same
   columns with one ``executemany`` per batch of 10,000: the baseline, measured side by side
   with the import so both see the same noise on a shared machine. The import is the real
   service (``import_declarations``): keys checked, aliases sealed, log entries hashed and
   appended with their tiles, rollups and daily totals upserted, one transaction a batch.
2. The log is checked (the root computed from the tiles equals the stored head), a
   checkpoint signed, and inclusion proofs timed for random entries, each from a fresh
   tree read from the tiles and the checkpoint's compact range, as a receipt check makes it; every proof is verified against
   the signed root. Baseline: reading one log entry by its index through the ORM.
3. More history is imported, up to ``--stats-rows`` (10,000,000) or until the time budget
   for it runs out, and a year of statistics by region (``counts_by_region``, a year that
   starts mid-month, for each organization) is timed against the same question answered
   by a COUNT … GROUP BY over the declarations.
4. Bytes per declaration, per table and its indexes, and a projection to 500 million.

Everything runs on this machine against local databases; each phase is bounded by a count
and the growth phase also by time. Results are printed and, with --write-docs, written
into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import PG_URL, PYTHON, ROOT, machine, prepare_database, server_env, update_docs

CHUNK = 100_000
BATCH = 10_000
FIRST_DAY, DAYS = date(2015, 1, 1), 3653  # ten years, 2015 to 2024
PROJECTED = 500_000_000

# Provinces weighted roughly by population (in millions); "" is a declaration whose
# province nobody recorded.
PROVINCES = {
    "Guangdong": 126, "Shandong": 102, "Henan": 99, "Jiangsu": 85, "Sichuan": 84,
    "Hebei": 75, "Hunan": 66, "Zhejiang": 65, "Anhui": 61, "Hubei": 58, "Guangxi": 50,
    "Yunnan": 47, "Jiangxi": 45, "Liaoning": 43, "Fujian": 41, "Shaanxi": 40, "Guizhou": 39,
    "Shanxi": 35, "Chongqing": 32, "Heilongjiang": 31, "Xinjiang": 26, "Gansu": 25,
    "Inner Mongolia": 24, "Shanghai": 25, "Jilin": 24, "Beijing": 22, "Tianjin": 14,
    "Hainan": 10, "Ningxia": 7, "Qinghai": 6, "Tibet": 4, "": 40,
}  # fmt: skip
CHANNELS = {"hotline": 40, "relayed": 20, "web": 25, "email": 8, "fax": 4, "in_person": 3}
ORGANIZATION_SETS = {
    ("party",): 25, ("youth_league",): 20, ("young_pioneers",): 15,
    ("party", "youth_league"): 15, ("youth_league", "young_pioneers"): 15,
    ("party", "youth_league", "young_pioneers"): 10,
}  # fmt: skip
RELATIONSHIPS = ["parent", "spouse", "child", "sibling", "grandparent", "grandchild", "relative"]
SURNAMES = "Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin".split()  # noqa: SIM905
GIVEN = "Wei Fang Min Jing Li Qiang Lei Jun Yang Yong Yan Jie Tao Ming Chao Xiu Hua Hong".split()  # noqa: SIM905


def history(total: int, seed: int) -> Iterator[list[Any]]:
    """Chunks of ``Row``s, ``total`` in all, spread evenly over the ten years in order."""
    from tuidang.declarations.imports import Row
    from tuidang.lib.regions import region_from_text

    rng = random.Random(seed)  # noqa: S311 - reproducible data, not a secret
    # As the registry keeps them: codes of the closed list.
    provinces = [region_from_text(name) or "" for name in PROVINCES]
    province_weights = list(PROVINCES.values())
    channels, channel_weights = list(CHANNELS), list(CHANNELS.values())
    org_sets = [frozenset(s) for s in ORGANIZATION_SETS]
    org_weights = list(ORGANIZATION_SETS.values())
    for start in range(0, total, CHUNK):
        count = min(CHUNK, total - start)
        region = rng.choices(provinces, province_weights, k=count)
        channel = rng.choices(channels, channel_weights, k=count)
        orgs = rng.choices(org_sets, org_weights, k=count)
        chunk = []
        for i in range(count):
            n = start + i
            family = rng.random() < 0.3
            chunk.append(
                Row(
                    line=n + 2,
                    key=f"hist-{n:010d}",
                    declared_on=FIRST_DAY + timedelta(days=n * DAYS // total),
                    organizations=orgs[i],
                    region=region[i],
                    channel=channel[i],
                    relationship=rng.choice(RELATIONSHIPS) if family else "",
                    alias=f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}"
                    if rng.random() < 0.4
                    else "",
                    consent=rng.random() < 0.1,
                )
            )
        yield chunk


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def summary(samples: list[float]) -> dict[str, float]:
    return {"median_ms": statistics.median(samples), "p99_ms": percentile(samples, 0.99)}


# --- inside the database's own process -------------------------------------------------


def run_one(args: argparse.Namespace) -> dict[str, Any]:
    import django

    django.setup()
    from django.db import connection

    result: dict[str, Any] = {"vendor": connection.vendor}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            result["server"] = f"PostgreSQL {cursor.fetchone()[0].split()[0]}"
    else:
        import sqlite3

        result["server"] = f"SQLite {sqlite3.sqlite_version}"
    total = max(args.rows, args.stats_rows)
    chunks = history(total, seed=2026)
    result["import"] = import_side_by_side(chunks, args.rows)
    result["log"] = check_log()
    result["proofs"] = time_proofs(args.proofs, seed=1)
    result["growth"] = grow(chunks, args.rows, total, args.budget)
    if result["growth"]["declarations"] > args.rows:
        result["log_after_growth"] = check_log()
        result["proofs_after_growth"] = time_proofs(args.proofs, seed=2)
    result["stats"] = time_statistics(args.stats_repeat)
    result["sizes"] = sizes()
    return result


def plain_table() -> tuple[str, str]:
    """A table of the declaration row's columns and types, with no key, index or
    constraint; its INSERT statement."""
    from django.db import connection

    from tuidang.declarations.imports.batches import _Batch
    from tuidang.declarations.models import Declaration

    quote = connection.ops.quote_name
    fields = [Declaration._meta.get_field(name) for name in _Batch.FIELDS]
    columns = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in fields)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE bench_plain ({columns})")
    names = ", ".join(quote(f.column) for f in fields)
    return (
        "bench_plain",
        f"INSERT INTO bench_plain ({names}) VALUES ({', '.join(['%s'] * len(fields))})",
    )


def plain_rows(rows: list[Any]) -> list[tuple[Any, ...]]:
    """The rows as plain column values (nothing sealed, hashed or counted)."""
    from django.db import connection

    from tuidang.lib.bulk import db_value

    native = connection.features.has_native_uuid_field
    now = db_value(datetime.now(UTC))
    out = []
    for n, row in enumerate(rows):
        raw = os.urandom(16)
        out.append(
            (
                str(uuid.UUID(bytes=raw)) if native else raw.hex(),
                "family" if row.relationship else "self",
                row.relationship,
                "party" in row.organizations,
                "youth_league" in row.organizations,
                "young_pioneers" in row.organizations,
                db_value(row.declared_on),
                row.region,
                "",
                row.channel,
                row.alias.encode(),
                b"",
                row.consent,
                now,
                raw[:10],
                row.key,
                n,
            )
        )
    return out


def import_side_by_side(chunks: Iterator[list[Any]], rows: int) -> dict[str, Any]:
    from django.db import connection, transaction

    from tuidang.declarations.imports import import_declarations, registry_analyze

    _, insert = plain_table()
    plain_s = import_s = plain_cpu = import_cpu = 0.0
    done = 0
    while done < rows:
        chunk = next(chunks)
        plain = plain_rows(chunk)
        started, cpu = time.perf_counter(), processor_time()
        for start in range(0, len(plain), BATCH):
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(insert, plain[start : start + BATCH])
        plain_s += time.perf_counter() - started
        plain_cpu += processor_time() - cpu
        started, cpu = time.perf_counter(), processor_time()
        imported, skipped = import_declarations(chunk, batch_size=BATCH)
        import_s += time.perf_counter() - started
        import_cpu += processor_time() - cpu
        if imported != len(chunk) or skipped:
            raise SystemExit(f"imported {imported} of {len(chunk)}, {skipped} skipped")
        done += len(chunk)
        if done >= rows:
            # As `tuidang import-declarations` does once it has imported.
            started = time.perf_counter()
            registry_analyze()
            import_s += time.perf_counter() - started
        print(
            f"  {done:>10,} rows: plain {done / plain_s:>9,.0f}/s, import {done / import_s:>9,.0f}/s",
            flush=True,
        )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_plain")
    return {
        "rows": done,
        "plain_per_s": done / plain_s,
        "import_per_s": done / import_s,
        "ratio": plain_s / import_s,
        # The import's processes' processor time: all of SQLite's work, none of PostgreSQL's.
        "cpu_ratio": plain_cpu / import_cpu,
    }


def processor_time() -> float:
    """Seconds of processor time of this process and of the children it has waited for:
    the import's second process, once it has finished, counts too."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def check_log() -> dict[str, Any]:
    """The root from the tiles equals the stored head; a checkpoint signed over it."""
    from tuidang.declarations.models import Declaration
    from tuidang.tlog.models import TreeHead
    from tuidang.tlog.services import HEAD, log_checkpoint_sign, tree_hashes

    head = TreeHead.objects.get(pk=HEAD)
    started = time.perf_counter()
    root = tree_hashes(head.size).root()
    root_ms = (time.perf_counter() - started) * 1000
    if root != bytes(head.root):
        raise SystemExit("the root from the tiles differs from the stored tree head")
    started = time.perf_counter()
    checkpoint = log_checkpoint_sign()
    sign_ms = (time.perf_counter() - started) * 1000
    if checkpoint is None or checkpoint.size != head.size:
        raise SystemExit("no checkpoint was signed at the log's size")
    if Declaration.objects.count() != head.size:
        raise SystemExit("declarations and log entries differ in number")
    return {"size": head.size, "root_ms": root_ms, "sign_ms": sign_ms}


def time_proofs(count: int, seed: int) -> dict[str, Any]:
    from tuidang.tlog import merkle
    from tuidang.tlog.models import LogEntry, SignedCheckpoint
    from tuidang.tlog.services import tree_hashes

    checkpoint = SignedCheckpoint.objects.order_by("-size").first()
    assert checkpoint is not None
    size, root, frontier = checkpoint.size, bytes(checkpoint.root), checkpoint.frontier_hashes()
    rng = random.Random(seed)  # noqa: S311 - which entries to prove, not a secret
    indexes = [rng.randrange(size) for _ in range(count)]
    proof_ms, read_ms = [], []
    for index in indexes:
        started = time.perf_counter()
        proof = tree_hashes(size, frontier).inclusion_proof(index)
        proof_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        leaf = LogEntry.objects.filter(index=index).values_list("leaf_hash", flat=True).get()
        read_ms.append((time.perf_counter() - started) * 1000)
        merkle.verify_inclusion(bytes(leaf), index, size, proof, root)
    return {"size": size, "count": count, "proof": summary(proof_ms), "read": summary(read_ms)}


def grow(chunks: Iterator[list[Any]], done: int, total: int, budget: float) -> dict[str, Any]:
    """Import the rest of the history, as long as the time budget lasts."""
    from tuidang.declarations.imports import import_declarations, registry_analyze

    started = time.perf_counter()
    first = done
    for chunk in chunks:
        if time.perf_counter() - started > budget:
            break
        import_declarations(chunk, batch_size=BATCH)
        done += len(chunk)
        if done % 1_000_000 == 0 or done == total:
            rate = (done - first) / (time.perf_counter() - started)
            print(f"  {done:>10,} rows, {rate:,.0f}/s", flush=True)
    registry_analyze()
    elapsed = time.perf_counter() - started
    return {
        "declarations": done,
        "imported": done - first,
        "per_s": (done - first) / elapsed if done > first else 0.0,
        "stopped_by_budget": done < total,
    }


def time_statistics(repeat: int) -> dict[str, Any]:
    """A year by region, for each organization: from the rollups, and by counting."""
    from django.db.models import Count

    from tuidang.declarations.models import DailyTotal, Declaration, Organization
    from tuidang.declarations.selectors import counts_by_region

    last = DailyTotal.objects.order_by("-day").values_list("day", flat=True).first()
    assert last is not None
    until = last.replace(day=14)  # a year that starts and ends mid-month: days at both ends
    since = until - timedelta(days=364)
    rollup_ms, count_ms = [], []
    for _ in range(repeat):
        for organization in Organization.values:
            started = time.perf_counter()
            fast = counts_by_region(since=since, until=until, organization=organization)
            rollup_ms.append((time.perf_counter() - started) * 1000)
    for organization in Organization.values:
        # The baseline is slow: a few runs tell its time.
        for _ in range(max(1, min(3, repeat))):
            started = time.perf_counter()
            counted = dict(
                Declaration.objects.filter(
                    declared_on__gte=since,
                    declared_on__lte=until,
                    revocation__isnull=True,
                    **{organization: True},
                )
                .values_list("region")
                .annotate(n=Count("id"))
            )
            count_ms.append((time.perf_counter() - started) * 1000)
        fast = counts_by_region(since=since, until=until, organization=organization)
        if fast != {region: n for region, n in counted.items() if n}:
            raise SystemExit(f"the rollups and the declarations disagree for {organization}")
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "declarations": Declaration.objects.count(),
        "rollups": summary(rollup_ms),
        "count": summary(count_ms),
        "samples": [len(rollup_ms), len(count_ms)],
    }


GROUPS = {
    "declarations_declaration": "declarations",
    "tlog_logentry": "log entries",
    "tlog_tilenode": "tiles",
    "tlog_fulltile": "tiles",
    "declarations_rollup": "rollups",
    "declarations_monthlyrollup": "rollups",
    "declarations_dailytotal": "rollups",
}


def sizes() -> dict[str, Any]:
    """Bytes per table and for its indexes, of the registry's tables."""
    from django.db import connection

    from tuidang.declarations.models import DailyTotal, Declaration, MonthlyRollup, Rollup

    tables: dict[str, dict[str, int]] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("CHECKPOINT")
            for table in GROUPS:
                cursor.execute(
                    "SELECT pg_table_size(%s::regclass), pg_indexes_size(%s::regclass)",
                    [table, table],
                )
                data, indexes = cursor.fetchone()
                tables[table] = {"data": int(data), "indexes": int(indexes)}
        else:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            cursor.execute(
                "SELECT m.tbl_name, m.type, SUM(s.pgsize) FROM dbstat s "
                "JOIN sqlite_master m ON m.name = s.name GROUP BY m.tbl_name, m.type"
            )
            for table, kind, size in cursor.fetchall():
                if table in GROUPS:
                    entry = tables.setdefault(table, {"data": 0, "indexes": 0})
                    entry["data" if kind == "table" else "indexes"] += int(size)
    cells = Rollup.objects.count() + MonthlyRollup.objects.count() + DailyTotal.objects.count()
    return {"declarations": Declaration.objects.count(), "cells": cells, "tables": tables}


# --- the run as a whole ----------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="imported beside the baseline")
    parser.add_argument(
        "--stats-rows", type=int, default=10_000_000, help="declarations for the statistics"
    )
    parser.add_argument(
        "--budget",
        type=float,
        help="seconds for importing up to --stats-rows (default: 540 on SQLite, 120 on PostgreSQL)",
    )
    parser.add_argument("--proofs", type=int, default=1000)
    parser.add_argument("--stats-repeat", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="200,000 rows, 500,000 for statistics")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.rows, args.stats_rows = 200_000, 500_000
    if args.rows < CHUNK or args.rows % CHUNK:
        parser.error(f"--rows must be a multiple of {CHUNK:,}")
    if args.child:
        args.output.write_text(json.dumps(run_one(args)))
        return

    work = ROOT / "var" / "bench-registry"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    databases = [("SQLite", f"sqlite:///{work / 'registry.sqlite3'}", 540.0)]
    if not args.skip_postgres:
        databases.append(
            ("PostgreSQL", PG_URL.rsplit("/", 1)[0] + "/tuidang_bench_registry", 120.0)
        )
    results = {}
    for label, url, budget in databases:
        print(f"{label}:", flush=True)
        env = server_env(url, work)
        # As `tuidang import-declarations` runs in production: checkpoints are signed by
        # the task worker (here, once after the import), not inside the import.
        env["TASKS_BACKEND"] = "database"
        prepare_database(url, env)
        output = work / f"{label}.json"
        command = [PYTHON, "-m", "bench.registry_bench", "--child", label, "--output", str(output),
                   "--rows", str(args.rows), "--stats-rows", str(args.stats_rows),
                   "--budget", str(args.budget or budget), "--proofs", str(args.proofs),
                   "--stats-repeat", str(args.stats_repeat)]  # fmt: skip
        try:
            subprocess.run(command, env=env, check=True, cwd=ROOT)
            results[label] = json.loads(output.read_text())
        finally:
            drop_database(url, work)
    report = render(results, args)
    print(report)
    if args.write_docs:
        update_docs("registry-bench", report)


def drop_database(url: str, work: Path) -> None:
    if url.startswith("postgres"):
        import psycopg

        admin, name = url.rsplit("/", 1)
        with psycopg.connect(admin + "/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
    else:
        for path in work.glob("registry.sqlite3*"):
            path.unlink()


def render(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    servers = ", ".join(r["server"] for r in results.values())
    lines = [
        f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}, {servers}.",
        "",
        "| | " + " | ".join(results) + " |",
        "| --- |" + " --- |" * len(results),
    ]

    def row(label: str, cell: Any) -> None:
        lines.append(f"| {label} | " + " | ".join(cell(r) for r in results.values()) + " |")

    row(
        f"plain executemany, {args.rows:,} rows (baseline)",
        lambda r: f"{r['import']['plain_per_s']:,.0f} rows/s",
    )
    row(
        "import with log and rollups, same rows",
        lambda r: f"{r['import']['import_per_s']:,.0f} declarations/s",
    )
    row("import ÷ plain executemany", lambda r: f"{r['import']['ratio']:.1%}")
    row(
        "the same in processor time of the importing processes",
        lambda r: (
            f"{r['import']['cpu_ratio']:.1%}" if r["vendor"] == "sqlite" else "(in the server)"
        ),
    )
    row(
        "import, growing the table further",
        lambda r: (
            f"{r['growth']['per_s']:,.0f} declarations/s "
            f"(to {r['growth']['declarations']:,}"
            + (", stopped by its time budget)" if r["growth"]["stopped_by_budget"] else ")")
        ),
    )
    row(
        "root from tiles = stored head; sign a checkpoint",
        lambda r: (
            f"yes at {r['log']['size']:,}: {r['log']['root_ms']:.1f} ms; "
            f"{r['log']['sign_ms']:.1f} ms"
        ),
    )
    for key in ("proofs", "proofs_after_growth"):

        def proof(r: dict[str, Any], key: str = key) -> str:
            if key not in r:
                return ""
            p = r[key]
            return (
                f"{p['proof']['median_ms']:.2f} / {p['proof']['p99_ms']:.2f} ms "
                f"(read one entry: {p['read']['median_ms']:.2f} / {p['read']['p99_ms']:.2f} ms) "
                f"at {p['size']:,}"
            )

        if any(key in r for r in results.values()):
            row("inclusion proof from tiles, median / p99", proof)
    row(
        "a year by region (`counts_by_region`), median / p99",
        lambda r: (
            f"{r['stats']['rollups']['median_ms']:.1f} / {r['stats']['rollups']['p99_ms']:.1f} ms "
            f"with {r['stats']['declarations']:,} declarations"
        ),
    )
    row(
        "the same by COUNT … GROUP BY over declarations, median",
        lambda r: (
            f"{r['stats']['count']['median_ms']:,.0f} ms "
            f"({r['stats']['count']['median_ms'] / r['stats']['rollups']['median_ms']:,.0f}× slower)"
        ),
    )
    lines += ["", "Bytes per declaration (table + its indexes):", ""]
    lines += ["| | " + " | ".join(results) + " |", "| --- |" + " --- |" * len(results)]
    groups = list(dict.fromkeys(GROUPS.values()))
    for group in groups:

        def per_entry(r: dict[str, Any], group: str = group) -> str:
            tables = [t for name, t in r["sizes"]["tables"].items() if GROUPS[name] == group]
            n = r["sizes"]["declarations"]
            data = sum(t["data"] for t in tables) / n
            indexes = sum(t["indexes"] for t in tables) / n
            return f"{data + indexes:,.0f} ({data:,.0f} + {indexes:,.0f})"

        row(group, per_entry)

    def total(r: dict[str, Any]) -> str:
        n = r["sizes"]["declarations"]
        size = sum(t["data"] + t["indexes"] for t in r["sizes"]["tables"].values())
        return f"**{size / n:,.0f}** with {n:,} declarations, {r['sizes']['cells']:,} rollup cells"

    row("all", total)

    def projection(r: dict[str, Any]) -> str:
        n = r["sizes"]["declarations"]
        tables = r["sizes"]["tables"]
        growing = sum(t["data"] + t["indexes"] for k, t in tables.items() if GROUPS[k] != "rollups")
        rollups = sum(t["data"] + t["indexes"] for k, t in tables.items() if GROUPS[k] == "rollups")
        per_cell = rollups / r["sizes"]["cells"]
        # At most every (organization, region, channel) cell each day for 20 years, and
        # the months: rollups grow with days, not with declarations.
        cells = 20 * 366 * 3 * len(PROVINCES) * len(CHANNELS) * (1 + 1 / 28)
        return (
            f"{growing / n * PROJECTED / 1e9:,.0f} GB + rollups ≤ {per_cell * cells / 1e9:,.1f} GB"
        )

    row(f"projected to {PROJECTED:,} declarations over 20 years", projection)
    return "\n".join(lines)


if __name__ == "__main__":
    main()
