"""Encrypted backups (`tuidang backup`, `tuidang restore`).

A backup is a tar archive — ``manifest.json``, the database (a SQLite snapshot taken with
SQLite's online backup API, or a ``pg_dump`` in custom format), the sealed files of every
sealed store that keeps some (the voicemail recordings in ``recordings/``, vault/stores.py)
and the uploaded prompts (``media/``) — encrypted as a stream of AES-256-GCM chunks:

    header   b"TUIDANG-BACKUP" | format version (1 byte) | chunk size (4) | salt (16)
    chunk*   length of the sealed chunk (4) | AES-GCM(chunk)

The key of a file is derived (HKDF-SHA256) from ``BACKUP_KEY`` with the file's random
salt. Chunk ``i`` is sealed with nonce ``i`` and the header, ``i`` and a last-chunk flag as
associated data: a changed header, a changed, dropped, repeated or reordered chunk, and a
file cut short (no chunk marked last) are all refused before anything is restored.

The KEK is never in a backup: the data keys inside are wrapped by it, so restoring needs
``FIELD_KEK`` as well as ``BACKUP_KEY``, and whoever steals a backup has sealed text only.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

import dj_database_url
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.db import connections
from django.utils import timezone

from tuidang.vault import keys
from tuidang.vault.models import DataKey
from tuidang.vault.stores import SealedStore, sealed_stores

MAGIC = b"TUIDANG-BACKUP"
FORMAT_VERSION = 1
CHUNK_BYTES = 1 << 20
_HEADER = struct.Struct(f">{len(MAGIC)}sBI16s")
_LENGTH = struct.Struct(">I")
_TAG_BYTES = 16
MANIFEST = "manifest.json"
MEDIA = "media"  # coordinators' uploaded prompt recordings
LOCK_FILE = "backup-or-key-rotation.lock"


class BackupError(Exception):
    """The backup cannot be made or restored; the message says why."""


class Busy(Exception):
    """Another backup or key rotation holds the lock."""


@contextmanager
def backup_or_rotation_lock(
    *, wait: bool = True, waiting: Callable[[], None] | None = None
) -> Iterator[None]:
    """Held for a whole backup and a whole key rotation, so they never overlap: the
    database is dumped before the recordings are read, and a rotation in between would
    re-seal the files under a key the dump does not hold (and delete the one it does).

    An advisory lock on a file under VAR_DIR, where the recordings live, so every process
    of the installation sees it; the kernel drops it when its process dies. ``waiting``
    is called once if another holds it; without ``wait``, Busy is raised instead."""
    path = Path(settings.VAR_DIR) / LOCK_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                raise Busy(
                    f"a backup or a key rotation is running (it holds {path}); "
                    "run again once it has finished"
                ) from None
            if waiting is not None:
                waiting()
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # and with it the lock


# --- The encrypted stream ----------------------------------------------------------


def _file_key(secret: str, salt: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=b"tuidang backup").derive(
        secret.encode()
    )


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


def _aad(header: bytes, index: int, last: bool) -> bytes:
    return header + index.to_bytes(8, "big") + (b"\x01" if last else b"\x00")


class EncryptingWriter:
    """A write-only file object that seals what is written, chunk by chunk."""

    def __init__(self, out: BinaryIO, secret: str, chunk_bytes: int = CHUNK_BYTES) -> None:
        salt = os.urandom(16)
        self._header = _HEADER.pack(MAGIC, FORMAT_VERSION, chunk_bytes, salt)
        self._cipher = AESGCM(_file_key(secret, salt))
        self._out = out
        self._chunk_bytes = chunk_bytes
        self._buffer = bytearray()
        self._index = 0
        self._closed = False
        out.write(self._header)

    def _emit(self, data: bytes, *, last: bool) -> None:
        sealed = self._cipher.encrypt(
            _nonce(self._index), data, _aad(self._header, self._index, last)
        )
        self._out.write(_LENGTH.pack(len(sealed)) + sealed)
        self._index += 1

    def write(self, data: Any) -> int:
        self._buffer += data
        while len(self._buffer) > self._chunk_bytes:
            self._emit(bytes(self._buffer[: self._chunk_bytes]), last=False)
            del self._buffer[: self._chunk_bytes]
        return len(data)

    def close(self) -> None:
        if not self._closed:
            self._emit(bytes(self._buffer), last=True)  # the last chunk, even when empty
            self._buffer.clear()
            self._closed = True

    def writable(self) -> bool:
        return True


def decrypt_stream(source: BinaryIO, secret: str) -> Iterator[bytes]:
    """The plaintext of an encrypted backup, chunk by chunk; raises BackupError on any
    change, truncation or wrong key. Callers must not use the plaintext before the
    generator finishes, which is when the end is proven."""
    header = source.read(_HEADER.size)
    if len(header) < _HEADER.size or not header.startswith(MAGIC):
        raise BackupError("this is not a Tuidang backup")
    _magic, version, chunk_bytes, salt = _HEADER.unpack(header)
    if version != FORMAT_VERSION:
        raise BackupError(
            f"backup format version {version} is not supported (this is {FORMAT_VERSION})"
        )
    cipher = AESGCM(_file_key(secret, salt))
    limit = chunk_bytes + _TAG_BYTES
    index = 0
    while True:
        length_bytes = source.read(_LENGTH.size)
        if len(length_bytes) < _LENGTH.size:
            raise BackupError("the backup is truncated: its last chunk is missing")
        (length,) = _LENGTH.unpack(length_bytes)
        if length > limit or length < _TAG_BYTES:
            raise BackupError(f"the backup is damaged: chunk {index} has an impossible length")
        sealed = source.read(length)
        if len(sealed) < length:
            raise BackupError(f"the backup is truncated in chunk {index}")
        for last in (False, True):
            try:
                data = cipher.decrypt(_nonce(index), sealed, _aad(header, index, last))
                break
            except InvalidTag:
                continue
        else:
            if index == 0:
                raise BackupError(
                    "the backup does not open under BACKUP_KEY: a different key, or an altered file"
                )
            raise BackupError(f"the backup was altered: chunk {index} does not open")
        yield data
        index += 1
        if last:
            if source.read(1):
                raise BackupError("the backup has data after its last chunk")
            return


# --- Databases ------------------------------------------------------------------------


@dataclass(frozen=True)
class Database:
    """Where a backup is taken from or restored to."""

    vendor: str  # "sqlite" or "postgresql"
    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""

    @classmethod
    def from_settings(cls, params: dict[str, Any]) -> Database:
        engine = str(params["ENGINE"])
        if "sqlite" in engine:
            vendor = "sqlite"
        elif "postgresql" in engine:
            vendor = "postgresql"
        else:
            raise BackupError(f"backups support SQLite and PostgreSQL, not {engine}")
        return cls(
            vendor=vendor,
            name=str(params["NAME"]),
            user=str(params.get("USER") or ""),
            password=str(params.get("PASSWORD") or ""),
            host=str(params.get("HOST") or ""),
            port=str(params.get("PORT") or ""),
        )

    @classmethod
    def from_alias(cls, alias: str = "default") -> Database:
        return cls.from_settings(connections[alias].settings_dict)

    @classmethod
    def from_url(cls, url: str) -> Database:
        try:
            params = dj_database_url.parse(url)
        except ValueError as exc:
            raise BackupError(f"cannot read the database URL: {exc}") from exc
        return cls.from_settings(dict(params))

    def pg_env(self) -> dict[str, str]:
        env = {**os.environ, "PGDATABASE": self.name}
        for name, value in (
            ("PGUSER", self.user),
            ("PGPASSWORD", self.password),
            ("PGHOST", self.host),
            ("PGPORT", self.port),
        ):
            if value:
                env[name] = value
        return env

    def _pg_connect(self) -> Any:
        import psycopg

        return psycopg.connect(
            dbname=self.name,
            user=self.user or None,
            password=self.password or None,
            host=self.host or None,
            port=self.port or None,
        )

    def is_empty(self) -> bool:
        if self.vendor == "sqlite":
            if not Path(self.name).exists():
                return True
            with _sqlite(self.name) as db:
                return not db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        with self._pg_connect() as db:
            row = db.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
            ).fetchone()
            return not row[0]

    def server_major(self) -> int:
        with self._pg_connect() as db:
            return int(db.info.server_version) // 10000


@contextmanager
def _sqlite(path: str) -> Iterator[sqlite3.Connection]:
    db = sqlite3.connect(path)
    try:
        yield db
    finally:
        db.close()


def _tool(name: str) -> str:
    found = shutil.which(name) or (
        f"/usr/bin/{name}" if Path(f"/usr/bin/{name}").exists() else None
    )
    if found is None:
        raise BackupError(f"{name} is needed for PostgreSQL backups and was not found")
    return found


def _check_pg_tool(tool: str, database: Database) -> None:
    """pg_dump and pg_restore refuse a server newer than themselves: say so plainly."""
    version = subprocess.run(  # noqa: S603
        [tool, "--version"], capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"\)\s*(\d+)", version)
    tool_major = int(found.group(1)) if found else 0
    server = database.server_major()
    if tool_major < server:
        raise BackupError(
            f"{Path(tool).name} is version {tool_major} but the server runs {server}: "
            "install the matching client tools"
        )


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {done.stderr.strip()[-2000:]}")


def _dump(database: Database, into: Path) -> str:
    if database.vendor == "sqlite":
        # SQLite's online backup copies a consistent snapshot while the hotline writes.
        with _sqlite(database.name) as source, _sqlite(str(into)) as target:
            source.backup(target)
        return "database.sqlite3"
    tool = _tool("pg_dump")
    _check_pg_tool(tool, database)
    # pg_dump reads one snapshot of the whole database: consistent while others write.
    _run(
        [tool, "--format=custom", "--no-owner", "--no-privileges", f"--file={into}"],
        database.pg_env(),
    )
    return "database.pgdump"


def _load(database: Database, dump: Path, *, replace: bool) -> None:
    if database.vendor == "sqlite":
        Path(database.name).parent.mkdir(parents=True, exist_ok=True)
        with _sqlite(str(dump)) as source, _sqlite(database.name) as target:
            source.backup(target)  # page by page, atomically replacing what was there
        return
    tool = _tool("pg_restore")
    _check_pg_tool(tool, database)
    args = [tool, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction"]
    if replace:
        args += ["--clean", "--if-exists"]
    _run([*args, f"--dbname={database.name}", str(dump)], database.pg_env())


# --- Backup and restore -------------------------------------------------------------


def _scratch() -> tempfile.TemporaryDirectory[str]:
    """A private directory beside the data, not in a shared /tmp."""
    parent = Path(settings.VAR_DIR) / "tmp"
    parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return tempfile.TemporaryDirectory(dir=parent)


def _file_stores() -> list[tuple[str, Path, SealedStore]]:
    """The stores that keep sealed files: their folder in a backup, and where they live."""
    found: list[tuple[str, Path, SealedStore]] = []
    for store in sealed_stores():
        if (files := store.files()) is not None:
            found.append((*files, store))
    return found


def _manifest(database: Database, dump_name: str) -> dict[str, Any]:
    return {
        "format": FORMAT_VERSION,
        "created_at": timezone.now().isoformat(),
        "vendor": database.vendor,
        "database": dump_name,
        # Restoring needs this KEK; the manifest names it, the backup never holds it.
        "kek_ids": sorted(set(DataKey.objects.values_list("kek_id", flat=True))),
    }


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    recordings: int
    size: int


def backup_create(*, path: Path, database: Database | None = None) -> BackupResult:
    """Write an encrypted backup of the database and the sealed files (recordings) to
    ``path``."""
    database = database or Database.from_alias()
    if path.exists() and path.is_dir():
        raise BackupError(f"{path} is a directory")
    partial = path.with_name(path.name + ".partial")
    with _scratch() as scratch:
        dump = Path(scratch) / "database"
        dump_name = _dump(database, dump)
        manifest = _manifest(database, dump_name)
        files = _sealed_files()
        archived = 0
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            writer = EncryptingWriter(out, settings.BACKUP_KEY)
            with tarfile.open(fileobj=cast(Any, writer), mode="w|") as archive:
                _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=1).encode())
                archive.add(dump, arcname=dump_name)
                for folder, file in files:
                    archived += _add_file(archive, folder, file)
                if Path(settings.MEDIA_ROOT).is_dir():
                    archive.add(settings.MEDIA_ROOT, arcname=MEDIA)
            writer.close()
            out.flush()
            os.fsync(out.fileno())
        partial.replace(path)  # never a half-written backup under the real name
    return BackupResult(path, manifest, archived, path.stat().st_size)


def _sealed_files() -> list[tuple[str, Path]]:
    """Every sealed file to back up, with its folder in the backup."""
    return [(folder, file) for folder, _, store in _file_stores() for file in store.stored_files()]


def _add_file(archive: tarfile.TarFile, folder: str, file: Path) -> int:
    """Archive one sealed file; 0 when retention deleted it after it was listed."""
    try:
        source = file.open("rb")
    except FileNotFoundError:
        return 0
    with source:  # open: its size and bytes are one file's, even if it goes meanwhile
        info = archive.gettarinfo(arcname=f"{folder}/{file.name}", fileobj=source)
        archive.addfile(info, source)
    return 1


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(timezone.now().timestamp())
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))


@dataclass
class RestoreResult:
    manifest: dict[str, Any]
    recordings: int


def backup_open(*, path: Path, into: Path) -> Path:
    """Decrypt and check a whole backup into ``into``/archive.tar; nothing else is touched."""
    archive = into / "archive.tar"
    try:
        source = path.open("rb")
    except OSError as exc:
        raise BackupError(f"cannot read {path}: {exc}") from exc
    with source, archive.open("wb") as out:
        for chunk in decrypt_stream(source, settings.BACKUP_KEY):
            out.write(chunk)
    return archive


def backup_restore(
    *,
    path: Path,
    database: Database | None = None,
    force: bool = False,
    recordings_dir: Path | None = None,
) -> RestoreResult:
    """Restore a backup into ``database`` (the configured one by default). Refuses a
    damaged or altered backup, one whose data keys the configured KEK cannot open, and a
    database that is not empty unless ``force``. Recordings go to ``recordings_dir``, by
    default the hotline's own when restoring into its own database (the sealed files of
    any store that keeps some, vault/stores.py, are restored so)."""
    own = Database.from_alias()
    database = database or own
    with _scratch() as scratch:
        archive = backup_open(path=path, into=Path(scratch))
        extracted = Path(scratch) / "extracted"
        with tarfile.open(archive, mode="r:") as tar:
            tar.extractall(extracted, filter="data")
        manifest_path = extracted / MANIFEST
        if not manifest_path.exists():
            raise BackupError("the backup has no manifest")
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("vendor") != database.vendor:
            raise BackupError(
                f"this is a {manifest.get('vendor')} backup; it cannot be restored into "
                f"{database.vendor}"
            )
        ours = keys.kek_id(keys.configured_kek())
        others = [kid for kid in manifest.get("kek_ids", []) if kid != ours]
        if others:
            raise BackupError(
                f"the backup's data keys are wrapped by KEK {', '.join(others)}, but FIELD_KEK "
                f"is {ours}: set FIELD_KEK to the KEK of the backup's time, or nothing sealed opens"
            )
        if not database.is_empty() and not force:
            raise BackupError(
                f"the database {database.name} is not empty; restore over it with --force"
            )
        if database == own:
            connections.close_all()
        _load(database, extracted / manifest["database"], replace=force)
        restored = 0
        for folder, directory, _store in _file_stores():
            if recordings_dir is not None:
                directory = recordings_dir
            elif database != own:
                continue
            restored += _restore_files(extracted / folder, directory)
        if database == own and (extracted / MEDIA).is_dir():
            shutil.copytree(extracted / MEDIA, settings.MEDIA_ROOT, dirs_exist_ok=True)
    keys.forget_cached_keys()
    return RestoreResult(manifest, restored)


def _restore_files(source: Path, target: Path) -> int:
    target.mkdir(parents=True, exist_ok=True, mode=0o700)
    count = 0
    if source.exists():
        for file in sorted(path for path in source.iterdir() if path.is_file()):
            shutil.copyfile(file, target / file.name)
            count += 1
    return count
