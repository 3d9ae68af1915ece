"""`tuidang rotate-keys`: re-seal everything under a new data key, or re-wrap the data keys
under a new key-encryption key. Safe while the hotline runs; run again if interrupted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tuidang.vault import keys
from tuidang.vault.backups import Busy, backup_or_rotation_lock
from tuidang.vault.rotation import RotationError, data_key_rotate, data_keys_rewrap, sealed_versions


class Command(BaseCommand):
    help = (
        "Make a new data key, re-seal every sealed value and recording under it in small "
        "batches, then delete the old keys. With --new-kek-file, re-wrap the data keys "
        "under a new key-encryption key instead."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--new-kek-file",
            type=Path,
            help="re-wrap every data key under the KEK in this file, then use it as FIELD_KEK_FILE",
        )
        parser.add_argument("--batch-size", type=int, default=500, help="rows per batch")
        parser.add_argument(
            "--pause", type=float, default=0.05, help="seconds to pause between batches"
        )
        parser.add_argument(
            "--status", action="store_true", help="only show which key seals how many values"
        )
        parser.add_argument(
            "--no-wait",
            action="store_true",
            help="fail at once if a backup or another rotation is running, not wait",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["status"]:
            self._status()
            return
        try:
            # Never beside a backup: it dumps the database first and reads the recordings
            # later, which a rotation meanwhile would re-seal under a key not in the dump.
            with backup_or_rotation_lock(wait=not options["no_wait"], waiting=self._waiting):
                if options["new_kek_file"]:
                    self._rewrap(options["new_kek_file"])
                else:
                    self._rotate(options["batch_size"], options["pause"])
        except Busy as exc:
            raise CommandError(f"no key was changed: {exc}") from exc

    def _waiting(self) -> None:
        self.stdout.write("Waiting for the backup (or other rotation) under way to finish...")

    def _status(self) -> None:
        from tuidang.vault.models import DataKey

        for key in DataKey.objects.order_by("pk"):
            self.stdout.write(f"data key v{key.version}, wrapped by KEK {key.kek_id}")
        for label, counts in sealed_versions().items():
            shown = ", ".join(f"v{v}: {n}" for v, n in sorted(counts.items())) or "none"
            self.stdout.write(f"{label}: {shown}")

    def _rewrap(self, path: Path) -> None:
        try:
            new_kek = keys.kek_from_secret(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise CommandError(f"cannot read the new KEK from {path}: {exc}") from exc
        if new_kek == keys.configured_kek():
            raise CommandError("the new KEK is the one already configured")
        try:
            changed = data_keys_rewrap(new_kek=new_kek)
        except keys.KeyUnavailable as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(f"Re-wrapped {changed} data keys under KEK {keys.kek_id(new_kek)}.")
        )
        self.stdout.write(
            f"Now set FIELD_KEK_FILE={path} (or FIELD_KEK) for every process and restart them; "
            "then destroy the old KEK."
        )

    def _rotate(self, batch_size: int, pause: float) -> None:
        if batch_size < 1 or pause < 0:
            raise CommandError("--batch-size must be at least 1 and --pause not negative")

        def progress(label: str, count: int) -> None:
            if count:
                self.stdout.write(f"  {label}: re-sealed {count}")

        try:
            report = data_key_rotate(batch_size=batch_size, pause=pause, progress=progress)
        except (RotationError, keys.KeyUnavailable) as exc:
            raise CommandError(str(exc)) from exc
        verb = "Resumed the rotation to" if report.resumed else "Rotated to"
        total = sum(report.resealed.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} data key v{report.version}: {total} values re-sealed in "
                f"{report.passes} passes; deleted keys {report.destroyed or 'none'}."
            )
        )
        for problem in sorted(report.unreadable):
            self.stderr.write(f"could not open (left as it was): {problem}")
        if settings.FIELD_ENCRYPTION_KEY_LEGACY:
            self.stdout.write(
                "FIELD_ENCRYPTION_KEY (or var/secrets/field_encryption_key) now opens nothing: "
                "remove it."
            )
