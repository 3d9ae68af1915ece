"""`tuidang monitor <url>`: follow a log over time; exit non-zero on a split view.

    tuidang monitor https://hotline.example --key '<log verifier key>' --state seen.json \
        [--witness '<witness verifier key>' ...] [--interval 60]
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tuidang.tlog.cosignature import WitnessKey
from tuidang.tlog.monitor import HttpLog, Unreachable, monitor_run
from tuidang.tlog.note import NoteError, Verifier


class Command(BaseCommand):
    help = (
        "Check a log's checkpoint against every checkpoint seen before (kept in --state): "
        "exit 1 on a split view, a shrink, a bad signature or a public total that is not what "
        "the log counts."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("url", help="the hotline's address, e.g. https://hotline.example")
        parser.add_argument("--key", help="the log's verifier key (default: this hotline's)")
        parser.add_argument("--state", type=Path, required=True, help="the monitor's own file")
        parser.add_argument(
            "--witness", action="append", default=[], metavar="VKEY", help="a witness's key"
        )
        parser.add_argument(
            "--interval", type=float, help="look again every so many seconds (default: once)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from tuidang.tlog.services import verifier_key

        try:
            verifier = Verifier.parse(options["key"] or verifier_key())
            witnesses = [WitnessKey.parse(key) for key in options["witness"]]
        except NoteError as exc:
            raise CommandError(f"bad verifier key: {exc}") from exc
        log = HttpLog(options["url"])
        while True:
            try:
                report = monitor_run(
                    fetch_checkpoint=log.checkpoint,
                    read_tile=log.tile,
                    verifier=verifier,
                    state=options["state"],
                    witnesses=witnesses,
                    read_entries=log.entries,
                    public_total=log.public_total,
                )
            except Unreachable as exc:
                self.stderr.write(f"The log could not be read: {exc}")
                if options["interval"] is None:
                    raise CommandError("nothing was checked") from exc
            else:
                for line in report.checked:
                    self.stdout.write(f"ok  {line}")
                if witnesses:
                    names = ", ".join(report.cosigned_by) or "none"
                    self.stdout.write(
                        f"    cosigned by {len(report.cosigned_by)} of {len(witnesses)} "
                        f"witnesses given: {names}"
                    )
                if report.alarms:
                    for alarm in report.alarms:
                        self.stderr.write(f"ALARM  {alarm}")
                    raise CommandError(
                        f"the log misbehaved; the evidence is kept in {options['state']}"
                    )
            if options["interval"] is None:
                return
            self.stdout.flush()
            time.sleep(options["interval"])
