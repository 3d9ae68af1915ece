"""Encrypted storage for voicemail recordings, under ``var/recordings``.

A recording is sealed with AES-GCM bound to its voicemail (``<public_id>.sealed``). Key
rotation re-seals each file in place and retention deletes it, both under the voicemail
row's lock, so neither ever meets a half-written file.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from django.conf import settings

from tuidang.calls.models import Voicemail
from tuidang.lib.crypto import Sealer, key_version, seal_bytes, unseal_bytes

SUFFIX = ".sealed"


def directory() -> Path:
    directory = Path(settings.VAR_DIR) / "recordings"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


def _place(public_id: str) -> dict[str, str]:
    return {"table": Voicemail._meta.db_table, "row": public_id, "field": "audio"}


def _write(path: Path, blob: bytes) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(blob)
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
