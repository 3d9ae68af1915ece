"""`tuidang purge`: delete or anonymise what is past its retention period, now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tuidang.jobs.retention import cutoffs, retention_kept, retention_purge


class Command(BaseCommand):
    help = (
        "Delete recordings, notes and postal addresses past their retention period, and "
        "strip old calls of what links them to a caller. Statistics and the log stay."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="only count what would be purged"
        )
        parser.add_argument(
            "--now",
            help="purge as of this ISO 8601 time (default: now); a later time only with "
            "--dry-run, to preview what that day's purge would take",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        if options["now"]:
            try:
                now = datetime.fromisoformat(options["now"])
            except ValueError as exc:
                raise CommandError(f"--now must be an ISO 8601 time: {exc}") from exc
            if timezone.is_naive(now):
                now = timezone.make_aware(now)
            if now > timezone.now() and not options["dry_run"]:
                raise CommandError(
                    f"--now {now.isoformat()} is in the future: it would delete now what is "
                    "not yet due. Add --dry-run to preview that day's purge."
                )
        try:
            limits = cutoffs(now)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for kind, before in limits.items():
            self.stdout.write(f"{kind}: older than {before:%Y-%m-%d %H:%M %Z}")
        report = retention_purge(now=now, dry_run=options["dry_run"])
        verb = "Would purge" if options["dry_run"] else "Purged"
        kept = retention_kept()
        for kind, count in report.counts.items():
            if kind not in kept:
                self.stdout.write(f"{verb} {count} {kind}")
        for kind, notice in kept.items():
            if held := report.counts[kind]:
                self.stdout.write(self.style.WARNING(notice(held, options["dry_run"])))
        self.stdout.write(self.style.SUCCESS(f"{verb}: {report.summary()}."))
