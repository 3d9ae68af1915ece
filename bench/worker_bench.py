"""What one `tuidang worker` carries: tasks of the call path and the registry, per second.

For SQLite and then PostgreSQL (``BENCH_POSTGRES_URL``, skipped when it cannot be
reached), each on a fresh database of its own, one ``tuidang worker --no-scheduler`` is
started and, round after round, a pile of tasks is enqueued in one transaction:

- ``nothing`` (bench/benchapp/tasks.py): the baseline, a task that does no work, so
  what is left is the worker's own cost of claiming a task and marking it done;
- ``ring_volunteer``: offering a waiting call to a volunteer (the offer read, the
  volunteer's leg placed on the simulated phone network, the leg recorded on the offer);
- ``withdraw_offer``: the offer withdrawn (another volunteer answered, or the caller hung
  up): the leg hung up, the volunteer freed, and the queue of their language routed again;
- ``periodic_run`` of the publication job: a batch of pending declarations published
  (shuffled, appended to the log with its tiles, rollups counted), which enqueues
- ``sign_checkpoint``: the new tree head checked against the tiles and signed.

Rates come from the worker's own timestamps in the task table (the first task's start to
the last one's end), so the time the worker takes to notice a pile is not counted. The
baseline is measured before and after each round's tasks, on the same machine at the same
time; the ratio is what is reported, the machine being shared. Every phase is bounded by
its count and by a deadline.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.common import PG_URL, PYTHON, ROOT, machine, prepare_database, server_env, update_docs

PHASE_SECONDS = 90  # no phase waits longer for its tasks

KINDS = ["nothing", "ring_volunteer", "withdraw_offer", "publication", "sign_checkpoint"]


# --- In the process measuring one database (Django set up on it) -------------------------


def _people(count: int, region: str) -> list[Any]:
    from tuidang.declarations.services import Person

    return [
        Person(alias=f"Bench {k:06d}", organizations=frozenset({"party"}), region=region)
        for k in range(count)
    ]


class Measure:
    def __init__(self, volunteers: int) -> None:
        from tuidang.calls.models import HotlineNumber
        from tuidang.lib.regions import region_from_text

        self.volunteers = volunteers
        self.number = HotlineNumber.objects.get()
        self.region = region_from_text("Guangdong") or ""
        self.rows: dict[str, list[dict[str, float]]] = {kind: [] for kind in KINDS}
        self._make_volunteers()

    def _make_volunteers(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.hashers import make_password

        from tuidang.lib.languages import Language
        from tuidang.volunteers.models import Presence, Volunteer, VolunteerLanguage

        unusable = make_password(None)  # they never log in
        users = get_user_model().objects.bulk_create(
            get_user_model()(username=f"bench{k}", password=unusable)
            for k in range(self.volunteers)
        )
        volunteers = []
        for user in users:
            volunteer = Volunteer(user=user, display_name=user.username, presence=Presence.AWAY)
            volunteer.phone_address = f"client:{user.username}"  # sealed
            volunteers.append(volunteer)
        self.volunteer_rows = Volunteer.objects.bulk_create(volunteers)
        VolunteerLanguage.objects.bulk_create(
            VolunteerLanguage(volunteer=volunteer, language=Language.MANDARIN)
            for volunteer in self.volunteer_rows
        )
        self.user = users[0]

    def wait(self, ids: list[str], kind: str) -> dict[str, float]:
        """Wait (bounded) for the tasks ``ids``; the worker's rate and each task's time."""
        from django_tasks_db.models import DBTaskResult

        done_states = ("SUCCESSFUL", "FAILED")
        deadline = time.monotonic() + PHASE_SECONDS
        tasks = DBTaskResult.objects.filter(id__in=ids)
        while time.monotonic() < deadline:
            if tasks.filter(status__in=done_states).count() == len(ids):
                break
            time.sleep(0.2)
        finished = [
            (status, started, ended)
            for status, started, ended in tasks.filter(status__in=done_states).values_list(
                "status", "started_at", "finished_at"
            )
            if started is not None and ended is not None
        ]
        if not finished:
            raise RuntimeError(f"no {kind} task finished within {PHASE_SECONDS} s")
        span = (max(f for _, _, f in finished) - min(s for _, s, _ in finished)).total_seconds()
        each = [(f - s).total_seconds() * 1000 for _, s, f in finished]
        return {
            "tasks": len(ids),
            "done": len(finished),
            "failed": sum(1 for status, _, _ in finished if status == "FAILED"),
            "per_second": len(finished) / span if span > 0 else 0.0,
            "median_ms": statistics.median(each),
        }

    def nothing(self, count: int) -> None:
        from django.db import transaction

        from bench.benchapp.tasks import nothing

        with transaction.atomic():
            ids = [str(nothing.enqueue().id) for _ in range(count)]
        self.rows["nothing"].append(self.wait(ids, "nothing"))

    def offers(self, count: int) -> None:
        """``count`` waiting calls offered to as many volunteers, as routing leaves them;
        rung, then withdrawn."""
        from django.db import transaction

        from tuidang.calls import tasks
        from tuidang.calls.case_codes import new_case_code
        from tuidang.calls.models import Call, Offer
        from tuidang.lib.languages import Language
        from tuidang.volunteers.models import Presence, Volunteer

        volunteers = self.volunteer_rows[:count]
        stamp = time.monotonic_ns()
        with transaction.atomic():
            Volunteer.objects.filter(pk__in=[v.pk for v in volunteers]).update(
                presence=Presence.RINGING
            )
            calls = Call.objects.bulk_create(
                Call(
                    provider_sid=f"CAbench{stamp}x{k}",
                    hotline_number=self.number,
                    how_heard=self.number.how_heard,
                    caller_key=f"{stamp:032x}{k:032x}"[-64:],
                    case_code=new_case_code(),
                    language=Language.MANDARIN,
                    state=Call.State.OFFERED,
                    region=self.region,
                )
                for k in range(count)
            )
            offers = Offer.objects.bulk_create(
                Offer(call=call, volunteer=volunteer)
                for call, volunteer in zip(calls, volunteers, strict=True)
            )
            ids = [str(tasks.ring_volunteer.enqueue(offer_id=offer.pk).id) for offer in offers]
        self.rows["ring_volunteer"].append(self.wait(ids, "ring_volunteer"))
        with transaction.atomic():
            Offer.objects.filter(pk__in=[offer.pk for offer in offers]).update(
                state=Offer.State.CANCELED
            )
            Call.objects.filter(pk__in=[call.pk for call in calls]).update(
                state=Call.State.COMPLETED
            )
            ids = [str(tasks.withdraw_offer.enqueue(offer_id=offer.pk).id) for offer in offers]
        self.rows["withdraw_offer"].append(self.wait(ids, "withdraw_offer"))

    def publication(self, batches: int, batch: int) -> None:
        """``batches`` publications of ``batch`` declarations each, one after the other;
        each enqueues the signing of its checkpoint."""
        from django.db import transaction
        from django.utils import timezone
        from django_tasks_db.models import DBTaskResult

        from tuidang.calls.case_codes import new_case_code
        from tuidang.calls.models import Call
        from tuidang.declarations.publication import PUBLICATION_JOB
        from tuidang.declarations.services import declaration_record
        from tuidang.jobs.tasks import periodic_run

        published, signing = [], []
        for _ in range(batches):
            stamp = time.monotonic_ns()
            call = Call.objects.create(
                provider_sid=f"CAbench{stamp}",
                hotline_number=self.number,
                how_heard=self.number.how_heard,
                caller_key=f"{stamp:064x}"[-64:],
                case_code=new_case_code(),
                state=Call.State.COMPLETED,
                region=self.region,
            )
            declaration_record(call=call, people=_people(batch, self.region), recorded_by=self.user)
            before = timezone.now()
            with transaction.atomic():
                result = periodic_run.enqueue(name=PUBLICATION_JOB, now=before.isoformat())
            row = self.wait([str(result.id)], "publication")
            published.append(row)
            signed = DBTaskResult.objects.filter(
                task_path="tuidang.tlog.tasks.sign_checkpoint", enqueued_at__gte=before
            ).values_list("id", flat=True)
            signing.append(self.wait([str(pk) for pk in signed], "sign_checkpoint"))
        # One publication a task: its rate is declarations a second.
        self.rows["publication"].append(
            {
                "tasks": batches,
                "done": sum(r["done"] for r in published),
                "failed": sum(r["failed"] for r in published),
                "per_second": batch * 1000 / statistics.median(r["median_ms"] for r in published),
                "median_ms": statistics.median(r["median_ms"] for r in published),
            }
        )
        self.rows["sign_checkpoint"].append(
            {
                "tasks": sum(r["tasks"] for r in signing),
                "done": sum(r["done"] for r in signing),
                "failed": sum(r["failed"] for r in signing),
                "per_second": 1000 / statistics.median(r["median_ms"] for r in signing),
                "median_ms": statistics.median(r["median_ms"] for r in signing),
            }
        )


def measure_one(args: argparse.Namespace) -> None:
    import django

    django.setup()
    measure = Measure(volunteers=args.offers)
    worker = subprocess.Popen(
        [PYTHON, "-m", "tuidang.manage", "worker", "--no-scheduler"],
        env=os.environ, cwd=ROOT, stdout=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        for _ in range(args.rounds):
            measure.nothing(args.nothing)
            measure.offers(args.offers)
            measure.publication(args.batches, args.batch)
            measure.nothing(args.nothing)
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    Path(args.json).write_text(json.dumps(measure.rows))


# --- The bench -----------------------------------------------------------------------------


def _reachable(url: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", connect_timeout=3):
            return True
    except Exception:
        return False


def run_database(name: str, url: str, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    env = server_env(url, work)
    env["TASKS_BACKEND"] = "database"
    prepare_database(url, env)
    out = work / f"{name}.json"
    subprocess.run(
        [PYTHON, "-m", "bench.worker_bench", "--measure", str(out),
         "--rounds", str(args.rounds), "--nothing", str(args.nothing),
         "--offers", str(args.offers), "--batches", str(args.batches),
         "--batch", str(args.batch)],
        env=env, cwd=ROOT, check=True, timeout=1800,
    )  # fmt: skip
    rows: dict[str, Any] = json.loads(out.read_text())
    return rows


def render(results: dict[str, dict[str, Any]], args: argparse.Namespace, load: str) -> str:
    lines = [
        f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}, load average {load} "
        f"(the machine is shared). One `tuidang worker --no-scheduler`; {args.rounds} rounds, "
        f"each: {args.nothing} no-op tasks, {args.offers} offers rung and then withdrawn, "
        f"{args.batches} publications of {args.batch} declarations (each followed by the "
        f"signing of its checkpoint), {args.nothing} no-op tasks again.",
        "",
        "| database | task | tasks run (failed) | per second | median ms a task | ÷ no-op rate |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for database, rows in results.items():
        baseline = statistics.median(r["per_second"] for r in rows["nothing"])
        for kind in KINDS:
            done = sum(r["done"] for r in rows[kind])
            failed = sum(r["failed"] for r in rows[kind])
            rate = statistics.median(r["per_second"] for r in rows[kind])
            median_ms = statistics.median(r["median_ms"] for r in rows[kind])
            label = {
                "nothing": "no-op (baseline)",
                "ring_volunteer": "`ring_volunteer` (offer a call)",
                "withdraw_offer": "`withdraw_offer` (and route again)",
                "publication": f"publication of {args.batch} declarations",
                "sign_checkpoint": "`sign_checkpoint`",
            }[kind]
            unit = " declarations" if kind == "publication" else ""
            ratio = "" if kind == "nothing" else f"{rate / baseline:.0%}"
            if kind == "publication":
                ratio = ""  # a rate of declarations, not of tasks
            lines.append(
                f"| {database} | {label} | {done} ({failed}) | {rate:,.0f}{unit} "
                f"| {median_ms:.1f} | {ratio} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--nothing", type=int, default=300, help="no-op tasks a round")
    parser.add_argument("--offers", type=int, default=200, help="calls offered a round")
    parser.add_argument("--batches", type=int, default=3, help="publications a round")
    parser.add_argument("--batch", type=int, default=200, help="declarations a publication")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # the child, on one database
    args = parser.parse_args()
    if args.measure:
        args.json = args.measure
        measure_one(args)
        return
    load_before = os.getloadavg()[0]
    results = {}
    with tempfile.TemporaryDirectory(prefix="tuidang-worker-bench-") as folder:
        work = Path(folder)
        results["SQLite"] = run_database(
            "sqlite", f"sqlite:///{work / 'bench.sqlite3'}", work, args
        )
        if not args.no_postgres and _reachable(PG_URL):
            results["PostgreSQL"] = run_database("postgresql", PG_URL, work, args)
    load = f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    report = render(results, args, load)
    print(report)
    if args.write_docs:
        update_docs("worker-bench", report)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
