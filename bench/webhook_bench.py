"""The incoming-call webhook under local HTTP load, beside a bare view, on SQLite and PostgreSQL.

For each database: a fresh database, `tuidang serve` serving the hotline, and wrk replaying
requests built exactly as Twilio sends them (unique CallSids, signed with the account's
token) at 8 and 64 connections, in rounds that alternate with the same load on a bare
Django view that does one SELECT and one INSERT. Results are printed and written into
docs/benchmarks.md.

Traffic goes to 127.0.0.1 only; every run is bounded in time.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import secrets
import shutil
import statistics
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

from bench.common import (
    HOTLINE,
    PG_URL,
    ROOT,
    TELEPHONY,
    TOKEN,
    prepare_database,
    server_env,
    serving_defaults,
    start_server,
    stop_server,
    update_docs,
)

# Where each request file's callers start; a file holds far fewer than a million.
CALLER_BLOCKS = itertools.count(0, 1_000_000)


def write_requests(path: Path, url_path: str, count: int, first_caller: int = 0) -> None:
    """``count`` signed requests, each with a new CallSid, from callers numbered on from
    ``first_caller`` (so that no caller rings twice in a run unless asked to)."""
    from twilio.request_validator import RequestValidator

    validator = RequestValidator(TOKEN)
    url = f"{TELEPHONY}{url_path}"
    with path.open("w") as handle:
        for index in range(first_caller, first_caller + count):
            caller = f"+86138{index % 100_000_000:08d}"
            params = {
                "AccountSid": "AC" + "0" * 32, "ApiVersion": "2010-04-01",
                "CallSid": "CA" + secrets.token_hex(16), "CallStatus": "ringing",
                "Called": HOTLINE, "Caller": caller, "Direction": "inbound",
                "From": caller, "FromCity": "", "FromCountry": "CN", "FromState": "",
                "FromZip": "", "To": HOTLINE, "ToCity": "", "ToCountry": "US",
                "ToState": "", "ToZip": "",
            }  # fmt: skip
            signature = validator.compute_signature(url, params)
            handle.write(f"{url_path}\t{signature}\t{urlencode(params)}\n")


def run_wrk(
    requests_file: Path, connections: int, seconds: int, base: str = TELEPHONY
) -> dict[str, float]:
    threads = min(2, connections)
    env = dict(os.environ, REQUESTS_FILE=str(requests_file), WRK_THREADS=str(threads))
    output = subprocess.run(
        ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--timeout", "5s",
         "-s", str(ROOT / "bench" / "signed_requests.lua"), f"{base}/"],
        env=env, capture_output=True, text=True, check=True, timeout=seconds + 60,
    ).stdout  # fmt: skip
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    result = json.loads(line.removeprefix("RESULT "))
    return {
        "rps": result["requests"] / result["seconds"],
        "p50_ms": result["p50_us"] / 1000,
        "p99_ms": result["p99_us"] / 1000,
        "errors": result["errors"],
        "requests": result["requests"],
        "seconds": result["seconds"],
    }


ENDPOINTS = (("bare view", "/bench/bare"), ("incoming-call webhook", "/telephony/twilio/voice"))


def measure(
    label: str, connections: int, work: Path, args: argparse.Namespace
) -> list[dict[str, object]]:
    """Bare view and webhook in alternating rounds, so that a burst of other work on the
    machine falls on both alike: req/s over all rounds, p50 and p99 the median round's."""
    count = max(10_000, 2_500 * args.seconds)
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name, _path in ENDPOINTS}
    for index in range(args.rounds + 1):
        for name, path in ENDPOINTS:
            requests_file = work / f"requests-{path.strip('/').replace('/', '-')}.tsv"
            # New CallSids and new callers every round: each call is a caller's first.
            write_requests(requests_file, path, count=count, first_caller=next(CALLER_BLOCKS))
            if index == 0:
                run_wrk(requests_file, connections, 2)  # warm-up: caches, connections
                continue
            rounds[name].append(run_wrk(requests_file, connections, args.seconds))
    rows: list[dict[str, object]] = []
    for name, results in rounds.items():
        p99s = [r["p99_ms"] for r in results]
        row = {
            "database": label,
            "connections": connections,
            "endpoint": name,
            "rps": sum(r["requests"] for r in results) / sum(r["seconds"] for r in results),
            "p50_ms": statistics.median(r["p50_ms"] for r in results),
            "p99_ms": statistics.median(p99s),
            "errors": int(sum(r["errors"] for r in results)),
        }
        rows.append(row)
        print(f"{label:10} c={connections:<3} {name:22} {row['rps']:8.0f} req/s  "
              f"p50 {row['p50_ms']:6.2f} ms  p99 {row['p99_ms']:6.2f} ms "
              f"(rounds: {', '.join(f'{p:.1f}' for p in p99s)})  "
              f"errors {row['errors']}", flush=True)  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=4, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, help="default: as `tuidang serve` chooses")
    parser.add_argument("--threads", type=int, help="default: as `tuidang serve` chooses")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install wrk")

    work = ROOT / "var" / "bench"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    databases = [("SQLite", f"sqlite:///{work / 'bench.sqlite3'}")]
    if not args.skip_postgres:
        databases.append(("PostgreSQL", PG_URL))

    rows = []
    server_shape: dict[str, str] = {}
    for label, url in databases:
        env = server_env(url, work)
        prepare_database(url, env)
        default_workers, default_threads = serving_defaults()
        workers, threads = args.workers or default_workers, args.threads or default_threads
        server_shape[label] = f"{workers} × {threads}"
        server = start_server(env, workers, threads)
        try:
            for connections in (8, 64):
                rows += measure(label, connections, work, args)
        finally:
            stop_server(server)

    report = render(rows, args, server_shape)
    print(report)
    if args.write_docs:
        update_docs("webhook-bench", report)


def render(
    rows: list[dict[str, object]], args: argparse.Namespace, server_shape: dict[str, str]
) -> str:
    shapes = ", ".join(f"{label} {shape}" for label, shape in server_shape.items())
    lines = [
        f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}: "
        f"{os.cpu_count()} cores, Python {platform.python_version()}, "
        f"`tuidang serve` (granian) processes × threads: {shapes}; "
        f"wrk in {args.rounds} alternating rounds of {args.seconds} s per cell.",
        "",
        "| database | connections | endpoint | req/s | p50 ms | p99 ms | errors | webhook ÷ bare |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    bare = {
        (r["database"], r["connections"]): r["rps"] for r in rows if r["endpoint"] == "bare view"
    }
    for r in rows:
        ratio = ""
        if r["endpoint"] != "bare view":
            ratio = f"{r['rps'] / bare[(r['database'], r['connections'])]:.0%}"  # type: ignore[operator]
        lines.append(
            f"| {r['database']} | {r['connections']} | {r['endpoint']} | {r['rps']:.0f} | "
            f"{r['p50_ms']:.2f} | {r['p99_ms']:.2f} | {r['errors']} | {ratio} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
