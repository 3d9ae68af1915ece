"""A declaration posted online against one recorded at the desk, in the same run.

Issue #17 asks that a declaration POST cost no more than the hotline's recording of one.
On a fresh SQLite database and a fresh PostgreSQL one (at BENCH_POSTGRES_URL, which it
drops and creates), each in a process of its own, through Django's whole request stack
(the test client: no network, no port), alternating rounds of:

- the public form's POST to /declare for one person with a statement and consent to
  publish it, each from an address of its own (no rate limit is reached), its proof of
  work solved as a browser's script would, before the clock starts;
- a volunteer (logged in) recording one renunciation with a statement and consent, by
  the desk's POST that calls ``declaration_record``, for a call connected to them, a new
  call (a new caller) for each, connected before the clock starts.

Only the POST is timed: its wall time and this process's processor time
(``time.process_time``, the server's work and the test client's few steps). The median
and p99 of each, and the ratio declare ÷ desk. ``--profile`` prints where a /declare
POST spends its processor time (cProfile) instead, on SQLite.

The form's flood threshold is set out of reach: this is the cost in calm weather, with
its ONLINE_WORK proof of work (a flood's harder one costs the server no more to check).

`make bench` runs it with its defaults; try `--samples 10 --rounds 1` while working.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import time
from collections.abc import Callable
from typing import Any

from bench.common import (
    HOTLINE,
    PG_URL,
    PYTHON,
    ROOT,
    fresh_sqlite,
    machine,
    prepare_database,
    server_env,
    update_docs,
)
from bench.declare_flood import CHALLENGE, TOKEN, solved_work

WORK = ROOT / "var" / "bench-declare-cost"
STATEMENT = "我今天退出共青团，心里踏实了。愿天下人都看清真相。"
KINDS = ("declare online", "record at the desk")


class Declaring:
    """The public form: each POST a fresh form, from an address of its own."""

    def __init__(self) -> None:
        from django.test import Client

        self.client = Client(HTTP_HOST="127.0.0.1")
        self.n = 0

    def prepare(self) -> Callable[[], Any]:
        self.n += 1
        address = f"10.{self.n // 62500 % 250}.{self.n // 250 % 250}.{self.n % 250 + 1}"
        page = self.client.get("/declare", REMOTE_ADDR=address)
        token = TOKEN.search(page.content.decode())
        challenge = CHALLENGE.search(page.content.decode())
        assert token is not None, page.status_code
        assert challenge is not None, page.status_code
        data = {
            "token": token.group(1),
            "work": solved_work(json.loads(challenge.group(1))),
            "you-alias": f"某人 {self.n}",
            "you-organizations": ["party", "youth_league"],
            "you-region": "CN-GD",
            "you-statement": STATEMENT,
            "you-consent": "on",
        }

        def post() -> Any:
            response = self.client.post("/declare", data, REMOTE_ADDR=address)
            assert response.status_code == 201, response.status_code
            return response

        return post


class Desk:
    """A volunteer at the desk: each POST records a renunciation on a call of its own."""

    def __init__(self) -> None:
        from django.test import Client

        from tuidang.testing.personas import make_volunteer
        from tuidang.volunteers.models import Presence, Volunteer

        self.volunteer = make_volunteer("desk", ["cmn"])
        Volunteer.objects.filter(pk=self.volunteer.pk).update(presence=Presence.ON_CALL)
        self.client = Client(HTTP_HOST="127.0.0.1")
        self.client.force_login(self.volunteer.user)
        self.call: Any = None
        self.n = 0

    def _connect(self) -> Any:
        """A new caller's call, connected to the volunteer (the last one completed)."""
        from django.utils import timezone

        from tuidang.calls.models import Call
        from tuidang.calls.services import call_receive

        now = timezone.now()
        if self.call is not None:
            Call.objects.filter(pk=self.call.pk).update(state=Call.State.COMPLETED, ended_at=now)
        self.n += 1
        call = call_receive(
            provider_sid=f"CA{self.n:032d}", caller_from=f"+86138{self.n:08d}", dialled=HOTLINE
        )
        assert call is not None
        Call.objects.filter(pk=call.pk).update(
            volunteer=self.volunteer, state=Call.State.CONNECTED, connected_at=now
        )
        self.call = call
        return call

    def prepare(self) -> Callable[[], Any]:
        call = self._connect()
        url = f"/desk/calls/{call.pk}/declarations"
        data = {
            "caller-renounces": "on",
            "caller-alias": f"某人 {self.n}",
            "caller-organizations": ["party", "youth_league"],
            "caller-region": "CN-GD",
            "caller-statement": STATEMENT,
            "caller-consent_to_publish": "on",
            "family-TOTAL_FORMS": "1",
            "family-INITIAL_FORMS": "0",
        }

        def post() -> Any:
            response = self.client.post(url, data)
            assert response.status_code == 302, response.status_code
            assert response["Location"] == "/desk/", response["Location"]
            return response

        return post


def percentile(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def timed(post: Callable[[], Any]) -> tuple[float, float]:
    """(wall ms, processor ms) of one POST."""
    wall, processor = time.perf_counter(), time.process_time()
    post()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - processor) * 1000


def measure(samples: int, rounds: int) -> list[dict[str, Any]]:
    sides = {"declare online": Declaring(), "record at the desk": Desk()}
    wall: dict[str, list[float]] = {kind: [] for kind in KINDS}
    cpu: dict[str, list[float]] = {kind: [] for kind in KINDS}
    for round_ in range(rounds + 1):
        for kind in KINDS:
            for _ in range(samples if round_ else 5):
                post = sides[kind].prepare()
                took, processor = timed(post)
                if round_:  # the first round warms caches and compiles templates
                    wall[kind].append(took)
                    cpu[kind].append(processor)
    rows = []
    for kind in KINDS:
        rows.append(
            {
                "kind": kind,
                "count": len(wall[kind]),
                "median_ms": statistics.median(wall[kind]),
                "p99_ms": percentile(wall[kind], 0.99),
                "cpu_ms": statistics.mean(cpu[kind]),
                "cpu_median_ms": statistics.median(cpu[kind]),
            }
        )
        print(rows[-1], flush=True)
    return rows


def profile(samples: int) -> None:
    """Where the /declare POST spends its processor time."""
    declaring = Declaring()
    for _ in range(5):
        declaring.prepare()()
    posts = [declaring.prepare() for _ in range(samples)]
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for post in posts:
        post()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("cumulative")
    stats.print_stats(45)
    print(out.getvalue())


def render(results: dict[str, list[dict[str, Any]]], args: argparse.Namespace) -> str:
    lines = [
        f"{machine()}; a fresh database of each kind; through Django's request stack in one "
        f"process, {args.rounds} rounds of {args.samples} POSTs of each, alternating; only "
        "the POST timed (the form fetched and its proof of work solved before it, the call "
        "connected before it).",
        "",
        "| database | POST | count | median ms | p99 ms | processor ms per POST (mean) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for vendor, rows in results.items():
        for row in rows:
            lines.append(
                f"| {vendor} | {row['kind']} | {row['count']} | {row['median_ms']:.2f} "
                f"| {row['p99_ms']:.2f} | {row['cpu_ms']:.2f} |"
            )
    lines.append("")
    for vendor, (declare, desk) in results.items():
        lines.append(
            f"Declare ÷ desk on {vendor}: {declare['median_ms'] / desk['median_ms']:.2f} "
            f"(median), {declare['p99_ms'] / desk['p99_ms']:.2f} (p99), "
            f"{declare['cpu_ms'] / desk['cpu_ms']:.2f} (processor time). Target: at most 1.  "
        )
    return "\n".join(lines).rstrip()


def run_one(vendor: str, args: argparse.Namespace) -> list[dict[str, Any]] | None:
    """This bench on one kind of database, in a process of its own (Django is set up once
    per process); None when that database cannot be had."""
    command = [
        PYTHON, "-m", "bench.declare_cost", "--vendor", vendor,
        "--samples", str(args.samples), "--rounds", str(args.rounds),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    print(done.stdout, done.stderr, sep="\n", flush=True)
    rows = [line for line in done.stdout.splitlines() if line.startswith("ROWS ")]
    if done.returncode or not rows:
        return None
    result: list[dict[str, Any]] = json.loads(rows[-1][5:])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=40, help="POSTs of each, per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--vendors", default="sqlite,postgres", help="postgres: at BENCH_POSTGRES_URL"
    )
    parser.add_argument("--vendor", help=argparse.SUPPRESS)  # one, in this process
    parser.add_argument("--profile", action="store_true", help="cProfile the /declare POST")
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    if args.vendor is None and not args.profile:
        results = {}
        for vendor in args.vendors.split(","):
            rows = run_one(vendor, args)
            if rows is None:
                print(f"{vendor}: not measured (see above)", flush=True)
            else:
                results[vendor] = rows
        if not results:
            raise SystemExit("nothing measured")
        report = render(results, args)
        print(report)
        if args.write_docs:
            update_docs("declare-cost", report)
        return
    WORK.mkdir(parents=True, exist_ok=True)
    url = PG_URL if args.vendor == "postgres" else fresh_sqlite(WORK)
    env = server_env(url, WORK)
    # Calm weather: the flood threshold out of reach; counters in the database.
    env.update(ONLINE_FLOOD_PER_MINUTE="1000000", REDIS_URL="")
    prepare_database(url, env)
    os.environ.update(env)
    import django

    django.setup()
    if args.profile:
        profile(args.samples)
        return
    print("ROWS", json.dumps(measure(args.samples, args.rounds)), flush=True)


if __name__ == "__main__":
    main()
