"""`tuidang storage-import`: copy files a node kept on its own disk into shared storage.

Before ``STORAGE_BACKEND`` existed, voicemail recordings lived in ``VAR_DIR/recordings``
and uploaded prompts in ``MEDIA_ROOT`` on one machine. This copies them, byte for byte
(recordings stay sealed: nothing is opened), into the storages every node now reads. It
may run while the line is open and again safely: a file already there is left alone.
The local copies are kept; delete them once the hotline plays its messages.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from django.core.management.base import BaseCommand, CommandError, CommandParser

from tuidang.lib.storage import local_directory


class Command(BaseCommand):
    help = (
        "Copy recordings and uploaded prompts from this node's disk (VAR_DIR/recordings, "
        "MEDIA_ROOT) into the shared storage STORAGE_BACKEND names."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="say what would be copied, copy nothing"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sources = [
            (Path(settings.VAR_DIR) / "recordings", "recordings"),
            (Path(settings.MEDIA_ROOT), "default"),
        ]
        for directory, alias in sources:
            if alias not in settings.STORAGES:
                raise CommandError(f"STORAGES has no {alias!r} storage")
            if local_directory(alias) == directory:
                self.stdout.write(f"{directory}: already where {alias} is kept, nothing to copy.")
                continue
            copied, present = self._copy(directory, alias, dry_run=options["dry_run"])
            verb = "would copy" if options["dry_run"] else "copied"
            self.stdout.write(
                f"{directory}: {verb} {copied} files into {alias}, {present} were there already."
            )

    def _copy(self, directory: Path, alias: str, *, dry_run: bool) -> tuple[int, int]:
        storage = storages[alias]
        copied = present = 0
        if not directory.is_dir():
            return copied, present
        for path in sorted(p for p in directory.rglob("*") if p.is_file()):
            if path.name.startswith(".") or path.suffix == ".tmp":
                continue  # a write that never finished
            name = path.relative_to(directory).as_posix()
            if storage.exists(name):
                present += 1
                continue
            copied += 1
            if not dry_run:
                with path.open("rb") as handle:
                    saved = storage.save(name, File(handle, name=name))
                if saved != name:
                    raise CommandError(f"{alias} stored {name} as {saved}")
        return copied, present
