"""Encrypted storage for voicemail recordings, in the storage every node shares.

A recording is sealed with AES-GCM bound to its voicemail (``<public_id>.sealed``) before
it leaves the process, and kept in ``storages["recordings"]`` (lib/storage.py: a table of
the database by default, or an S3-compatible store): whichever worker fetched it, every
app server plays it, and the stored bytes are ciphertext whatever the backend. Key
rotation re-seals each recording in place and retention deletes it, both under the
voicemail row's lock, so neither ever meets a half-written one. The recordings are a
sealed store (``RecordingStore``, registered in calls/apps.py): key rotation and backups
find them there.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, storages
from django.db import transaction

from tuidang.calls.models import Voicemail
from tuidang.lib.crypto import DecryptionError, key_version
from tuidang.lib.storage import local_directory
from tuidang.vault.sealing import Sealer, seal_bytes, unseal_bytes
from tuidang.vault.stores import Resealed, SealedStore, opens

SUFFIX = ".sealed"
STORAGE = "recordings"  # the alias in settings.STORAGES


def storage() -> Storage:
    return storages[STORAGE]


def _place(public_id: str) -> dict[str, str]:
    return {"table": Voicemail._meta.db_table, "row": public_id, "field": "audio"}


def _write(name: str, blob: bytes) -> None:
    saved = storage().save(name, ContentFile(blob, name=name))
    assert saved == name, f"the recordings storage renamed {name} to {saved}"


def read_sealed(name: str) -> bytes:
    """The stored (sealed) bytes of the recording named ``name``."""
    with storage().open(name, "rb") as handle:
        return bytes(handle.read())


def store(voicemail: Voicemail, audio: bytes) -> str:
    name = f"{voicemail.public_id}{SUFFIX}"
    _write(name, seal_bytes(audio, **_place(str(voicemail.public_id))))
    return name


def load(voicemail: Voicemail) -> bytes:
    blob = read_sealed(voicemail.stored_name)
    return unseal_bytes(blob, **_place(str(voicemail.public_id)))


def delete(voicemail: Voicemail) -> bool:
    """Delete the recording; False when there was none."""
    if not voicemail.stored_name:
        return False
    existed = storage().exists(voicemail.stored_name)
    storage().delete(voicemail.stored_name)
    return existed


def stored_names() -> list[str]:
    """The name of every recording in storage, a voicemail's or a stray."""
    return sorted(name for name in storage().listdir("")[1] if name.endswith(SUFFIX))


def stored_at(name: str) -> datetime:
    return storage().get_modified_time(name)


def delete_name(name: str) -> None:
    storage().delete(name)


def reseal(name: str, sealer: Sealer) -> bool:
    """Seal the recording ``name`` again under ``sealer``'s key; False when it already
    is, or is gone. The caller holds the voicemail row's lock."""
    try:
        blob = read_sealed(name)
    except FileNotFoundError:
        return False  # deleted by retention meanwhile
    if key_version(blob) == sealer.version:
        return False
    place = _place(name.removesuffix(SUFFIX))
    _write(name, sealer.seal(unseal_bytes(blob, **place), **place))
    return True


def _sealed_blobs() -> Iterator[tuple[str, bytes]]:
    for name in stored_names():
        try:
            yield name, read_sealed(name)
        except FileNotFoundError:
            continue  # deleted by retention meanwhile


class RecordingStore(SealedStore):
    """The sealed recordings, for key rotation and backups."""

    label = "recordings"

    def holds_sealed_data(self) -> bool:
        # A voicemail's recording, not any: one without a row is a stray that retention
        # deletes.
        names = Voicemail.objects.exclude(stored_name="").values_list("stored_name", flat=True)
        return any(storage().exists(name) for name in names)

    def versions(self) -> Iterator[int]:
        for _name, blob in _sealed_blobs():
            version = key_version(blob[:64])
            if version is not None:
                yield version

    def reseal(self, sealer: Sealer, *, batch_size: int, pause: float) -> Resealed:
        done = Resealed()
        for name in stored_names():
            public_id = name.removesuffix(SUFFIX)
            # The row's lock keeps retention from deleting the file while it is rewritten.
            with transaction.atomic():
                list(Voicemail.objects.select_for_update().filter(public_id=public_id))
                try:
                    done.changed += reseal(name, sealer)
                except DecryptionError as exc:
                    done.unreadable.append(f"recording {name}: {exc}")
            if pause:
                time.sleep(pause)
        return done

    def opening_under(self, versions: set[int]) -> int:
        found = 0
        for name, blob in _sealed_blobs():
            if key_version(blob) in versions:
                found += opens(blob, **_place(name.removesuffix(SUFFIX)))
        return found

    def files(self) -> tuple[str, Path] | None:
        # Only recordings on this node's own disk ("files") are a backup's business: in
        # the database they are in its dump, and an object store keeps its own copies.
        directory = local_directory(STORAGE)
        return None if directory is None else ("recordings", directory)

    def stored_files(self) -> list[Path]:
        directory = local_directory(STORAGE)
        if directory is None or not directory.exists():
            return []  # not made here: a backup of a hotline without recordings
        return sorted(directory.glob(f"*{SUFFIX}"))
