"""A night of hired callers, replayed through the real webhook views over HTTP.

1,000 nuisance keys call again and again (each call hung up within seconds), with genuine
callers among them who call once and press 1 for Mandarin. The hotline is served by
`tuidang serve` itself. We check that every genuine caller reaches a queue,
count how many nuisance calls were diverted, and measure the webhook latency that genuine
callers saw. Traffic goes to 127.0.0.1 only; the run is bounded by its list of calls.
"""

from __future__ import annotations

import argparse
import random
import secrets
import shutil
import sqlite3
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from bench.common import (
    HOTLINE,
    ROOT,
    TELEPHONY,
    prepare_database,
    server_env,
    serving_defaults,
    signed_post,
    start_server,
    stop_server,
    update_docs,
)


def post(path: str, params: dict[str, str]) -> tuple[int, str, float]:
    return signed_post(TELEPHONY + path, params)


def call_params(number: str, sid: str, **extra: str) -> dict[str, str]:
    return {
        "AccountSid": "AC" + "0" * 32, "ApiVersion": "2010-04-01", "CallSid": sid,
        "CallStatus": "ringing", "Direction": "inbound", "From": number, "Caller": number,
        "To": HOTLINE, "Called": HOTLINE, "FromCountry": "CN", "FromState": "", "FromCity": "",
        "FromZip": "", "ToCountry": "US", **extra,
    }  # fmt: skip


def nuisance_call(number: str) -> dict[str, object]:
    sid = "CA" + secrets.token_hex(16)
    status, body, _ms = post("/telephony/twilio/voice", call_params(number, sid))
    diverted = "<Reject" in body or ("<Gather" not in body and "<Enqueue" not in body)
    post(
        "/telephony/twilio/status",
        call_params(number, sid, CallStatus="completed", CallDuration="3", SequenceNumber="1"),
    )
    return {"kind": "nuisance", "ok": status == 200, "diverted": diverted}


def genuine_call(number: str) -> dict[str, object]:
    sid = "CA" + secrets.token_hex(16)
    status1, body1, ms1 = post("/telephony/twilio/voice", call_params(number, sid))
    status2, body2, ms2 = post(
        "/telephony/twilio/language", call_params(number, sid, CallStatus="in-progress", Digits="1")
    )
    queued = status1 == status2 == 200 and "<Gather" in body1 and "<Enqueue" in body2
    return {"kind": "genuine", "ok": queued, "latencies": [ms1, ms2]}


def policy_counts(database: Path) -> dict[str, int]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT screening_policy, COUNT(*) FROM calls_call GROUP BY screening_policy"
        ).fetchall()
    return {policy: count for policy, count in rows}


def flagged_diverted(database: Path, threshold: float = 3) -> tuple[int, int]:
    """Calls from flagged keys (score at arrival ≥ the screening-group threshold): how many
    screening sent elsewhere than the normal queue, of how many."""
    with sqlite3.connect(database) as connection:
        total, diverted = connection.execute(
            "SELECT COUNT(*), SUM(screening_policy != 'normal') FROM calls_call"
            " WHERE screening_score >= ?",
            (threshold,),
        ).fetchone()
    return int(diverted or 0), int(total)


def night(nuisance_keys: int, calls_each: int, genuine: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)  # noqa: S311 - a reproducible order, not a secret
    plan = [("nuisance", f"+86135{k:08d}") for k in range(nuisance_keys) for _ in range(calls_each)]
    plan += [("genuine", f"+86138{k:08d}") for k in range(genuine)]
    rng.shuffle(plan)
    return plan


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--keys", type=int, default=1000)
    parser.add_argument("--calls-each", type=int, default=8)
    parser.add_argument("--genuine", type=int, default=400)
    parser.add_argument(
        "--rate", type=float, default=100, help="calls a second, arriving on schedule (open loop)"
    )
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()

    work = ROOT / "var" / "bench-night"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    url = f"sqlite:///{work / 'night.sqlite3'}"
    env = server_env(url, work)
    prepare_database(url, env)
    workers, threads = serving_defaults()
    server = start_server(env, workers, threads)
    plan = night(args.keys, args.calls_each, args.genuine, seed=2026)
    started = time.perf_counter()

    def place(index_and_item: tuple[int, tuple[str, str]]) -> dict[str, object]:
        index, (kind, number) = index_and_item
        # Calls arrive on a schedule, whether or not the server keeps up (an open loop).
        delay = started + index / args.rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        return (nuisance_call if kind == "nuisance" else genuine_call)(number)

    try:
        with ThreadPoolExecutor(max_workers=64) as pool:
            results = list(pool.map(place, enumerate(plan)))
    finally:
        stop_server(server)
    elapsed = time.perf_counter() - started

    policies = policy_counts(work / "night.sqlite3")
    flagged_out, flagged_total = flagged_diverted(work / "night.sqlite3")
    genuine_results = [r for r in results if r["kind"] == "genuine"]
    nuisance_results = [r for r in results if r["kind"] == "nuisance"]
    latencies = sorted(ms for r in genuine_results for ms in r["latencies"])  # type: ignore[attr-defined]
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    reached = sum(1 for r in genuine_results if r["ok"])
    diverted = sum(1 for r in nuisance_results if r["diverted"])
    report = "\n".join(
        [
            f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: SQLite, granian {workers} × {threads}, "
            f"calls arriving at {args.rate:.0f} a second, {len(plan)} calls in {elapsed:.0f} s.",
            "",
            "| | value |",
            "| --- | --- |",
            f"| nuisance keys × calls each | {args.keys} × {args.calls_each} |",
            f"| genuine callers who reached a queue | {reached} of {len(genuine_results)} |",
            f"| nuisance calls diverted (message or reject) | {diverted} of {len(nuisance_results)} "
            f"({diverted / len(nuisance_results):.0%}) |",
            f"| calls from flagged keys diverted (screening group, message or reject) | "
            f"{flagged_out} of {flagged_total} |",
            "| what screening did to all calls | "
            + ", ".join(f"{policy} {count}" for policy, count in sorted(policies.items()))
            + " |",
            f"| genuine callers' webhook latency p50 / p99 | {statistics.median(latencies):.1f} ms / {p99:.1f} ms |",
        ]
    )
    print(report)
    if args.write_docs:
        update_docs("screening-night", report)
    if reached != len(genuine_results):
        raise SystemExit("Some genuine callers did not reach a queue")


if __name__ == "__main__":
    main()
