"""The public site under local HTTP load, beside a bare view, in the same run.

A fresh SQLite database with a year of published figures (the rollups of 365 days of
declarations from every province, by organization and channel), `tuidang serve` serving
the hotline, and wrk asking, in alternating rounds, for a bare Django page (middleware and
a constant body: the floor) and for what a news story sends readers to: the home page
(in Simplified and Traditional Chinese), the history's charts, and the open data's files.
Each is served from Django's cache (public/cache.py) once its generation is computed: the
target is 3,000 req/s for the home page and the data files, and the ratio to the bare page
says how close to the floor a cached page comes. Results are printed and written into
docs/benchmarks.md.

Traffic goes to 127.0.0.1 only; every run is bounded in time.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
from datetime import UTC, datetime

from bench.common import (
    HOST,
    PORT,
    ROOT,
    machine,
    prepare_database,
    server_env,
    serving_defaults,
    start_server,
    stop_server,
    update_docs,
)

ENDPOINTS = (
    ("bare page", "/bench/page", "en"),
    ("home page, zh-Hans", "/", "zh-hans"),
    ("home page, zh-Hant", "/", "zh-hant"),
    ("history (charts)", "/history", "zh-hans"),
    ("totals.json", "/data/totals.json", "en"),
    ("daily.csv", "/data/daily.csv", "en"),
)

# A year of figures, written as an import writes them: one Tally, saved once.
FILL = """
from datetime import date, timedelta
from django.db import transaction
from tuidang.declarations.services import Tally
from tuidang.lib.regions import MAINLAND
tally = Tally()
first = date.today() - timedelta(days=365)
for n in range(365):
    for i, region in enumerate(MAINLAND):
        tally.add(day=first + timedelta(days=n), organizations=["party", "youth_league"][: 1 + (n + i) % 2],
                  region=region, channel=["hotline", "relayed", "web"][(n + i) % 3], step=1 + (n * i) % 7)
with transaction.atomic():
    tally.save()
from tuidang.calls.models import HotlineNumber
HotlineNumber.objects.update(public=True)
"""


def run_wrk(path: str, language: str, connections: int, seconds: int) -> dict[str, float]:
    threads = min(2, connections)
    output = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "5s",
         "--latency", "-H", f"Accept-Language: {language}",
         # As every browser asks (the public pages and data files are kept gzipped too).
         "-H", "Accept-Encoding: gzip, deflate, br", f"http://{HOST}:{PORT}{path}"],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    ).stdout  # fmt: skip
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "rps": rps,
        "p50_ms": _millis(re.search(r"50%\s+([\d.]+\w+)", output).group(1)),  # type: ignore[union-attr]
        "p99_ms": _millis(re.search(r"99%\s+([\d.]+\w+)", output).group(1)),  # type: ignore[union-attr]
        "errors": float(errors.group(1)) if errors else 0.0,
        "requests": float(requests),
        "seconds": requests / rps if rps else float(seconds),
    }


def _millis(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def measure(connections: int, args: argparse.Namespace) -> list[dict[str, object]]:
    """Every endpoint in alternating rounds, after one warm-up round (which computes each
    page once per process): req/s over all rounds, p50 and p99 the median round's."""
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name, _p, _l in ENDPOINTS}
    for index in range(args.rounds + 1):
        for name, path, language in ENDPOINTS:
            if index == 0:
                run_wrk(path, language, connections, 1)
                continue
            rounds[name].append(run_wrk(path, language, connections, args.seconds))
    rows: list[dict[str, object]] = []
    for name, results in rounds.items():
        row = {
            "connections": connections,
            "endpoint": name,
            "rps": sum(r["requests"] for r in results) / sum(r["seconds"] for r in results),
            "p50_ms": statistics.median(r["p50_ms"] for r in results),
            "p99_ms": statistics.median(r["p99_ms"] for r in results),
            "errors": int(sum(r["errors"] for r in results)),
        }
        rows.append(row)
        print(f"c={connections:<3} {name:20} {row['rps']:8.0f} req/s  p50 {row['p50_ms']:6.2f} ms  "
              f"p99 {row['p99_ms']:6.2f} ms  errors {row['errors']}", flush=True)  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=4, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, nargs="+", default=[8, 64])
    parser.add_argument("--workers", type=int, help="default: as `tuidang serve` chooses")
    parser.add_argument("--threads", type=int, help="default: as `tuidang serve` chooses")
    parser.add_argument("--redis", help="a Redis URL for the cache (default: each process's own)")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")

    work = ROOT / "var" / "bench-public"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    url = f"sqlite:///{work / 'bench.sqlite3'}"
    env = server_env(url, work)
    if args.redis:
        env["REDIS_URL"] = args.redis
    prepare_database(url, env)
    subprocess.run(
        [sys.executable, "-m", "tuidang.manage", "shell", "-c", FILL], env=env, check=True
    )
    default_workers, default_threads = serving_defaults()
    workers, threads = args.workers or default_workers, args.threads or default_threads
    server = start_server(env, workers, threads)
    rows: list[dict[str, object]] = []
    try:
        for connections in args.connections:
            rows += measure(connections, args)
    finally:
        stop_server(server)
    report = render(rows, args, f"{workers} × {threads}")
    print(report)
    if args.write_docs:
        update_docs("public-bench", report)


def render(rows: list[dict[str, object]], args: argparse.Namespace, shape: str) -> str:
    cache = "Redis" if args.redis else "files under var/cache (no Redis)"
    lines = [
        f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}, SQLite, "
        f"the shared cache in {cache}, each process holding a page a second, "
        "every request asking with `Accept-Encoding: gzip, deflate, br` as browsers do, "
        f"`tuidang serve` (granian) processes × threads: {shape}; "
        f"wrk in {args.rounds} alternating rounds of {args.seconds} s per cell.",
        "",
        "| connections | endpoint | req/s | p50 ms | p99 ms | errors | ÷ bare page |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    bare = {r["connections"]: r["rps"] for r in rows if r["endpoint"] == "bare page"}
    for r in rows:
        ratio = "" if r["endpoint"] == "bare page" else f"{r['rps'] / bare[r['connections']]:.0%}"  # type: ignore[operator]
        lines.append(
            f"| {r['connections']} | {r['endpoint']} | {r['rps']:.0f} | {r['p50_ms']:.2f} | "
            f"{r['p99_ms']:.2f} | {r['errors']} | {ratio} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
