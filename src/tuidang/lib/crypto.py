"""AES-256-GCM sealing under a given key, for identifying free text and audio.

A fresh 96-bit nonce per value. The associated data binds each ciphertext to its table,
row and field, so a value copied into another row or column does not decrypt. The blob
is a format byte, the version of the data key that sealed it, the nonce and the
ciphertext; nothing in it tells when it was made.

These are the primitives only: which key seals and which opens a version is the data
keys' business (vault/keys.py, vault/sealing.py).
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

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


class Cipher:
    """Seals values under one key of a given version; one cipher for many values."""

    def __init__(self, version: int, key: bytes) -> None:
        self.version = version
        self._prefix = bytes([_FORMAT, version])
        self._cipher = AESGCM(key)

    def seal(self, data: bytes, *, table: str, row: str, field: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return self._prefix + nonce + self._cipher.encrypt(nonce, data, _aad(table, row, field))


def open_sealed(blob: bytes, *, key: bytes, table: str, row: str, field: str) -> bytes:
    """The plaintext of ``blob``, sealed under ``key`` in this place."""
    nonce, ciphertext = (
        blob[HEADER_BYTES : HEADER_BYTES + _NONCE_BYTES],
        blob[HEADER_BYTES + _NONCE_BYTES :],
    )
    try:
        return AESGCM(key).decrypt(nonce, ciphertext, _aad(table, row, field))
    except InvalidTag as exc:
        raise DecryptionError("value does not open under its key and place") from exc
