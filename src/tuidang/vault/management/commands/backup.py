"""`tuidang backup`: an encrypted backup of the database and the sealed recordings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from tuidang.vault.backups import BackupError, Busy, backup_create, backup_or_rotation_lock


class Command(BaseCommand):
    help = (
        "Back up the database (SQLite's online backup, or pg_dump) and the sealed recordings "
        "into one file encrypted under BACKUP_KEY. Safe while the hotline runs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "path",
            nargs="?",
            type=Path,
            help="the file to write (default: var/backups/tuidang-<time>.backup)",
        )
        parser.add_argument(
            "--no-wait",
            action="store_true",
            help="fail at once if a key rotation or another backup is running, not wait",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings

        path: Path | None = options["path"]
        if path is None:
            directory = Path(settings.VAR_DIR) / "backups"
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            path = directory / f"tuidang-{timezone.now():%Y%m%dT%H%M%SZ}.backup"
        try:
            # Never beside a key rotation: it re-seals the recordings under a key, and
            # deletes keys, the database dumped first would not match.
            with backup_or_rotation_lock(wait=not options["no_wait"], waiting=self._waiting):
                result = backup_create(path=path)
        except (BackupError, Busy, OSError) as exc:
            raise CommandError(f"no backup was written: {exc}") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {result.path} ({result.size:,} bytes): the {result.manifest['vendor']} "
                f"database and {result.recordings} recordings, encrypted under BACKUP_KEY."
            )
        )
        self.stdout.write(
            "Restoring it needs BACKUP_KEY and FIELD_KEK: keep both, apart from the backup."
        )

    def _waiting(self) -> None:
        self.stdout.write("Waiting for the key rotation (or other backup) under way to finish...")
