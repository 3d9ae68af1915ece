"""The published statements' pages with a million statements behind them, against a bare
view in the same run.

A fresh SQLite database (or PostgreSQL with --postgres, at BENCH_POSTGRES_URL) is filled
below the ORM with COUNT published statements of web declarations, each with its bigrams,
spread over a year, the provinces and the organizations. Then, in this process through
Django's whole request stack (the test client: no network, no port), alternating: the
bare view, the list's first page, a page deep in the list (keyset, by id), a province, an
organization, a day, a Chinese search (and one for two words no statement holds together)
and a permalink; the median and p99 of each, and
the p99 against the bare view's.

`make bench` runs it with the million; try it with `--count 2000` while working.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
import uuid
from datetime import date, timedelta
from typing import Any

from bench.common import (
    PG_URL,
    ROOT,
    fresh_sqlite,
    machine,
    prepare_database,
    server_env,
    update_docs,
)

WORK = ROOT / "var" / "bench-statements"
PHRASES = [
    "我今天退出共青团，心里踏实了。",
    "全家一起三退，远离谎言。",
    "退出少先队，不再被欺骗。",
    "看了九评，明白了真相，声明退党。",
    "在钞票上看到电话号码，打过去退了党。",
    "愿天下人都看清真相，平安。",
]
SEARCH = "心里踏实"
SEARCH_APART = "踏实 九评"
CHUNK = 20_000


def fill(count: int, seed: int = 7) -> None:
    """COUNT published statements, a chunk at a time, below the ORM (lib/bulk.py)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from tuidang.declarations.models import Declaration, Statement, StatementGram
    from tuidang.declarations.statements import grams
    from tuidang.lib.bulk import bulk_insert, db_value
    from tuidang.lib.regions import MAINLAND

    rng = random.Random(seed)  # noqa: S311 - made-up data, the same every run
    provinces = list(MAINLAND)
    first_day = date(2026, 1, 1)
    phrase_grams = [sorted(grams(f"某人 {phrase}")) for phrase in PHRASES]
    declaration_fields = [
        "id", "public_id", "subject", "relationship", "party", "youth_league", "young_pioneers",
        "declared_on", "region", "how_heard", "channel", "alias_sealed", "statement_sealed",
        "consent_to_publish", "created_at", "receipt_salt",
    ]  # fmt: skip
    statement_fields = [
        "id", "declaration_id", "status", "text", "alias", "region", "party", "youth_league",
        "young_pioneers", "declared_on", "published_at", "rejection", "created_at",
    ]  # fmt: skip
    now = db_value(timezone.now())
    done = 0
    while done < count:
        size = min(CHUNK, count - done)
        declarations, statements, index = [], [], []
        for n in range(done + 1, done + size + 1):
            day = db_value(first_day + timedelta(days=n * 365 // max(count, 1)))
            region = rng.choice(provinces)
            orgs = [rng.random() < 0.5, rng.random() < 0.5, False]
            orgs[2] = not any(orgs)
            which = rng.randrange(len(PHRASES))
            declarations.append((
                n, db_value(uuid.uuid4()), "self", "", *orgs, day, region, "website", "web",
                b"", b"", True, now, b"",
            ))  # fmt: skip
            statements.append(
                (n, n, "published", PHRASES[which], "某人", region, *orgs, day, now, "", now)
            )
            index.extend((gram, n) for gram in phrase_grams[which])
        with transaction.atomic():
            bulk_insert(Declaration, declaration_fields, declarations)
            bulk_insert(Statement, statement_fields, statements)
            bulk_insert(StatementGram, ["gram", "statement_id"], index)
        done += size
        print(f"{done} statements", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def timed(client: Any, path: str, samples: int) -> list[float]:
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return times


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def measure(count: int, samples: int, rounds: int) -> list[dict[str, Any]]:
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    deep = count // 2
    pages = {
        "bare view": "/bench/bare",
        "list, first page": "/statements",
        "list, a page half way down": f"/statements?before={deep}",
        "by province": "/statements?region=CN-GD",
        "by organization": "/statements?organization=young_pioneers",
        "by day": "/statements?day=2026-06-01",
        "search in Chinese": f"/statements?q={SEARCH}",
        # Two common words no statement holds both of: the search reads one window of ids
        # (declarations/statements.py, SEARCH_WINDOW) and says it will go on below it.
        "search, two words never together": f"/statements?q={SEARCH_APART}",
        "permalink": f"/statements/{deep}",
    }
    results: dict[str, list[float]] = {kind: [] for kind in pages}
    for round_ in range(rounds + 1):
        for kind, path in pages.items():
            times = timed(client, path, samples if round_ else 3)
            if round_:  # the first round warms caches
                results[kind].extend(times)
    bare = percentile(results["bare view"], 0.99)
    rows = []
    for kind, times in results.items():
        p99 = percentile(times, 0.99)
        rows.append(
            {
                "kind": kind,
                "median_ms": statistics.median(times),
                "p99_ms": p99,
                "ratio": p99 / bare,
            }
        )
        print(rows[-1], flush=True)
    return rows


def render(rows: list[dict[str, Any]], args: argparse.Namespace, vendor: str) -> str:
    lines = [
        f"{machine()}; {args.count:,} published statements on {vendor}; through Django's "
        f"request stack in one process, {args.rounds} rounds of {args.samples} requests of "
        "each page, alternating.",
        "",
        "| page | median ms | p99 ms | p99 ÷ bare view's |",
        "| --- | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row['kind']} | {row['median_ms']:.2f} | {row['p99_ms']:.2f} | {row['ratio']:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    url = PG_URL if args.postgres else fresh_sqlite(WORK)
    env = server_env(url, WORK)
    prepare_database(url, env)
    os.environ.update(env)
    import django

    django.setup()
    from django.db import connection

    fill(args.count)
    rows = measure(args.count, args.samples, args.rounds)
    report = render(rows, args, connection.vendor)
    print(report)
    if args.write_docs:
        update_docs("statements-bench", report)


if __name__ == "__main__":
    main()
