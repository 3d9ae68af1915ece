"""What `tuidang serve`'s own access log costs the webhooks (the ACCESS_LOG setting).

Two servers run side by side, each on a fresh SQLite file and ports of its own: one
writing granian's access log (``ACCESS_LOG=true``, the default, as `make demo` serves),
one not (``false``, as the deployments serve behind HAProxy, which logs the same line).
wrk sends each, at 8 connections, rounds of the bare view and of the incoming-call
webhook (a new caller each request, signed for that server's address) in turns: with and
without, then without and with, so that the machine's drift from one minute to the next
falls on both alike. Reported for each: requests a second, p50 and p99, and the servers'
processor time a request, which the drift moves less; and without ÷ with.

Traffic goes to 127.0.0.1 only; the run is bounded by its rounds.
"""

from __future__ import annotations

import argparse
import secrets
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench.common import (
    HOST,
    PORT,
    ROOT,
    fresh_sqlite,
    machine,
    prepare_database,
    server_env,
    serving_defaults,
    start_server,
    update_docs,
)
from bench.webhook_bench import run_wrk
from bench.year_bench import (
    CONNECTIONS,
    VALIDATOR,
    params_for,
    rate,
    server_cpu_seconds,
    stop_and_wait,
)

WORK = ROOT / "var" / "bench-access-log"
# Each server's pool for people and telephony pool, apart from the other benchmarks'.
SERVERS = {"with": (PORT + 10, PORT + 11), "without": (PORT + 20, PORT + 21)}
ENDPOINTS = {"bare view": "/bench/bare", "incoming call": "/telephony/twilio/voice"}


def write_requests(path: Path, base: str, url_path: str, first: int, count: int) -> None:
    """New callers, each request signed for the server at ``base``."""
    with path.open("w") as handle:
        for n in range(first, first + count):
            number = f"+86138{n:08d}"  # a mobile number in China
            params = params_for(number, "CA" + secrets.token_hex(16), CallStatus="ringing")
            signature = VALIDATOR.compute_signature(base + url_path, params)
            handle.write(f"{url_path}\t{signature}\t{urlencode(params)}\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=3, help="per round")
    parser.add_argument("--rounds", type=int, default=4, help="per server and endpoint")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    workers, threads = serving_defaults()
    servers = {}
    try:
        for name, ports in SERVERS.items():
            work = WORK / name
            url = fresh_sqlite(work)
            env = dict(server_env(url, work), ACCESS_LOG="true" if name == "with" else "false")
            prepare_database(url, env)
            servers[name] = start_server(env, workers, threads, ports)
        rounds: dict[tuple[str, str], list[dict[str, Any]]] = {}
        count = 3000 * args.seconds
        for index in range(args.rounds + 1):
            warming = index == 0
            seconds = 1 if warming else args.seconds
            order = list(SERVERS) if index % 2 else list(SERVERS)[::-1]
            for endpoint, url_path in ENDPOINTS.items():
                for name in order:
                    base = f"http://{HOST}:{SERVERS[name][1]}"
                    requests_file = WORK / f"requests-{name}.tsv"
                    write_requests(requests_file, base, url_path, index * count, count)
                    before = server_cpu_seconds(servers[name])
                    result = run_wrk(requests_file, CONNECTIONS, seconds, base)
                    result["cpu_seconds"] = server_cpu_seconds(servers[name]) - before
                    if not warming:
                        rounds.setdefault((name, endpoint), []).append(result)
    finally:
        for name, server in servers.items():
            stop_and_wait(server, SERVERS[name])
    report = render(rounds, args, f"{workers} × {threads}")
    print(report)
    if args.write_docs:
        update_docs("access-log-bench", report)


def summary(results: list[dict[str, Any]]) -> dict[str, float]:
    requests = sum(r["requests"] for r in results)
    return {
        "rps": rate(results),
        "p50_ms": statistics.median(r["p50_ms"] for r in results),
        "p99_ms": statistics.median(r["p99_ms"] for r in results),
        "cpu_us": sum(r["cpu_seconds"] for r in results) / requests * 1e6,
        "errors": sum(r["errors"] for r in results),
    }


def render(
    rounds: dict[tuple[str, str], list[dict[str, Any]]], args: argparse.Namespace, shape: str
) -> str:
    lines = [
        f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}; two `tuidang serve` "
        f"{shape} side by side on SQLite, with and without the access log; wrk at "
        f"{CONNECTIONS} connections, {args.rounds} rounds of {args.seconds} s per server "
        "and endpoint, in turns.",
        "",
        "| endpoint | access log | req/s | p50 ms | p99 ms | errors | server µs a request "
        "| without ÷ with, req/s | without ÷ with, by server time |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for endpoint in ENDPOINTS:
        with_log = summary(rounds[("with", endpoint)])
        for name in SERVERS:
            s = summary(rounds[(name, endpoint)])
            ratios = (
                f"{s['rps'] / with_log['rps']:.2f} | {with_log['cpu_us'] / s['cpu_us']:.2f}"
                if name == "without"
                else " | "
            )
            lines.append(
                f"| {endpoint} | {name} | {s['rps']:.0f} | {s['p50_ms']:.2f} | {s['p99_ms']:.2f} "
                f"| {s['errors']} | {s['cpu_us']:.0f} | {ratios} |"
            )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
