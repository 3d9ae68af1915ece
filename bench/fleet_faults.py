"""The longer night of the fleet's fault test: calls placed, answered and lost.

The same fleet and faults as `make test`'s short night (src/tuidang/testing/fleet.py):
two `tuidang serve` app servers and two `tuidang worker`s behind HAProxy, on a PostgreSQL
and a Redis of the fleet's own, on 127.0.0.1; one app server killed with SIGKILL and
started again, one worker killed mid-task, Redis and PostgreSQL restarted, while genuine
callers among hired ones ring and volunteers answer and record declarations. The run is
bounded by its list of calls and its deadlines, and stops every process it started.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from bench.common import machine, update_docs

if TYPE_CHECKING:
    from tuidang.testing.fleet import Report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--genuine", type=int, default=40)
    parser.add_argument("--hired", type=int, default=80)
    parser.add_argument("--seconds", type=float, default=240, help="over which calls arrive")
    parser.add_argument("--volunteers", type=int, default=4)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()

    from tuidang.testing.fleet import run

    load_before = os.getloadavg()[0]
    report = run(
        genuine=args.genuine, hired=args.hired, seconds=args.seconds, volunteers=args.volunteers
    )
    load = f"{load_before:.1f} before and {os.getloadavg()[0]:.1f} after"
    text = render(report, args, load)
    print(text)
    print(asdict(report))
    if args.write_docs:
        update_docs("fleet-faults", text)
    stuck = len(report.stuck_calls) + len(report.stuck_offers) + len(report.stuck_volunteers)
    if (
        report.lost
        or stuck
        or report.tasks_left_running
        or report.voicemails_not_playable
        or report.declarations_missing
        or not report.verify_log_ok
    ):
        raise SystemExit("The fleet lost a caller, a declaration or the log's consistency")


def render(report: Report, args: argparse.Namespace, load: str) -> str:
    """The night's report as docs/benchmarks.md shows it: per fault, then what was asked."""
    lost = len(report.lost)
    stuck = len(report.stuck_calls) + len(report.stuck_offers) + len(report.stuck_volunteers)
    every_caller = report.reached_volunteer + report.left_voicemail == report.genuine_callers
    readyz_back = bool(report.readiness) and all(
        set(entry.down.values()) == {503} and set(entry.up.values()) == {200}
        for entry in report.readiness
    )
    readiness = "; ".join(
        f"{entry.dependency} down: "
        f"{', '.join(f'{name} {status}' for name, status in entry.down.items())}, "
        f"back: {', '.join(f'{name} {status}' for name, status in entry.up.items())}"
        for entry in report.readiness
    )
    sizes = [line.rsplit(" ", 1)[-1].rstrip(".") for line in report.verify_log]
    windows = [
        f"| {window.fault} | {window.began:.0f}–{window.ended:.0f} s | {window.calls_placed} "
        f"| {window.genuine} | {window.reached_volunteer} | {window.left_voicemail} "
        f"| {window.lost} |"
        for window in report.fault_windows
    ]
    text = "\n".join(
        [
            f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}, load average "
            f"{load} (the machine is shared): "
            f"{args.volunteers} volunteers, {report.calls_placed} calls placed "
            f"({report.genuine_callers} genuine callers, {report.hired_calls} hired calls) "
            f"arriving over {args.seconds:.0f} s, the night over in {report.seconds:.0f} s.",
            "",
            "Each fault, from its onset until the fleet was whole again, and the callers "
            "whose calls were under way at some moment of it:",
            "",
            "| fault | seconds into the night | calls under way | genuine callers "
            "| answered by a volunteer | left a voicemail | lost |",
            "| --- | --- | --- | --- | --- | --- | --- |",
            *windows,
            f"| the whole night | 0–{report.seconds:.0f} s | {report.calls_placed} "
            f"| {report.genuine_callers} | {report.reached_volunteer} "
            f"| {report.left_voicemail} | {lost} |",
            "",
            "| what the fleet must do | result |",
            "| --- | --- |",
            f"| every genuine caller reached a volunteer or left a voicemail | "
            f"{'yes' if every_caller and not lost else 'NO'}: "
            f"{report.reached_volunteer + report.left_voicemail} of {report.genuine_callers}"
            f", lost: {lost} |",
            f"| every voicemail plays on every node | "
            f"{'yes' if not report.voicemails_not_playable else 'NO'} "
            f"({report.left_voicemail} voicemails, "
            f"{len(report.voicemails_not_playable)} not playable) |",
            f"| no call, offer or volunteer stuck in a state that should have moved on | "
            f"{'none stuck' if not stuck else 'STUCK'}: {len(report.stuck_calls)} calls, "
            f"{len(report.stuck_offers)} offers, {len(report.stuck_volunteers)} volunteers |",
            f"| no task a killed worker was running left unfinished | "
            f"{'none' if not report.tasks_left_running else ', '.join(report.tasks_left_running)}"
            f" (the worker was killed {'mid-task' if report.worker_killed_mid_task else 'idle'})"
            " |",
            f"| no acknowledged declaration missing | "
            f"{'none missing' if not report.declarations_missing else 'MISSING'}: "
            f"{report.declarations_missing} of {report.declarations_acknowledged} |",
            f"| `tuidang verify-log` after each fault and at the end | "
            f"{'passes' if report.verify_log_ok else 'FAILS'}, {len(report.verify_log)} runs, "
            f"each consistent with the checkpoint before (log size {' → '.join(sizes)}) |",
            f"| `/readyz` went not-ready while a dependency was down, and back | "
            f"{'yes' if readyz_back else 'NO'}: {readiness} |",
            f"| calls that heard an application error (the caller rang again) | "
            f"{report.application_errors} |",
            f"| the faults, in order | {' · '.join(report.faults)} |",
        ]
    )
    return text


if __name__ == "__main__":
    main()
