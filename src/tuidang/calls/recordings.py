"""Encrypted storage for voicemail recordings, under ``var/recordings``."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from tuidang.calls.models import Voicemail
from tuidang.lib.crypto import seal_bytes, unseal_bytes


def _directory() -> Path:
    directory = Path(settings.VAR_DIR) / "recordings"
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    return directory


def _place(voicemail: Voicemail) -> dict[str, str]:
    return {"table": Voicemail._meta.db_table, "row": str(voicemail.public_id), "field": "audio"}


def store(voicemail: Voicemail, audio: bytes) -> str:
    name = f"{voicemail.public_id}.sealed"
    path = _directory() / name
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(seal_bytes(audio, **_place(voicemail)))
    tmp.replace(path)  # never a half-written recording under the real name
    return name


def load(voicemail: Voicemail) -> bytes:
    blob = (_directory() / voicemail.stored_name).read_bytes()
    return unseal_bytes(blob, **_place(voicemail))
