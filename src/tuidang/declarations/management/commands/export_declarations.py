"""`tuidang export-declarations`: what may be public of every declaration."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from tuidang.declarations.imports import export_declarations


class Command(BaseCommand):
    help = "Export declarations (public fields and log index; never aliases) as CSV or JSON lines."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=["csv", "jsonl"], default="jsonl")

    def handle(self, *args: Any, **options: Any) -> None:
        count = export_declarations(self.stdout, options["format"])
        self.stderr.write(f"{count} declarations exported")
