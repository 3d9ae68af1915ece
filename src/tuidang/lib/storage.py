"""Storage every node of the hotline shares, chosen by ``STORAGE_BACKEND``.

Voicemail recordings (sealed by calls/recordings.py before they get here) and the prompts
coordinators upload are Django storages (``storages["recordings"]``, the default
storage): whichever app server or worker writes a file, every other reads it.

- ``database`` (the default): ``DatabaseStorage``, a table of files (``StoredFile``) in
  the database every node already shares; backed up with it.
- ``s3``: an S3-compatible object store through django-storages.
- ``files``: ``PrivateFileStorage`` under ``VAR_DIR``, for a hotline on one machine only.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from django.core.files.base import ContentFile, File
from django.core.files.storage import FileSystemStorage, Storage
from django.core.files.storage import storages as configured_storages
from django.db import transaction
from django.utils import timezone
from django.utils.deconstruct import deconstructible

from tuidang.lib.models import StoredFile


def local_directory(alias: str) -> Path | None:
    """The directory of storage ``alias`` when it is on this node's own disk, else None."""
    storage = configured_storages[alias]
    if isinstance(storage, FileSystemStorage):
        return Path(storage.location)
    return None


@deconstructible(path="tuidang.lib.storage.DatabaseStorage")
class DatabaseStorage(Storage):
    """Files as rows of ``StoredFile``, in one ``area`` of the table.

    With ``overwrite`` a name saved again replaces its file (a recording re-sealed under a
    new key); without, a new file never takes an existing name (two uploads named alike).
    The file is replaced in the same transaction that writes it: a reader sees the old
    bytes or the new, never a part.
    """

    def __init__(self, area: str = "media", overwrite: bool = False) -> None:
        self.area = area
        self.overwrite = overwrite

    def _files(self) -> Any:
        return StoredFile.objects.filter(area=self.area)

    def _open(self, name: str, mode: str = "rb") -> File[Any]:
        if "w" in mode or "a" in mode:
            raise ValueError("DatabaseStorage opens files for reading; save() writes them")
        data = self._files().filter(name=name).values_list("data", flat=True).first()
        if data is None:
            raise FileNotFoundError(f"no stored file {self.area}/{name}")
        return ContentFile(bytes(data), name=name)

    def _save(self, name: str, content: File[Any]) -> str:
        content.seek(0)
        data = content.read()
        if isinstance(data, str):
            data = data.encode()
        with transaction.atomic():
            self._files().update_or_create(
                area=self.area,
                name=name,
                defaults={"data": data, "size": len(data), "modified_at": timezone.now()},
            )
        return name

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        if self.overwrite:
            return name
        return super().get_available_name(name, max_length=max_length)

    def delete(self, name: str) -> None:
        self._files().filter(name=name).delete()

    def exists(self, name: str) -> bool:
        return bool(self._files().filter(name=name).exists())

    def listdir(self, path: str) -> tuple[list[str], list[str]]:
        prefix = f"{path.rstrip('/')}/" if path.strip("/") else ""
        names = self._files().filter(name__startswith=prefix).values_list("name", flat=True)
        directories: set[str] = set()
        files: list[str] = []
        for name in names:
            rest = name[len(prefix) :]
            if "/" in rest:
                directories.add(rest.split("/", 1)[0])
            else:
                files.append(rest)
        return sorted(directories), sorted(files)

    def size(self, name: str) -> int:
        size = self._files().filter(name=name).values_list("size", flat=True).first()
        if size is None:
            raise FileNotFoundError(f"no stored file {self.area}/{name}")
        return int(size)

    def get_modified_time(self, name: str) -> datetime:
        when: datetime | None = (
            self._files().filter(name=name).values_list("modified_at", flat=True).first()
        )
        if when is None:
            raise FileNotFoundError(f"no stored file {self.area}/{name}")
        return when

    def url(self, name: str | None) -> str:
        # Nothing here has an address of its own: views serve what they may (a prompt's
        # audio at /telephony/prompts/<id>/audio). The admin shows the name alone.
        return ""


@deconstructible(path="tuidang.lib.storage.PrivateFileStorage")
class PrivateFileStorage(FileSystemStorage):
    """Files on this node's disk, readable by their owner alone, each written whole.

    A file is written beside its name and renamed over it, so a reader never meets half a
    file; with ``overwrite`` a name saved again replaces its file."""

    def __init__(self, location: str, overwrite: bool = False) -> None:
        super().__init__(
            location=location, file_permissions_mode=0o600, directory_permissions_mode=0o700
        )
        self.overwrite = overwrite

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        if self.overwrite:
            return name
        return super().get_available_name(name, max_length=max_length)

    def _save(self, name: str, content: File[Any]) -> str:
        path = Path(self.path(name))
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_name(f".{path.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        handle: IO[bytes]
        with os.fdopen(fd, "wb") as handle:
            content.seek(0)
            for chunk in content.chunks():
                handle.write(chunk if isinstance(chunk, bytes) else chunk.encode())
        tmp.replace(path)
        return name
