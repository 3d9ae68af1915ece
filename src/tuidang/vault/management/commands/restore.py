"""`tuidang restore`: restore an encrypted backup, after checking every byte of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tuidang.vault.backups import BackupError, Database, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup made by `tuidang backup`. The whole file is decrypted and checked "
        "first: a damaged, altered or truncated backup is refused and nothing is touched. "
        "Stop the hotline before restoring over its own database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", type=Path, help="the backup file")
        parser.add_argument(
            "--force", action="store_true", help="replace a database that is not empty"
        )
        parser.add_argument(
            "--database-url",
            help="restore into this database instead of the configured one (a restore drill)",
        )
        parser.add_argument(
            "--recordings-dir",
            type=Path,
            help="where recordings kept on local disk (STORAGE_BACKEND=files) go (default: "
            "var/recordings, or nowhere with --database-url); those kept in the database "
            "come back with it",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            database = (
                Database.from_url(options["database_url"]) if options["database_url"] else None
            )
            result = backup_restore(
                path=options["path"],
                database=database,
                force=options["force"],
                recordings_dir=options["recordings_dir"],
            )
        except BackupError as exc:
            raise CommandError(f"nothing was restored: {exc}") from exc
        manifest = result.manifest
        self.stdout.write(
            self.style.SUCCESS(
                f"Restored the {manifest['vendor']} backup of {manifest['created_at']} and "
                f"{result.recordings} recordings."
            )
        )
        self.stdout.write("Check it: tuidang verify-log")
