"""The data keys behind vault/sealing.py, wrapped by a key-encryption key (KEK).

A data key is 256 random bits. The database holds it only wrapped: AES-256-GCM under the
KEK, with the key's version as associated data. The KEK comes from ``FIELD_KEK`` (or
``FIELD_KEK_FILE``) and never enters the database, so a copy of the database, or of a
backup, opens nothing without it.

The newest key (by creation) seals; every key still in the table opens what it sealed.
Each process keeps the table and the unwrapped keys it has used in memory for
``FIELD_KEY_CACHE_SECONDS``; a version it has not seen is read at once. So a key made by
rotation in one process is used by every other within that time, and `tuidang rotate-keys`
waits that long before it looks for the last values under an older key and deletes it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import IntegrityError, transaction

KEY_BYTES = 32
_NONCE_BYTES = 12
MAX_VERSION = 255  # one byte of every sealed value names its key


class KeyUnavailable(Exception):
    """A data key is missing, or wrapped under a KEK this process does not hold."""


def kek_from_secret(secret: str) -> bytes:
    """The 256-bit KEK derived from the configured secret (any string, e.g. base64)."""
    if not secret.strip():
        raise ValueError("the key-encryption key is empty")
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=b"tuidang field KEK"
    ).derive(secret.strip().encode())


def kek_id(kek: bytes) -> str:
    """A fingerprint that names a KEK in the table without revealing anything of it."""
    return hmac.new(kek, b"tuidang KEK id", hashlib.sha256).hexdigest()[:16]


def configured_kek() -> bytes:
    return kek_from_secret(settings.FIELD_KEK)


def _aad(version: int) -> bytes:
    return f"tuidang:datakey:{version}".encode()


def wrap(key: bytes, *, version: int, kek: bytes) -> bytes:
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + AESGCM(kek).encrypt(nonce, key, _aad(version))


def unwrap(wrapped: bytes, *, version: int, kek: bytes) -> bytes:
    try:
        return AESGCM(kek).decrypt(wrapped[:_NONCE_BYTES], wrapped[_NONCE_BYTES:], _aad(version))
    except InvalidTag as exc:
        raise KeyUnavailable(f"data key v{version} does not open under this KEK") from exc


@dataclass(frozen=True)
class _Row:
    id: int
    version: int
    wrapped: bytes
    kek_id: str


@dataclass(frozen=True)
class _View:
    """The key table as one process last read it."""

    rows: dict[int, _Row]
    loaded_at: float

    @property
    def current(self) -> _Row | None:
        return max(self.rows.values(), key=lambda row: row.id, default=None)

    def fresh(self) -> bool:
        return time.monotonic() - self.loaded_at < settings.FIELD_KEY_CACHE_SECONDS


_view: _View | None = None
_unwrapped: dict[tuple[int, int], bytes] = {}
_lock = threading.Lock()


def forget_cached_keys() -> None:
    """Drop what this process holds in memory (tests; after a rotation in this process)."""
    global _view
    with _lock:
        _view = None
        _unwrapped.clear()


def _load() -> _View:
    from tuidang.vault.models import DataKey

    rows = {
        version: _Row(pk, version, bytes(wrapped), kid)
        for pk, version, wrapped, kid in DataKey.objects.values_list(
            "pk", "version", "wrapped", "kek_id"
        )
    }
    return _View(rows, time.monotonic())


def _read(*, refresh: bool = False) -> _View:
    global _view
    view = _view
    if view is None or refresh or not view.fresh():
        view = _load()
        made = not view.rows
        if made:
            view = _first_key()
        # A key made inside a transaction that may still roll back is not remembered:
        # the next use reads the table again rather than seal under a key that vanished.
        if not (made and transaction.get_connection().in_atomic_block):
            _view = view
    return view


def _first_key() -> _View:
    """Make version 1, or adopt the single key of installations from before versioned
    keys (derived from FIELD_ENCRYPTION_KEY) so that what it sealed keeps opening."""
    from tuidang.vault.models import DataKey

    legacy = settings.FIELD_ENCRYPTION_KEY_LEGACY
    if not legacy and (found := _sealed_data_found()):
        # The table was read empty before the sealed data was looked for: another process
        # may have made the first key and sealed under it in between (each read sees the
        # latest commit, a key's before what it sealed). Then it is the key.
        if (view := _load()).rows:
            return view
        # Sealed under FIELD_ENCRYPTION_KEY before versioned keys: a random key 1 would
        # open none of it, and would stay key 1 when the secret came back.
        raise KeyUnavailable(
            f"the key table is empty but {found} holds sealed data: this installation "
            "sealed it under FIELD_ENCRYPTION_KEY (or var/secrets/field_encryption_key) "
            "before versioned keys. Configure that secret again so it becomes data key 1; "
            "no new key is made without it"
        )
    key = hashlib.sha256(legacy.encode()).digest() if legacy else os.urandom(KEY_BYTES)
    kek = configured_kek()
    try:
        with transaction.atomic():
            DataKey.objects.create(
                version=1, wrapped=wrap(key, version=1, kek=kek), kek_id=kek_id(kek)
            )
    except IntegrityError:
        pass  # another process made it first: use theirs
    return _load()


def _sealed_data_found() -> str:
    """Where sealed data already is (a sealed column, or a store the apps registered:
    recordings, second-factor secrets), though there is no key: empty when there is none."""
    from tuidang.vault.stores import sealed_stores

    for store in sealed_stores():
        if store.holds_sealed_data():
            return store.label
    return ""


def _key(row: _Row) -> bytes:
    # By row, not by wrapped bytes: re-wrapping under a new KEK keeps a row's key, and a
    # process still configured with the old KEK goes on using what it unwrapped.
    cache_key = (row.id, row.version)
    key = _unwrapped.get(cache_key)
    if key is None:
        kek = configured_kek()
        if row.kek_id != kek_id(kek):
            raise KeyUnavailable(
                f"data key v{row.version} is wrapped by KEK {row.kek_id}, but FIELD_KEK is "
                f"{kek_id(kek)}: set FIELD_KEK to the KEK the keys were last wrapped under"
            )
        key = unwrap(row.wrapped, version=row.version, kek=kek)
        with _lock:
            _unwrapped[cache_key] = key
    return key


def current_key() -> tuple[int, bytes]:
    """The version and key that seal new values."""
    version, key, _loaded_at = sealing_key()
    return version, key


def sealing_key(*, refresh: bool = False) -> tuple[int, bytes, float]:
    """The version and key that seal, and when (``time.monotonic()``) the key table they
    come from was read: a holder must ask again before that is FIELD_KEY_CACHE_SECONDS old."""
    view = _read(refresh=refresh)
    row = view.current
    assert row is not None  # _read makes the first key
    return row.version, _key(row), view.loaded_at


def key_for(version: int) -> bytes:
    """The key of ``version``, read from the table if this process has not seen it."""
    view = _read()
    row = view.rows.get(version)
    if row is None:
        row = _read(refresh=True).rows.get(version)
    if row is None:
        raise KeyUnavailable(f"no data key of version {version}")
    return _key(row)


def cache_seconds() -> float:
    return float(settings.FIELD_KEY_CACHE_SECONDS)
