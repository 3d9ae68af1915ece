"""`tuidang verify-receipt <bundle>`: check a proof bundle offline.

    tuidang verify-receipt proof-42.txt --key '<log verifier key>' \
        --witness '<witness verifier key>' [--witness ...] [--quorum K]

No request is made: the bundle holds the entry, its inclusion proof and the cosigned
checkpoint, and the keys given are all that is trusted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tuidang.tlog.bundles import BadBundle, bundle_verify
from tuidang.tlog.cosignature import WitnessKey
from tuidang.tlog.note import NoteError, Verifier


class Command(BaseCommand):
    help = "Check a proof bundle offline: the entry is in the log, as its witnesses saw it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("bundle", type=Path, help="the proof bundle (proof-<index>.txt)")
        parser.add_argument("--key", help="the log's verifier key (default: this hotline's)")
        parser.add_argument(
            "--witness", action="append", default=[], metavar="VKEY", help="a witness's key"
        )
        parser.add_argument(
            "--quorum", type=int, help="how many of the witnesses must have cosigned (all)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from tuidang.tlog.services import verifier_key

        try:
            key = Verifier.parse(options["key"] or verifier_key())
            witnesses = [WitnessKey.parse(witness) for witness in options["witness"]]
        except NoteError as exc:
            raise CommandError(f"bad verifier key: {exc}") from exc
        try:
            text = options["bundle"].read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {options['bundle']}: {exc}") from exc
        try:
            proven = bundle_verify(text, log_key=key, witnesses=witnesses, quorum=options["quorum"])
        except BadBundle as exc:
            raise CommandError(f"the bundle does NOT verify: {exc}") from exc
        self.stdout.write(f"ok  entry {proven.index}: {proven.entry.decode(errors='replace')}")
        self.stdout.write(f"ok  in checkpoint {proven.checkpoint.size} signed by {key.name}")
        if witnesses:
            self.stdout.write(f"ok  cosigned by {', '.join(proven.cosigned_by) or 'no witness'}")
        self.stdout.write(self.style.SUCCESS("The receipt verifies."))
