"""`tuidang import-declarations FILE`: bring historical declarations into the registry."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tuidang.declarations.imports import (
    BATCH,
    ImportFailed,
    ImportRejected,
    Unreadable,
    import_declarations,
    registry_analyze,
    rows_read,
)


class Command(BaseCommand):
    help = (
        "Import declarations from CSV or JSON lines (fields: key, date, organizations, region, "
        "channel, relationship, alias, consent). Every row is checked before anything is "
        "written; rows already imported (by key) are skipped."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--format", choices=["csv", "jsonl"], help="default: by extension")
        parser.add_argument(
            "--batch-size",
            type=int,
            default=BATCH,
            help=f"rows per transaction (default {BATCH}); a crash loses at most one batch",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        try:
            rows = rows_read(path, options["format"])
        except Unreadable as exc:
            raise CommandError(str(exc)) from exc
        except ImportRejected as rejected:
            for error in rejected.errors:
                self.stderr.write(error)
            raise CommandError(f"{len(rejected.errors)} bad rows; nothing was imported") from None

        def progress(done: int, total: int) -> None:
            sys.stderr.write(f"\r{done}/{total} rows")
            sys.stderr.flush()

        try:
            imported, skipped = import_declarations(
                rows, progress=progress, batch_size=options["batch_size"]
            )
        except ImportFailed as failure:
            sys.stderr.write("\n")
            raise CommandError(
                f"The import stopped: {failure}. Every batch reported above is committed, "
                "whole; running the same command again imports the rest."
            ) from failure
        if imported:
            registry_analyze()
        sys.stderr.write("\n")
        self.stdout.write(
            self.style.SUCCESS(f"Imported {imported} declarations; {skipped} were already there.")
        )
