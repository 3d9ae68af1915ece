"""`tuidang backfill-reports`: count the calls kept from before the reports existed, or
count a span again (after a queue's service-level threshold changed)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Max, Min

from tuidang.calls.models import Call
from tuidang.reports.counting import counts_backfill, hotline_zone


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CommandError(f"{text!r} is not a date as 2026-03-02") from None


class Command(BaseCommand):
    help = (
        "Count the ended calls of a span of days into the reports' counts (the hotline's "
        "time zone), replacing what was counted there; by default every call kept."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--since", help="first day, as 2026-03-02 (default: first call)")
        parser.add_argument("--until", help="last day, as 2026-03-31 (default: last call)")

    def handle(self, *args: Any, **options: Any) -> None:
        zone = hotline_zone()
        span = Call.objects.aggregate(first=Min("started_at"), last=Max("started_at"))
        if span["first"] is None and not (options["since"] and options["until"]):
            self.stdout.write("No calls to count.")
            return
        first = _day(options["since"]) if options["since"] else _local(span["first"], zone)
        last = _day(options["until"]) if options["until"] else _local(span["last"], zone)
        if last < first:
            raise CommandError(f"--until {last} is before --since {first}")
        counts_backfill(first=first, last=last)
        self.stdout.write(f"Counted the calls of {first} to {last}.")


def _local(moment: datetime, zone: Any) -> date:
    return moment.astimezone(zone).date()
