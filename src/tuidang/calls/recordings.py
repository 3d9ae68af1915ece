"""Encrypted storage for voicemail recordings, under ``var/recordings``.

A recording is sealed with AES-GCM bound to its voicemail (``<public_id>.sealed``). Key
rotation re-seals each file in place and retention deletes it, both under the voicemail
row's lock, so neither ever meets a half-written file. The recordings are a sealed store
(``RecordingStore``, registered in calls/apps.py): key rotation and backups find them there.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import transaction

from tuidang.calls.models import Voicemail
from tuidang.lib.crypto import DecryptionError, key_version
from tuidang.vault.sealing import Sealer, seal_bytes, unseal_bytes
from tuidang.vault.stores import Resealed, SealedStore, opens

SUFFIX = ".sealed"


def _folder() -> Path:
    return Path(settings.VAR_DIR) / "recordings"


def directory() -> Path:
    directory = _folder()
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


def _place(public_id: str) -> dict[str, str]:
    return {"table": Voicemail._meta.db_table, "row": public_id, "field": "audio"}


def _write(path: Path, blob: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    # The owner's alone (0600) whatever the process's umask.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(blob)
    tmp.replace(path)  # never a half-written recording under the real name


def store(voicemail: Voicemail, audio: bytes) -> str:
    name = f"{voicemail.public_id}{SUFFIX}"
    _write(directory() / name, seal_bytes(audio, **_place(str(voicemail.public_id))))
    return name


def load(voicemail: Voicemail) -> bytes:
    blob = (directory() / voicemail.stored_name).read_bytes()
    return unseal_bytes(blob, **_place(str(voicemail.public_id)))


def delete(voicemail: Voicemail) -> bool:
    """Delete the recording's file; False when there was none."""
    if not voicemail.stored_name:
        return False
    path = directory() / voicemail.stored_name
    existed = path.exists()
    path.unlink(missing_ok=True)
    return existed


def stored_files() -> Iterator[Path]:
    yield from sorted(directory().glob(f"*{SUFFIX}"))


def reseal(path: Path, sealer: Sealer) -> bool:
    """Seal the recording at ``path`` again under ``sealer``'s key; False when it already
    is, or is gone. The caller holds the voicemail row's lock."""
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        return False  # deleted by retention meanwhile
    if key_version(blob) == sealer.version:
        return False
    place = _place(path.name.removesuffix(SUFFIX))
    _write(path, sealer.seal(unseal_bytes(blob, **place), **place))
    return True


class RecordingStore(SealedStore):
    """The sealed recordings, for key rotation and backups."""

    label = "recordings"

    def holds_sealed_data(self) -> bool:
        # A voicemail's file, not any file: one without a row is a stray that retention
        # deletes.
        names = Voicemail.objects.exclude(stored_name="").values_list("stored_name", flat=True)
        return any((directory() / name).exists() for name in names)

    def versions(self) -> Iterator[int]:
        for path in stored_files():
            version = key_version(path.read_bytes()[:64])
            if version is not None:
                yield version

    def reseal(self, sealer: Sealer, *, batch_size: int, pause: float) -> Resealed:
        done = Resealed()
        for path in stored_files():
            public_id = path.name.removesuffix(SUFFIX)
            # The row's lock keeps retention from deleting the file while it is rewritten.
            with transaction.atomic():
                list(Voicemail.objects.select_for_update().filter(public_id=public_id))
                try:
                    done.changed += reseal(path, sealer)
                except DecryptionError as exc:
                    done.unreadable.append(f"recording {path.name}: {exc}")
            if pause:
                time.sleep(pause)
        return done

    def opening_under(self, versions: set[int]) -> int:
        found = 0
        for path in stored_files():
            try:
                blob = path.read_bytes()
            except FileNotFoundError:
                continue  # deleted by retention meanwhile
            if key_version(blob) in versions:
                found += opens(blob, **_place(path.name.removesuffix(SUFFIX)))
        return found

    def files(self) -> tuple[str, Path] | None:
        return "recordings", _folder()

    def stored_files(self) -> list[Path]:
        folder = _folder()  # not made here: a backup of a hotline without recordings
        return sorted(folder.glob(f"*{SUFFIX}")) if folder.exists() else []
