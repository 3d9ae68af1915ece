"""`tuidang reconcile`: settle calls, offers and volunteers a lost status callback left open."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tuidang.calls.services import calls_reconcile


class Command(BaseCommand):
    help = (
        "Ask the telephony provider where each call, offer and volunteer left ringing or "
        "on a call really stands, and settle those that have ended (the workers do it "
        "every RECONCILE_INTERVAL_SECONDS)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="only print what would be settled"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        dry_run = options["dry_run"]
        settled = calls_reconcile(dry_run=dry_run)
        for item in settled:
            self.stdout.write(str(item))
        verb = "Would settle" if dry_run else "Settled"
        self.stdout.write(self.style.SUCCESS(f"{verb} {len(settled)}: nothing else is stuck."))
