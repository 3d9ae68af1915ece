"""Encryption at rest for identifying free text (aliases, statements, notes) and audio,
under the data keys (vault/keys.py).

Values are sealed with AES-256-GCM bound to their table, row and field (lib/crypto.py).
Data keys are versioned and wrapped by a key-encryption key outside the database: the
newest seals, every key still held opens, and `tuidang rotate-keys` re-seals everything
under a new one and deletes the old.
"""

from __future__ import annotations

import time

from tuidang.lib.crypto import Cipher, DecryptionError, key_version, open_sealed
from tuidang.vault import keys

__all__ = [
    "DecryptionError",
    "Sealer",
    "key_version",
    "seal",
    "seal_bytes",
    "unseal",
    "unseal_bytes",
]


class Sealer(Cipher):
    """Seals values under the newest key; one cipher for many values (imports seal
    hundreds of thousands). It picks up a newer key within FIELD_KEY_CACHE_SECONDS."""

    def __init__(self) -> None:
        self._load(refresh=False)

    def _load(self, *, refresh: bool) -> None:
        # Counted from when the key table was read, not from when this sealer was made:
        # no value is sealed under a key older than FIELD_KEY_CACHE_SECONDS allows, which
        # is what `rotate-keys` waits for before it deletes an old key.
        version, key, self._loaded_at = keys.sealing_key(refresh=refresh)
        super().__init__(version, key)

    def seal(self, data: bytes, *, table: str, row: str, field: str) -> bytes:
        if time.monotonic() - self._loaded_at >= keys.cache_seconds():
            self._load(refresh=True)
        return super().seal(data, table=table, row=row, field=field)


def seal_bytes(data: bytes, *, table: str, row: str, field: str) -> bytes:
    return Sealer().seal(data, table=table, row=row, field=field)


def unseal_bytes(blob: bytes, *, table: str, row: str, field: str) -> bytes:
    blob = bytes(blob)
    version = key_version(blob)
    if version is None:
        raise DecryptionError("not a sealed value")
    try:
        key = keys.key_for(version)
    except keys.KeyUnavailable as exc:
        raise DecryptionError(str(exc)) from exc
    return open_sealed(blob, key=key, table=table, row=row, field=field)


def seal(plaintext: str, *, table: str, row: str, field: str) -> bytes:
    return seal_bytes(plaintext.encode(), table=table, row=row, field=field)


def unseal(blob: bytes, *, table: str, row: str, field: str) -> str:
    try:
        return unseal_bytes(blob, table=table, row=row, field=field).decode()
    except UnicodeDecodeError as exc:
        raise DecryptionError("value is not text") from exc
