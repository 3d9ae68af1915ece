"""`tuidang verify-log`: check the log as an outsider would."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tuidang.tlog.note import NoteError, Verifier
from tuidang.tlog.verify import HttpSource, LocalSource, Source, VerificationError, verify


class Command(BaseCommand):
    help = (
        "Check the transparency log: the checkpoint's signature, that the entries hash to "
        "its root, that it extends the checkpoint seen last time, and the public total."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", help="a deployed hotline (default: this database)")
        parser.add_argument("--key", help="the verifier key (default: this hotline's own)")
        parser.add_argument("--state", type=Path, help="file keeping the last checkpoint seen")

    def handle(self, *args: Any, **options: Any) -> None:
        from tuidang.tlog.services import verifier_key

        try:
            verifier = Verifier.parse(options["key"] or verifier_key())
        except NoteError as exc:
            raise CommandError(f"bad verifier key: {exc}") from exc
        source: Source = HttpSource(options["url"]) if options["url"] else LocalSource()
        try:
            report = verify(source, verifier, state=options["state"])
        except (VerificationError, NoteError) as exc:
            raise CommandError(f"the log does NOT verify: {exc}") from exc
        for line in report.checked:
            self.stdout.write(f"ok  {line}")
        self.stdout.write(self.style.SUCCESS(f"The log verifies at size {report.checkpoint.size}."))
