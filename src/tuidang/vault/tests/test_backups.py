"""Encrypted backups: a restore drill on SQLite (and PostgreSQL when the suite runs on it),
and every way a backup file can be damaged is refused before anything is restored."""

import base64
import io
import json
import os
import subprocess
import sys
import tarfile
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pytest_django.fixtures import Settings

from tuidang.calls import recordings
from tuidang.calls.models import Call
from tuidang.declarations.models import Declaration
from tuidang.declarations.publication import declarations_publish
from tuidang.declarations.services import Person, declaration_record
from tuidang.testing.personas import CALLER, HotlineNumbers
from tuidang.testing.publication import publish
from tuidang.testing.records import ALIAS, AUDIO, Records, record_a_call
from tuidang.testing.storage import keep_files_under
from tuidang.tlog.models import SignedCheckpoint
from tuidang.tlog.services import verifier_key
from tuidang.vault import backups
from tuidang.vault.backups import (
    BackupError,
    Database,
    EncryptingWriter,
    backup_create,
    backup_open,
    backup_or_rotation_lock,
    backup_restore,
    decrypt_stream,
)
from tuidang.vault.models import DataKey
from tuidang.volunteers.models import Volunteer

KEY = "a backup key kept apart from the backups"
PLAIN = bytes(range(256)) * 5  # four chunks of 256 bytes, and the last one


def encrypt(data: bytes, key: str = KEY, chunk: int = 256) -> bytes:
    out = io.BytesIO()
    writer = EncryptingWriter(out, key, chunk_bytes=chunk)
    writer.write(data)
    writer.close()
    return out.getvalue()


def decrypt(blob: bytes, key: str = KEY) -> bytes:
    return b"".join(decrypt_stream(io.BytesIO(blob), key))


def chunks(blob: bytes) -> tuple[bytes, list[bytes]]:
    header, rest, found = blob[:35], blob[35:], []
    while rest:
        length = int.from_bytes(rest[:4], "big")
        found.append(rest[: 4 + length])
        rest = rest[4 + length :]
    return header, found


def test_a_backup_stream_opens_to_what_was_written_and_hides_it() -> None:
    blob = encrypt(PLAIN)
    assert decrypt(blob) == PLAIN
    assert blob.startswith(b"TUIDANG-BACKUP\x01")
    assert bytes(range(32)) not in blob
    assert len(chunks(blob)[1]) == 5


@hypothesis_settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_any_changed_byte_is_refused(data: st.DataObject) -> None:
    blob = bytearray(encrypt(PLAIN))
    position = data.draw(st.integers(min_value=0, max_value=len(blob) - 1))
    blob[position] ^= data.draw(st.integers(min_value=1, max_value=255))
    with pytest.raises(BackupError):
        decrypt(bytes(blob))


@pytest.mark.parametrize("cut", [1, 16, 300, 1000])
def test_a_truncated_backup_is_refused(cut: int) -> None:
    blob = encrypt(PLAIN)
    with pytest.raises(BackupError, match=r"truncated|altered"):
        decrypt(blob[:-cut])


def test_a_backup_missing_its_last_chunk_is_refused_even_at_a_chunk_boundary() -> None:
    header, found = chunks(encrypt(PLAIN))
    with pytest.raises(BackupError, match="truncated"):
        decrypt(header + b"".join(found[:-1]))


def test_reordered_or_repeated_chunks_are_refused() -> None:
    header, found = chunks(encrypt(PLAIN))
    swapped = [found[1], found[0], *found[2:]]
    with pytest.raises(BackupError, match=r"altered|does not open"):
        decrypt(header + b"".join(swapped))
    with pytest.raises(BackupError, match="altered"):
        decrypt(header + found[0] + found[0] + b"".join(found[1:]))


def test_a_wrong_key_or_a_stranger_file_or_a_newer_format_is_named() -> None:
    with pytest.raises(BackupError, match="does not open under BACKUP_KEY"):
        decrypt(encrypt(PLAIN), key="another key")
    with pytest.raises(BackupError, match="not a Tuidang backup"):
        decrypt(b"SQLite format 3\x00" + b"\x00" * 100)
    newer = bytearray(encrypt(PLAIN))
    newer[14] = 2
    with pytest.raises(BackupError, match="format version 2 is not supported"):
        decrypt(bytes(newer))
    with pytest.raises(BackupError, match="after its last chunk"):
        decrypt(encrypt(PLAIN) + b"more")


# --- The restore drill ----------------------------------------------------------------


def tuidang(*args: str, database_url: str) -> str:
    """Run a `tuidang` command as another process would, against ``database_url``."""
    env = {**os.environ, "DATABASE_URL": database_url}
    done = subprocess.run(
        [sys.executable, "-m", "tuidang.manage", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture
def fresh_database(tmp_path: Path) -> Iterator[str]:
    """An empty database of the suite's own kind, and its URL."""
    if connection.vendor == "sqlite":
        path = tmp_path / "restored.sqlite3"
        yield f"sqlite:///{path}"
        return
    import psycopg

    own = Database.from_alias()
    name = f"{own.name}_drill"
    params: dict[str, Any] = {"user": own.user or None, "password": own.password or None}
    params |= {"host": own.host or None, "port": own.port or None, "autocommit": True}
    with psycopg.connect(dbname="postgres", **params) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    auth = f"{own.user}:{own.password}@" if own.password else f"{own.user}@"
    yield f"postgres://{auth}{own.host or 'localhost'}:{own.port or 5432}/{name}"
    with psycopg.connect(dbname="postgres", **params) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def a_call(mei: Volunteer, numbers: HotlineNumbers, tmp_path: Path, settings: Settings) -> Records:
    """Mei's call, with all it records (the voicemail kept in the database), under a
    VAR_DIR of the test's own."""
    settings.VAR_DIR = tmp_path / "var"
    return record_a_call(volunteer=mei, caller=CALLER, sid="CA1")


def back_up(tmp_path: Path) -> Path:
    """The hotline's backup, taken now, as a file in ``tmp_path``."""
    backup = tmp_path / "hotline.backup"
    backup_create(path=backup)
    return backup


@pytest.mark.django_db(transaction=True)
def test_the_restore_drill_rebuilds_the_published_log_and_opens_sealed_values(
    mei: Volunteer,
    numbers: HotlineNumbers,
    tmp_path: Path,
    fresh_database: str,
    settings: Settings,
) -> None:
    keep_files_under(settings, tmp_path / "var")
    records = record_a_call(volunteer=mei, caller=CALLER, sid="CA1")
    declaration_record(
        call=records.call,
        people=[Person(alias="Li Hua", organizations=frozenset({"party", "young_pioneers"}))],
        recorded_by=mei.user,
    )
    publish()
    published = SignedCheckpoint.objects.order_by("-size").first()
    assert published is not None and published.size == 2
    seen = tmp_path / "seen-checkpoint.json"
    seen.write_text(
        json.dumps({"size": published.size, "root": base64.b64encode(published.root).decode()})
    )
    backup = tmp_path / "hotline.backup"

    call_command("backup", str(backup), stdout=StringIO())

    assert b"Wang Ming" not in backup.read_bytes() and b"tlog_logentry" not in backup.read_bytes()
    restored_recordings = tmp_path / "restored-recordings"
    call_command(
        "restore",
        str(backup),
        database_url=fresh_database,
        recordings_dir=restored_recordings,
        stdout=StringIO(),
    )
    report = tuidang(
        "verify-log", "--key", verifier_key(), "--state", str(seen), database_url=fresh_database
    )
    assert f"The log verifies at size {published.size}" in report
    assert f"extends the checkpoint seen before (size {published.size})" in report
    aliases = tuidang(
        "shell",
        "-c",
        "from tuidang.declarations.models import Declaration as D; "
        "print(sorted(d.alias for d in D.objects.all()))",
        database_url=fresh_database,
    )
    assert aliases.strip().splitlines()[-1] == str(sorted([ALIAS, "Li Hua"]))
    sealed = (restored_recordings / records.voicemail.stored_name).read_bytes()
    assert sealed == recordings.read_sealed(records.voicemail.stored_name)
    assert recordings.load(records.voicemail) == AUDIO


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("a_call")
def test_restore_refuses_a_database_that_is_not_empty_unless_forced(
    tmp_path: Path, fresh_database: str
) -> None:
    publish()
    backup = back_up(tmp_path)
    target = Database.from_url(fresh_database)
    backup_restore(path=backup, database=target)

    with pytest.raises(BackupError, match="not empty; restore over it with --force"):
        backup_restore(path=backup, database=target)
    backup_restore(path=backup, database=target, force=True)
    assert "The log verifies" in tuidang("verify-log", database_url=fresh_database)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("a_call")
def test_restore_refuses_a_tampered_backup_and_touches_nothing(
    tmp_path: Path, fresh_database: str
) -> None:
    backup = back_up(tmp_path)
    blob = bytearray(backup.read_bytes())
    blob[len(blob) // 2] ^= 1
    backup.write_bytes(bytes(blob))

    with pytest.raises(CommandError, match=r"nothing was restored: .*altered"):
        call_command("restore", str(backup), database_url=fresh_database)
    assert Database.from_url(fresh_database).is_empty()

    backup.write_bytes(bytes(blob[: len(blob) // 3]))
    with pytest.raises(CommandError, match="truncated"):
        call_command("restore", str(backup), database_url=fresh_database)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("a_call")
def test_restore_needs_the_kek_the_backup_was_made_under(
    tmp_path: Path, fresh_database: str, settings: Settings
) -> None:
    backup = back_up(tmp_path)
    settings.FIELD_KEK = "the KEK of another installation"

    with pytest.raises(BackupError, match="set FIELD_KEK to the KEK of the backup's time"):
        backup_restore(path=backup, database=Database.from_url(fresh_database))
    assert Database.from_url(fresh_database).is_empty()


@pytest.mark.django_db(transaction=True)
def test_restoring_over_the_hotline_brings_back_its_data_recordings_and_prompts(
    mei: Volunteer, numbers: HotlineNumbers, tmp_path: Path, settings: Settings
) -> None:
    keep_files_under(settings, tmp_path / "var")
    (settings.MEDIA_ROOT / "prompts").mkdir(parents=True)
    (settings.MEDIA_ROOT / "prompts" / "welcome.mp3").write_bytes(b"ID3 welcome")
    records = record_a_call(volunteer=mei, caller=CALLER, sid="CA1")
    backup = back_up(tmp_path)
    # Then the disk is lost: a newer call, the recording and the prompt are gone.
    record_a_call(volunteer=mei, caller="+8613900001111", sid="CA2")
    recordings.delete(records.voicemail)
    (settings.MEDIA_ROOT / "prompts" / "welcome.mp3").unlink()

    with pytest.raises(BackupError, match="not empty"):
        backup_restore(path=backup)
    backup_restore(path=backup, force=True)

    assert list(Call.objects.values_list("provider_sid", flat=True)) == ["CA1"]
    assert Declaration.objects.get().alias == ALIAS
    assert recordings.load(records.voicemail) == AUDIO
    assert (settings.MEDIA_ROOT / "prompts" / "welcome.mp3").read_bytes() == b"ID3 welcome"


@pytest.mark.django_db(transaction=True)
def test_a_backup_taken_while_volunteers_record_is_consistent(
    a_call: Records, mei: Volunteer, tmp_path: Path, fresh_database: str
) -> None:
    """Declarations keep arriving while the backup runs; the restored database is one
    moment of the hotline: every declaration has its log entry, the tree head and tiles
    match the entries, and the total matches the log."""
    stop = threading.Event()
    recorded: list[bool] = []

    def record() -> None:
        try:
            while not stop.is_set():
                declaration_record(
                    call=a_call.call,
                    people=[
                        Person(
                            alias=f"Relative {len(recorded)}",
                            organizations=frozenset({"party"}),
                            relationship="sibling",
                        )
                    ],
                    recorded_by=mei.user,
                )
                declarations_publish()  # the log grows too, batch by batch
                recorded.append(True)
        finally:
            connection.close()

    writer = threading.Thread(target=record)
    writer.start()
    try:
        while len(recorded) < 5:
            time.sleep(0.01)
        backup = back_up(tmp_path)
        during = len(recorded)
    finally:
        stop.set()
        writer.join()
    assert len(recorded) > during  # the writer kept going after the snapshot

    backup_restore(path=backup, database=Database.from_url(fresh_database))
    tuidang(
        "shell",
        "-c",
        "from tuidang.tlog.services import log_checkpoint_sign; log_checkpoint_sign()",
        database_url=fresh_database,
    )
    assert "The log verifies" in tuidang("verify-log", database_url=fresh_database)


# --- Beside key rotation and retention -------------------------------------------------


@pytest.mark.django_db
def test_a_backup_and_a_key_rotation_never_run_at_once(
    mei: Volunteer, numbers: HotlineNumbers, tmp_path: Path, settings: Settings
) -> None:
    settings.VAR_DIR = tmp_path / "var"
    settings.FIELD_KEY_CACHE_SECONDS = 0
    record_a_call(volunteer=mei, caller=CALLER, sid="CA1")
    [before] = DataKey.objects.all()

    with backup_or_rotation_lock():  # a backup (or rotation) under way in another process
        with pytest.raises(CommandError, match="a backup or a key rotation is running"):
            call_command("rotate_keys", no_wait=True, stdout=StringIO())
        with pytest.raises(CommandError, match="a backup or a key rotation is running"):
            call_command("backup", str(tmp_path / "b.backup"), no_wait=True, stdout=StringIO())
    assert list(DataKey.objects.all()) == [before]
    assert not (tmp_path / "b.backup").exists()

    released: list[datetime] = []

    def backup_elsewhere(holding: threading.Event) -> None:
        with backup_or_rotation_lock():
            holding.set()
            time.sleep(0.5)
            released.append(timezone.now())

    holding = threading.Event()
    other = threading.Thread(target=backup_elsewhere, args=(holding,))
    other.start()
    holding.wait()
    out = StringIO()
    try:
        call_command("rotate_keys", pause=0, stdout=out)
    finally:
        other.join()
    assert "Waiting for the backup (or other rotation) under way to finish" in out.getvalue()
    [after] = DataKey.objects.all()  # made only once the backup had finished
    assert after.version != before.version and after.created_at > released[0]


@pytest.mark.django_db
def test_a_recording_deleted_by_retention_during_a_backup_is_left_out(
    mei: Volunteer,
    numbers: HotlineNumbers,
    tmp_path: Path,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keep_files_under(settings, tmp_path / "var")
    first = record_a_call(volunteer=mei, caller=CALLER, sid="CA1").voicemail
    second = record_a_call(volunteer=mei, caller="+8613900001111", sid="CA2").voicemail
    listed = backups._sealed_files

    def list_then_purge() -> list[tuple[str, Path]]:
        files = listed()
        recordings.delete(first)  # retention, between the listing and the archiving
        return files

    monkeypatch.setattr(backups, "_sealed_files", list_then_purge)

    result = backup_create(path=tmp_path / "hotline.backup")

    assert result.recordings == 1
    archive = backup_open(path=tmp_path / "hotline.backup", into=tmp_path)
    with tarfile.open(archive) as tar:
        names = [name for name in tar.getnames() if name.startswith("recordings/")]
    assert names == [f"recordings/{second.stored_name}"]


@pytest.mark.django_db(transaction=True)
def test_a_recording_and_a_backup_are_written_for_their_owner_alone(
    mei: Volunteer, numbers: HotlineNumbers, tmp_path: Path, settings: Settings
) -> None:
    keep_files_under(settings, tmp_path / "var")
    previous = os.umask(0o022)  # even in a process that did not start from `tuidang`
    try:
        records = record_a_call(volunteer=mei, caller=CALLER, sid="CA1")
        backup = back_up(tmp_path)
    finally:
        os.umask(previous)
    recording = tmp_path / "var" / "recordings" / records.voicemail.stored_name
    assert oct(recording.stat().st_mode & 0o777) == oct(0o600)
    assert oct(recording.parent.stat().st_mode & 0o777) == oct(0o700)
    assert oct(backup.stat().st_mode & 0o777) == oct(0o600)


@pytest.mark.django_db(transaction=True)
def test_recordings_kept_in_the_database_come_back_with_it(a_call: Records, tmp_path: Path) -> None:
    backup = back_up(tmp_path)
    recordings.delete(a_call.voicemail)  # lost

    backup_restore(path=backup, force=True)

    assert recordings.load(a_call.voicemail) == AUDIO
    assert not (tmp_path / "var" / "recordings").exists()
