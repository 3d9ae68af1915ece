"""``tuidang fill-history``: a year of invented history, for benchmarks (demo/history.py)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tuidang.demo.history import HistorySize, history_fill


class Command(BaseCommand):
    help = (
        "Fill the database with a year of invented history: calls from hired and genuine "
        "callers with their offers and voicemails, screening scores and blocks, "
        "declarations with their log, volunteers. For benchmarks, never a live hotline."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        defaults = HistorySize()
        parser.add_argument("--calls", type=int, default=defaults.calls)
        parser.add_argument("--keys", type=int, default=defaults.keys, help="caller keys")
        parser.add_argument("--declarations", type=int, default=defaults.declarations)
        parser.add_argument("--volunteers", type=int, default=defaults.volunteers)
        parser.add_argument("--seed", type=int, default=14)

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.TELEPHONY_PROVIDER != "simulated":
            # Invented declarations appended to a live log would stay in its total for ever.
            raise CommandError(
                "fill-history invents calls and declarations and appends them to the public "
                "log for ever: it runs only where the simulated phone network is chosen "
                "(TELEPHONY_PROVIDER=simulated, a demo or a benchmark), never on a live hotline."
            )
        size = HistorySize(
            calls=options["calls"],
            keys=options["keys"],
            declarations=options["declarations"],
            volunteers=options["volunteers"],
        )
        for name in ("calls", "keys", "declarations", "volunteers"):
            if getattr(size, name) < 1:
                raise CommandError(f"--{name} must be at least 1.")
        started = time.monotonic()
        verbosity = int(options["verbosity"])

        def progress(stage: str, done: int, total: int) -> None:
            if verbosity >= 2 or done == total:
                self.stdout.write(f"{stage}: {done:,} of {total:,}")

        filled = history_fill(size=size, seed=options["seed"], progress=progress)
        self.stdout.write(
            f"A year of history in {time.monotonic() - started:.0f} s: {filled.calls:,} calls, "
            f"{filled.offers:,} offers, {filled.voicemails:,} voicemails, "
            f"{filled.scores:,} screening scores, {filled.blocks:,} blocks, "
            f"{filled.declarations:,} declarations, {filled.volunteers} volunteers."
        )
