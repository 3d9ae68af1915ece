"""`tuidang verify-log`: check the log as an outsider would.

A command of the declarations, not of the log: the local check compares the log's count
of declarations less revocations with the public total, which the declarations keep.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tuidang.declarations.selectors import daily_cells, public_totals
from tuidang.tlog.note import NoteError
from tuidang.tlog.verify import BadKey, VerificationError, daily_csv, log_verify


class Command(BaseCommand):
    help = (
        "Check the transparency log: the checkpoint's signature, that the entries hash to "
        "its root, that it extends the checkpoint seen last time, and the public total."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", help="a deployed hotline (default: this database)")
        parser.add_argument("--key", help="the verifier key (default: this hotline's own)")
        parser.add_argument("--state", type=Path, help="file keeping the last checkpoint seen")
        parser.add_argument(
            "--witness",
            action="append",
            default=[],
            metavar="VKEY",
            help="a witness's verifier key; repeatable: the checkpoint must be cosigned",
        )
        parser.add_argument(
            "--figures",
            action="store_true",
            help="also recompute the open data's daily counts from the log and compare them",
        )
        parser.add_argument(
            "--write-figures",
            type=Path,
            metavar="CSV",
            help="write the daily counts the log holds, in the form of /data/daily.csv",
        )
        parser.add_argument(
            "--quorum",
            type=int,
            help="how many of the witnesses given must cosign it (default: all of them)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = log_verify(
                url=options["url"],
                key=options["key"],
                state=options["state"],
                local_total=lambda: public_totals().total,
                witnesses=options["witness"],
                quorum=options["quorum"],
                local_figures=daily_cells if options["figures"] else None,
            )
        except BadKey as exc:
            raise CommandError(f"bad verifier key or quorum: {exc}") from exc
        except (VerificationError, NoteError) as exc:
            raise CommandError(f"the log does NOT verify: {exc}") from exc
        for line in report.checked:
            self.stdout.write(f"ok  {line}")
        if options["write_figures"]:
            cells = sorted((+report.cells).items())
            with options["write_figures"].open("w", encoding="utf-8") as out:
                out.writelines(daily_csv((*cell, count) for cell, count in cells))
            self.stdout.write(f"The log's daily counts are in {options['write_figures']}.")
        self.stdout.write(self.style.SUCCESS(f"The log verifies at size {report.checkpoint.size}."))
