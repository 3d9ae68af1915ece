"""The storage every node shares, its choice by setting, and the move onto it."""

from __future__ import annotations

import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import call_command
from pytest_django.fixtures import Settings

from tuidang.lib.storage import DatabaseStorage


def settings_in_a_new_process(**env: str) -> subprocess.CompletedProcess[str]:
    code = (
        "from django.conf import settings; "
        "print(settings.STORAGES['recordings']['BACKEND'], settings.STORAGES['default']['BACKEND'])"
    )
    return subprocess.run(
        [sys.executable, "-m", "tuidang.manage", "shell", "-c", code],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "tuidang.config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_database_is_the_storage_unless_another_is_chosen(tmp_path: Path) -> None:
    default = settings_in_a_new_process(VAR_DIR=str(tmp_path))
    assert default.returncode == 0, default.stderr
    assert default.stdout.splitlines()[-1].split() == ["tuidang.lib.storage.DatabaseStorage"] * 2

    s3 = settings_in_a_new_process(
        VAR_DIR=str(tmp_path),
        STORAGE_BACKEND="s3",
        S3_BUCKET="hotline",
        S3_ACCESS_KEY_ID="id",
        S3_SECRET_ACCESS_KEY="secret",
    )
    assert s3.returncode == 0, s3.stderr
    assert s3.stdout.splitlines()[-1].split() == ["storages.backends.s3.S3Storage"] * 2


def test_a_storage_that_cannot_work_is_refused_at_start(tmp_path: Path) -> None:
    unknown = settings_in_a_new_process(VAR_DIR=str(tmp_path), STORAGE_BACKEND="nfs")
    assert unknown.returncode != 0
    assert "STORAGE_BACKEND must be database, s3 or files, not 'nfs'" in unknown.stderr

    no_bucket = settings_in_a_new_process(VAR_DIR=str(tmp_path), STORAGE_BACKEND="s3")
    assert no_bucket.returncode != 0
    assert "STORAGE_BACKEND=s3 needs S3_BUCKET" in no_bucket.stderr


@pytest.mark.django_db
def test_two_uploads_of_one_name_are_both_kept_and_a_recording_is_replaced() -> None:
    uploads = DatabaseStorage()
    first = uploads.save("prompts/greeting.mp3", ContentFile(b"ID3 first"))
    second = uploads.save("prompts/greeting.mp3", ContentFile(b"ID3 second"))
    assert first != second
    assert uploads.open(first).read() == b"ID3 first"
    assert uploads.listdir("prompts") == ([], sorted([Path(first).name, Path(second).name]))
    assert uploads.listdir("") == (["prompts"], [])

    sealed = DatabaseStorage(area="recordings", overwrite=True)
    sealed.save("a.sealed", ContentFile(b"old"))
    sealed.save("a.sealed", ContentFile(b"new"))
    assert sealed.open("a.sealed").read() == b"new" and sealed.size("a.sealed") == 3
    assert not uploads.exists("a.sealed")  # each area is its own
    sealed.delete("a.sealed")
    with pytest.raises(FileNotFoundError):
        sealed.open("a.sealed")


@pytest.mark.django_db
def test_files_a_node_kept_on_its_disk_are_copied_into_shared_storage(
    tmp_path: Path, settings: Settings
) -> None:
    settings.VAR_DIR = tmp_path
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "recordings").mkdir()
    (tmp_path / "recordings" / "0f1e.sealed").write_bytes(b"\x01sealed bytes")
    (tmp_path / "recordings" / "0f1e.tmp").write_bytes(b"half")
    (tmp_path / "media" / "prompts").mkdir(parents=True)
    (tmp_path / "media" / "prompts" / "welcome.mp3").write_bytes(b"ID3 welcome")

    out = StringIO()
    call_command("storage_import", stdout=out)
    call_command("storage_import", stdout=out)  # again: nothing twice

    assert storages["recordings"].open("0f1e.sealed").read() == b"\x01sealed bytes"
    assert not storages["recordings"].exists("0f1e.tmp")
    assert storages["default"].open("prompts/welcome.mp3").read() == b"ID3 welcome"
    said = out.getvalue()
    assert "copied 1 files into recordings, 0 were there already" in said
    assert "copied 0 files into recordings, 1 were there already" in said
    assert (tmp_path / "recordings" / "0f1e.sealed").exists()  # kept until checked
