"""Encryption at rest for identifying free text (aliases, statements, notes) and audio.

AES-256-GCM with a fresh 96-bit nonce per value. The associated data binds each
ciphertext to its table, row and field, so a value copied into another row or column
does not decrypt. The blob starts with a format byte and the key version, which lets
keys be rotated without downtime: the newest key seals, every configured key opens.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

_FORMAT = 1
_NONCE_BYTES = 12
_TAG_BYTES = 16


class DecryptionError(Exception):
    """The value was tampered with, moved, or sealed under a key we no longer hold."""


def _aad(table: str, row: str, field: str) -> bytes:
    return f"tuidang:{table}:{row}:{field}".encode()


class Sealer:
    """Seals values under the newest key; one cipher for many values (imports seal
    hundreds of thousands)."""

    def __init__(self) -> None:
        keys: dict[int, bytes] = settings.FIELD_ENCRYPTION_KEYS
        version = max(keys)
        self._prefix = bytes([_FORMAT, version])
        self._cipher = AESGCM(keys[version])

    def seal(self, data: bytes, *, table: str, row: str, field: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return self._prefix + nonce + self._cipher.encrypt(nonce, data, _aad(table, row, field))


def seal_bytes(data: bytes, *, table: str, row: str, field: str) -> bytes:
    return Sealer().seal(data, table=table, row=row, field=field)


def unseal_bytes(blob: bytes, *, table: str, row: str, field: str) -> bytes:
    blob = bytes(blob)
    if len(blob) < 2 + _NONCE_BYTES + _TAG_BYTES or blob[0] != _FORMAT:
        raise DecryptionError("not a sealed value")
    keys: dict[int, bytes] = settings.FIELD_ENCRYPTION_KEYS
    key = keys.get(blob[1])
    if key is None:
        raise DecryptionError(f"no key of version {blob[1]}")
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
