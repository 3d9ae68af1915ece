"""A year of reports, and the wallboard's refresh, over a year of calls.

For SQLite and PostgreSQL with the year of ``tuidang fill-history`` (2,000,000 calls by
default, built once and kept by ``bench.year_bench``; the generator fills the reports'
kept counts too, and a year kept from before them is counted once by
``tuidang backfill-reports``), a child process on that database times, round after round:

- the reports page's reads for the last 365 days (``reports.selectors.report``: the
  chosen breakdown and the three the charts read, by hour of day, by day and by channel),
  for each breakdown (day, hour, language, number, channel, province);
- the baseline in the same rounds: the plainest question the counts answer, asked of the
  calls themselves, ``SELECT language, COUNT(*) FROM calls_call WHERE started_at >= …
  GROUP BY language`` over the same year;
- the wallboard's refresh through a read-only link (``/wallboard/<token>/board``, Django's
  whole stack in-process, no network): once read from the database (the cache cleared
  before each), and as most refreshes are, from the board kept a second in the cache.

Everything runs on this machine against local databases, bounded by ``--rounds``.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import statistics
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench.common import PYTHON, ROOT, machine, server_env, update_docs
from bench.year_bench import WORK, postgres_database, sql, sqlite_database

BREAKDOWNS = ("day", "hour", "language", "number", "channel", "province")


def timed(work: Callable[[], object], rounds: int) -> float:
    """The median of ``rounds`` runs of ``work``, in milliseconds."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def measure(rounds: int) -> dict[str, Any]:
    """In the child: time the reads on the database of DATABASE_URL."""
    import django

    django.setup()
    from datetime import timedelta

    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from tuidang.reports.selectors import latest_day, report
    from tuidang.reports.wallboard import wallboard_link_create
    from tuidang.volunteers.models import Volunteer

    last = latest_day()
    first = last - timedelta(days=364)
    since = datetime.now(UTC) - timedelta(days=365)

    def page(by: str) -> None:
        report(first=first, last=last, by=by)
        for chart in ("hour", "day", "channel"):
            report(first=first, last=last, by=chart)

    def baseline() -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT language, COUNT(*) FROM calls_call WHERE started_at >= %s "
                "GROUP BY language",
                [since],
            )
            cursor.fetchall()

    results: dict[str, Any] = {"reports": {}, "baseline_ms": timed(baseline, rounds)}
    for by in BREAKDOWNS:
        page(by)  # warm
        results["reports"][by] = timed(functools.partial(page, by), rounds)
    results["baseline_ms"] = min(results["baseline_ms"], timed(baseline, rounds))
    coordinator = Volunteer.objects.filter(role="coordinator").first()
    assert coordinator is not None, "the year has coordinators"
    results["slots_filled"] = schedule_fortnight(coordinator)
    _link, token = wallboard_link_create(name="bench", coordinator=coordinator)
    client = Client()
    url = reverse("wall-board", kwargs={"token": token})
    assert client.get(url).status_code == 200

    def cold() -> None:
        cache.clear()
        client.get(url)

    results["wallboard_cold_ms"] = timed(cold, rounds)
    results["wallboard_warm_ms"] = timed(lambda: client.get(url), rounds * 10)
    return results


def schedule_fortnight(coordinator: Any) -> int:
    """Every hour of the next fortnight covered in every language queue: three shifts of
    eight hours a day, each occurrence with a volunteer on it. The wallboard then walks
    every hour of the fortnight looking for its next gap and finds none: its slowest read.
    Returns how many slots were filled."""
    from datetime import date, time, timedelta
    from itertools import cycle
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    from tuidang.lib.languages import Language
    from tuidang.shifts.models import Slot
    from tuidang.shifts.services import shift_create, slot_assign
    from tuidang.volunteers.models import Volunteer

    now = timezone.now()
    today: date = now.astimezone(ZoneInfo("Asia/Shanghai")).date()
    for language in Language.values:
        for weekday in range(7):
            for start in (0, 8, 16):
                shift_create(
                    language=language, time_zone="Asia/Shanghai", weekly=True,
                    first_date=today + timedelta(days=weekday), last_date=None,
                    start_time=time(start), end_time=time((start + 8) % 24),
                    min_heads=1, target_heads=2, notice_hours=0, now=now,
                )  # fmt: skip
    filled, taken = 0, set[int]()
    for language in Language.values:
        # Twenty of its speakers in turn, none on another queue's shifts (no overlap).
        chosen = list(
            Volunteer.objects.filter(languages__language=language).exclude(pk__in=taken)[:20]
        )
        taken.update(volunteer.pk for volunteer in chosen)
        speakers = cycle(chosen)
        slots = Slot.objects.filter(
            language=language, ends_at__gt=now, starts_at__lt=now + timedelta(days=15)
        ).order_by("starts_at")
        for slot in slots:
            slot_assign(slot=slot, volunteer=next(speakers), by=coordinator, now=now)
            filled += 1
    return filled


def counted(url: str) -> None:
    """Count a year kept from before the reports' counts, once."""
    if sql(url, "SELECT COUNT(*) FROM reports_daycount")[0][0]:
        return
    started = time.monotonic()
    subprocess.run(
        [PYTHON, "-m", "tuidang.manage", "backfill-reports"],
        env=server_env(url, WORK), check=True, cwd=ROOT,
    )  # fmt: skip
    print(f"the year counted in {time.monotonic() - started:.0f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=2_000_000, help="the year's calls")
    parser.add_argument("--keys", type=int, default=500_000, help="the year's caller keys")
    parser.add_argument("--declarations", type=int, default=500_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.rounds)))
        return
    WORK.mkdir(parents=True, exist_ok=True)
    os.environ.update(DJANGO_SETTINGS_MODULE="bench.settings", VAR_DIR=str(WORK))
    import django

    django.setup()
    databases = [("SQLite", sqlite_database)]
    if not args.skip_postgres:
        databases.append(("PostgreSQL", postgres_database))
    load = os.getloadavg()[0]
    results = {}
    for label, prepare in databases:
        url = prepare("year", args)
        counted(url)
        child = subprocess.run(
            [PYTHON, "-m", "bench.reports_bench", "--measure", "--rounds", str(args.rounds)],
            env=server_env(url, WORK), check=True, cwd=ROOT, capture_output=True, text=True,
        )  # fmt: skip
        results[label] = json.loads(child.stdout.strip().splitlines()[-1])
    text = render(results, args, load)
    print(text)
    if args.write_docs:
        update_docs("reports-bench", text)


def render(results: dict[str, dict[str, Any]], args: argparse.Namespace, load: float) -> str:
    lines = [
        f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {machine()}; load average "
        f"{load:.1f} at the start (the machine is shared); the year: {args.calls:,} calls; "
        f"medians of {args.rounds} rounds.",
        "",
        "| database | a year of reports by | ms (with the charts' three reads) "
        "| ÷ COUNT … GROUP BY over the calls |",
        "| --- | --- | --- | --- |",
    ]
    for label, result in results.items():
        base = result["baseline_ms"]
        for by, ms in result["reports"].items():
            lines.append(f"| {label} | {by} | {ms:.1f} | {ms / base:.3f} |")
        lines.append(f"| {label} | (baseline: COUNT … GROUP BY language) | {base:.1f} | 1 |")
    lines += [
        "",
        "The wallboard's refresh through a read-only link, Django's whole stack in-process:",
        "",
    ]
    for label, result in results.items():
        lines.append(
            f"- {label}: {result['wallboard_warm_ms']:.2f} ms from the board kept a second "
            f"in the cache (most refreshes), {result['wallboard_cold_ms']:.2f} ms when read "
            "from the database (once a second for all screens), with every hour of the "
            f"next fortnight covered in every queue ({result['slots_filled']} slots filled)."
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
