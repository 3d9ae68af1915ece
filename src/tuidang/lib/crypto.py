"""Encryption at rest for identifying free text (aliases, statements, notes) and audio.

AES-256-GCM with a fresh 96-bit nonce per value. The associated data binds each
ciphertext to its table, row and field, so a value copied into another row or column
does not decrypt. The blob is a format byte, the version of the data key that sealed it,
the nonce and the ciphertext; nothing in it tells when it was made. Data keys are
versioned and wrapped by a key-encryption key outside the database (lib/keys.py): the
newest seals, every key still held opens, and `tuidang rotate-keys` re-seals everything
under a new one and deletes the old.
"""

from __future__ import annotations

import os
import time

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tuidang.lib import keys

_FORMAT = 1
_NONCE_BYTES = 12
_TAG_BYTES = 16
HEADER_BYTES = 2


class DecryptionError(Exception):
    """The value was tampered with, moved, or sealed under a key we no longer hold."""


def _aad(table: str, row: str, field: str) -> bytes:
    return f"tuidang:{table}:{row}:{field}".encode()


def key_version(blob: bytes) -> int | None:
    """The version of the data key that sealed ``blob`` (None: not a sealed value)."""
    if len(blob) < HEADER_BYTES + _NONCE_BYTES + _TAG_BYTES or blob[0] != _FORMAT:
        return None
    return blob[1]


class Sealer:
    """Seals values under the newest key; one cipher for many values (imports seal
    hundreds of thousands). It picks up a newer key within FIELD_KEY_CACHE_SECONDS."""

    def __init__(self) -> None:
        self._load(refresh=False)

    def _load(self, *, refresh: bool) -> None:
        # Counted from when the key table was read, not from when this sealer was made:
        # no value is sealed under a key older than FIELD_KEY_CACHE_SECONDS allows, which
        # is what `rotate-keys` waits for before it deletes an old key.
        version, key, self._loaded_at = keys.sealing_key(refresh=refresh)
        self.version = version
        self._prefix = bytes([_FORMAT, version])
        self._cipher = AESGCM(key)

    def seal(self, data: bytes, *, table: str, row: str, field: str) -> bytes:
        if time.monotonic() - self._loaded_at >= keys.cache_seconds():
            self._load(refresh=True)
        nonce = os.urandom(_NONCE_BYTES)
        return self._prefix + nonce + self._cipher.encrypt(nonce, data, _aad(table, row, field))


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
    nonce, ciphertext = blob[2 : 2 + _NONCE_BYTES], blob[2 + _NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, _aad(table, row, field))
    except InvalidTag as exc:
        raise DecryptionError("value does not open under its key and place") from exc


def seal(plaintext: str, *, table: str, row: str, field: str) -> bytes:
    return seal_bytes(plaintext.encode(), table=table, row=row, field=field)


def unseal(blob: bytes, *, table: str, row: str, field: str) -> str:
    try:
        return unseal_bytes(blob, table=table, row=row, field=field).decode()
    except UnicodeDecodeError as exc:
        raise DecryptionError("value is not text") from exc
