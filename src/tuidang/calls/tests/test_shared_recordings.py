"""A voicemail recorded through one node plays on every other."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import FileResponse
from django.test import Client
from django.urls import reverse
from moto import mock_aws
from pytest_django.fixtures import Settings

from tuidang.calls import recordings
from tuidang.calls.models import NumberPrompt
from tuidang.calls.prompts import PromptKind
from tuidang.lib.languages import Language
from tuidang.lib.models import StoredFile
from tuidang.testing.personas import HotlineNumbers
from tuidang.testing.records import AUDIO, record_a_call
from tuidang.vault.backups import Database
from tuidang.volunteers.models import Volunteer

CALLER = "+8613812345678"


def database_url() -> str:
    """The URL of the suite's own database, for another process to open."""
    own = Database.from_alias()
    if own.vendor == "sqlite":
        return f"sqlite:///{connection.settings_dict['NAME']}"
    auth = f"{own.user}:{own.password}@" if own.password else f"{own.user}@"
    return f"postgres://{auth}{own.host or 'localhost'}:{own.port or 5432}/{own.name}"


def another_node(var_dir: Path, code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in `tuidang shell` as a node with its own VAR_DIR would."""
    return subprocess.run(
        [sys.executable, "-m", "tuidang.manage", "shell", "-c", code],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tuidang.config.settings",
            "DATABASE_URL": database_url(),
            "VAR_DIR": str(var_dir),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.django_db(transaction=True)
def test_a_recording_stored_by_one_node_is_played_by_another(
    mei: Volunteer, numbers: HotlineNumbers, tmp_path: Path, settings: Settings
) -> None:
    settings.VAR_DIR = tmp_path / "first-node"
    voicemail = record_a_call(volunteer=mei, caller=CALLER, sid="CA1").voicemail

    other = another_node(
        tmp_path / "second-node",
        "from tuidang.calls import recordings; from tuidang.calls.models import Voicemail; "
        f"print(recordings.load(Voicemail.objects.get(public_id='{voicemail.public_id}')))",
        FIELD_KEK=settings.FIELD_KEK,
    )

    assert other.returncode == 0, other.stderr
    assert other.stdout.strip().splitlines()[-1] == repr(AUDIO)
    assert not (tmp_path / "first-node" / "recordings").exists()
    assert not (tmp_path / "second-node" / "recordings").exists()


@pytest.mark.django_db
def test_what_the_database_keeps_of_a_recording_is_sealed(
    mei: Volunteer, numbers: HotlineNumbers
) -> None:
    voicemail = record_a_call(volunteer=mei, caller=CALLER, sid="CA1").voicemail

    stored = bytes(StoredFile.objects.get(area="recordings", name=voicemail.stored_name).data)
    assert b"WAVE" not in stored and b"a message" not in stored
    assert recordings.load(voicemail) == AUDIO


@pytest.fixture
def s3_bucket(settings: Settings) -> Any:
    """Recordings in an S3 bucket, played by moto in this process: nothing leaves it."""
    options = {
        "bucket_name": "hotline-recordings",
        "region_name": "eu-central-1",
        "access_key": "test-access-key",
        "secret_key": "test-secret-key",
        "default_acl": "private",
        "location": "recordings",
        "file_overwrite": True,
    }
    with mock_aws():
        client = boto3.client(
            "s3",
            region_name="eu-central-1",
            aws_access_key_id="test-access-key",
            aws_secret_access_key="test-secret-key",
        )
        client.create_bucket(
            Bucket="hotline-recordings",
            CreateBucketConfiguration={"LocationConstraint": "eu-central-1"},
        )
        settings.STORAGES = {
            **settings.STORAGES,
            "recordings": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
        }
        yield client


@pytest.mark.django_db
def test_in_an_s3_store_a_recording_is_sealed_and_plays_back(
    mei: Volunteer, numbers: HotlineNumbers, s3_bucket: Any
) -> None:
    voicemail = record_a_call(volunteer=mei, caller=CALLER, sid="CA1").voicemail

    key = f"recordings/{voicemail.stored_name}"
    stored = s3_bucket.get_object(Bucket="hotline-recordings", Key=key)["Body"].read()
    assert b"WAVE" not in stored and b"a message" not in stored
    assert recordings.load(voicemail) == AUDIO
    assert recordings.stored_names() == [voicemail.stored_name]
    assert recordings.delete(voicemail)
    assert recordings.stored_names() == []


@pytest.mark.django_db
def test_a_prompt_uploaded_in_the_admin_is_listed_and_played_from_the_database(
    client: Client, ada: Volunteer, numbers: HotlineNumbers
) -> None:
    prompt = NumberPrompt.objects.create(
        number=numbers["banknotes"],
        kind=PromptKind.GREETING,
        language=Language.MANDARIN,
        recording=SimpleUploadedFile("greeting.mp3", b"ID3 the greeting"),
    )
    client.force_login(ada.user)

    listed = client.get(reverse("admin:calls_numberprompt_changelist"))
    changed = client.get(reverse("admin:calls_numberprompt_change", args=[prompt.pk]))
    played = client.get(reverse("telephony:prompt-audio", args=[prompt.pk]))

    assert listed.status_code == 200 and "prompts/greeting" in listed.content.decode()
    assert changed.status_code == 200
    assert isinstance(played, FileResponse)
    assert b"".join(played.streaming_content) == b"ID3 the greeting"
    assert StoredFile.objects.get(area="media").name == prompt.recording.name
