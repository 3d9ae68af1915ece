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
from dataclasses import asdict
from datetime import UTC, datetime

from bench.common import machine, update_docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--genuine", type=int, default=40)
    parser.add_argument("--hired", type=int, default=80)
    parser.add_argument("--seconds", type=float, default=240, help="over which calls arrive")
    parser.add_argument("--volunteers", type=int, default=4)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()

    from tuidang.testing.fleet import run

    report = run(
        genuine=args.genuine, hired=args.hired, seconds=args.seconds, volunteers=args.volunteers
    )
    lost = len(report.lost)
    stuck = len(report.stuck_calls) + len(report.stuck_offers) + len(report.stuck_volunteers)
    readiness = "; ".join(
        f"{entry.dependency}: {', '.join(f'{k} {v}' for k, v in entry.down.items())} while down, "
        f"{', '.join(f'{k} {v}' for k, v in entry.up.items())} after"
        for entry in report.readiness
    )
    text = "\n".join(
        [
            f"Run on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()}: "
            f"{args.volunteers} volunteers, calls arriving over {args.seconds:.0f} s, "
            f"the night over in {report.seconds:.0f} s.",
            "",
            "| | value |",
            "| --- | --- |",
            f"| calls placed (genuine + hired) | {report.calls_placed} "
            f"({report.genuine_callers} + {report.hired_calls}) |",
            f"| genuine callers answered by a volunteer | {report.reached_volunteer} |",
            f"| genuine callers who left a voicemail | {report.left_voicemail} "
            f"(not playable on every node: {len(report.voicemails_not_playable)}) |",
            f"| genuine callers lost | {lost} |",
            f"| calls that heard an application error (the caller rang again) | "
            f"{report.application_errors} |",
            f"| calls, offers and volunteers left in a state that should have moved on | {stuck} |",
            f"| tasks a killed worker left running, never run again | "
            f"{', '.join(report.tasks_left_running) or 'none'} |",
            f"| declarations acknowledged at the desk / missing | "
            f"{report.declarations_acknowledged} / {report.declarations_missing} |",
            f"| `tuidang verify-log` after each fault and at the end | "
            f"{'passes' if report.verify_log_ok else 'FAILS'}: "
            f"{' · '.join(report.verify_log)} |",
            f"| `/readyz` | {readiness} |",
            f"| worker killed while running a task | {report.worker_killed_mid_task} |",
            f"| faults | {' · '.join(report.faults)} |",
        ]
    )
    print(text)
    print(asdict(report))
    if args.write_docs:
        update_docs("fleet-faults", text)
    if (
        lost
        or stuck
        or report.tasks_left_running
        or report.voicemails_not_playable
        or report.declarations_missing
        or not report.verify_log_ok
    ):
        raise SystemExit("The fleet lost a caller, a declaration or the log's consistency")


if __name__ == "__main__":
    main()
