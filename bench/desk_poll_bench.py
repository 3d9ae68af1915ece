"""The desk's poll: the server's processor time per poll, against the bare view.

A volunteer logged in, on SQLite, with `tuidang serve`; wrk at 8 connections, in
alternating rounds: the bare view (one SELECT, one INSERT), the live panel answered in full
(no poll token: the first poll of a desk, or one after a change), and the live panel
answered 204 because nothing changed (with the token the full answer handed out; see
desk/poll.py). From the processor time of the server's processes over each round: the
milliseconds per request, each against the bare view's in the same run, and what 300
desks polling once a second take of one core when nothing changes.

Traffic goes to 127.0.0.1 only; every round is bounded in time.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
from datetime import UTC, datetime
from typing import Any

import requests

from bench.common import (
    HOST,
    PORT,
    PYTHON,
    ROOT,
    fresh_sqlite,
    machine,
    prepare_database,
    server_env,
    serving_defaults,
    start_server,
    update_docs,
)
from bench.year_bench import server_cpu_seconds, stop_and_wait

BASE = f"http://{HOST}:{PORT}"
WORK = ROOT / "var" / "bench-desk-poll"
CONNECTIONS = 8
POLL = "/desk/live?call="
KINDS = ("bare view", "poll, full answer", "poll, nothing changed")


def volunteer_session(env: dict[str, str]) -> str:
    """A volunteer logged in (the session cookie's value)."""
    output = subprocess.run(
        [PYTHON, "-m", "tuidang.manage", "shell", "-c",
         "from django.test import Client;"
         "from tuidang.testing.personas import make_volunteer;"
         "v = make_volunteer('poller', ['cmn']);"
         "c = Client(); c.force_login(v.user); print('SESSION', c.cookies['sessionid'].value)"],
        env=env, check=True, capture_output=True, text=True, cwd=ROOT,
    ).stdout  # fmt: skip
    return next(line.split()[1] for line in output.splitlines() if line.startswith("SESSION"))


def poll_token(cookie: str) -> str:
    """The token a full answer hands out (valid for desk/poll.py's TOKEN_MAX_AGE)."""
    response = requests.get(BASE + POLL, cookies={"sessionid": cookie}, timeout=10)
    response.raise_for_status()
    return response.headers["X-Desk-State"]


def wrk_round(
    server: subprocess.Popen[bytes], path: str, headers: dict[str, str], seconds: int
) -> dict[str, float]:
    lua = WORK / "round.lua"
    lua.write_text(
        'wrk.method = "GET"\n'
        + "".join(f'wrk.headers["{name}"] = "{value}"\n' for name, value in headers.items())
        + "function done(summary, latency, requests)\n"
        '  io.write(string.format("RESULT %d %.3f %d %d %d\\n", summary.requests,\n'
        "    summary.duration / 1e6, latency:percentile(99), summary.errors.status,\n"
        "    summary.errors.connect + summary.errors.read + summary.errors.timeout))\n"
        "end\n"
    )
    before = server_cpu_seconds(server)
    output = subprocess.run(
        ["wrk", "-t", "2", "-c", str(CONNECTIONS), "-d", f"{seconds}s", "-s", str(lua),
         BASE + path],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    ).stdout  # fmt: skip
    cpu = server_cpu_seconds(server) - before
    line = next(line for line in output.splitlines() if line.startswith("RESULT "))
    count, elapsed, p99_us, status_errors, socket_errors = line.split()[1:]
    return {
        "requests": int(count), "rps": int(count) / float(elapsed),
        "p99_ms": int(p99_us) / 1000, "errors": int(status_errors) + int(socket_errors),
        "cpu_ms": cpu / max(1, int(count)) * 1000,
    }  # fmt: skip


def measure(server: subprocess.Popen[bytes], cookie: str, args: argparse.Namespace) -> list[Any]:
    rounds: dict[str, list[dict[str, float]]] = {kind: [] for kind in KINDS}
    for index in range(args.rounds + 1):
        for kind in KINDS:
            if kind == "bare view":
                path, headers = "/bench/bare", {}
            elif kind == "poll, full answer":
                path, headers = POLL, {"Cookie": f"sessionid={cookie}"}
            else:
                token = poll_token(cookie)  # fresh for each round: it lives a minute
                path, headers = POLL, {"Cookie": f"sessionid={cookie}", "X-Desk-State": token}
            result = wrk_round(server, path, headers, 1 if index == 0 else args.seconds)
            if index:  # the first round warms caches and connections
                rounds[kind].append(result)
    rows = []
    for kind, results in rounds.items():
        rows.append({
            "kind": kind,
            "rps": sum(r["requests"] for r in results) / (args.seconds * len(results)),
            "p99_ms": statistics.median(r["p99_ms"] for r in results),
            "errors": sum(int(r["errors"]) for r in results),
            "cpu_ms": statistics.median(r["cpu_ms"] for r in results),
        })  # fmt: skip
        print(rows[-1], flush=True)
    return rows


def render(rows: list[dict[str, Any]], args: argparse.Namespace, shape: str) -> str:
    bare = next(r for r in rows if r["kind"] == "bare view")
    quiet = next(r for r in rows if r["kind"] == "poll, nothing changed")
    lines = [
        f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}; `tuidang serve` {shape} "
        f"on SQLite; wrk at {CONNECTIONS} connections, {args.rounds} rounds of "
        f"{args.seconds} s of each, alternating; processor time of the server's processes, "
        "the median round's.",
        "",
        "| request | req/s | p99 ms | errors | processor ms per request | ÷ bare view's |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {r['kind']} | {r['rps']:.0f} | {r['p99_ms']:.2f} | {r['errors']} | "
            f"{r['cpu_ms']:.3f} | {r['cpu_ms'] / bare['cpu_ms']:.2f} |"
        )
    lines += [
        "",
        f"300 desks polling once a second while nothing changes: "
        f"{quiet['cpu_ms'] * 300 / 1000:.0%} of one core.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=3, help="per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    url = fresh_sqlite(WORK)
    env = server_env(url, WORK)
    prepare_database(url, env)
    cookie = volunteer_session(env)
    workers, threads = serving_defaults()
    server = start_server(env, workers, threads)
    try:
        rows = measure(server, cookie, args)
    finally:
        stop_and_wait(server)
    report = render(rows, args, f"{workers} × {threads}")
    print(report)
    if args.write_docs:
        update_docs("desk-poll-bench", report)


if __name__ == "__main__":
    main()
