"""The read-only public pages read the replica when one is configured; nothing else does.

The replica here is a second database of the suite's kind (``replica`` in the test
settings); rows are put in it alone, so a page that shows them read it.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import models
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

from tuidang.declarations.models import DailyTotal
from tuidang.tlog.models import FullTile, LogEntry, SignedCheckpoint, TileNode, TreeHead
from tuidang.tlog.services import log_append, log_checkpoint_sign

BOTH = ["default", "replica"]
LOG: list[type[models.Model]] = [LogEntry, TileNode, FullTile, TreeHead, SignedCheckpoint]


def move_to_the_replica(*kinds: type[models.Model]) -> None:
    """What the primary holds of ``kinds``, held by the replica alone: a page that shows
    it read the replica."""
    for kind in kinds:
        rows = list(kind._default_manager.using("default").all())
        kind._default_manager.using("replica").bulk_create(rows)
    for kind in reversed(kinds):
        kind._default_manager.using("default").all().delete()


@pytest.fixture
def replica(settings: Settings) -> None:
    settings.READ_REPLICA = "replica"


@pytest.mark.django_db(databases=BOTH)
def test_the_public_total_is_read_from_the_replica(client: Client, settings: Settings) -> None:
    DailyTotal.objects.using("replica").create(day=datetime.date(2026, 1, 1), people=7, party=7)
    DailyTotal.objects.using("default").create(day=datetime.date(2026, 1, 1), people=5, party=5)

    assert 'data-testid="total">5<' in client.get(reverse("public:home")).text
    settings.READ_REPLICA = "replica"
    assert 'data-testid="total">7<' in client.get(reverse("public:home")).text


@pytest.mark.django_db(databases=BOTH)
def test_the_checkpoint_tiles_and_entries_are_served_from_the_replica(
    client: Client, replica: None
) -> None:
    log_append(entries=[f"entry {i}".encode() for i in range(300)])
    log_checkpoint_sign()
    move_to_the_replica(*LOG)

    checkpoint = client.get(reverse("tlog:checkpoint"))
    full = client.get("/log/tile/0/000")
    partial = client.get("/log/tile/0/001.p/44")
    bundle = client.get("/log/tile/entries/001.p/44")

    assert checkpoint.status_code == 200 and b"\n300\n" in checkpoint.content
    assert full.status_code == 200 and len(full.content) == 256 * 32
    assert full["Cache-Control"] == "public, max-age=31536000, immutable"
    assert partial.status_code == 200 and len(partial.content) == 44 * 32
    assert "immutable" not in partial["Cache-Control"]
    assert bundle.status_code == 200


@pytest.mark.django_db(databases=BOTH)
def test_without_a_replica_the_same_pages_read_the_primary(client: Client) -> None:
    log_append(entries=[b"entry 0"])
    log_checkpoint_sign()
    move_to_the_replica(*LOG)

    assert client.get(reverse("tlog:checkpoint")).status_code == 404
    assert client.get("/log/tile/0/000.p/1").status_code == 404


@pytest.mark.django_db(databases=BOTH)
def test_writes_and_the_pages_of_people_never_go_to_the_replica(
    client: Client, replica: None
) -> None:
    log_append(entries=[b"entry 0"])
    log_checkpoint_sign()  # a write inside the same process: the primary's

    assert LogEntry.objects.using("default").count() == 1
    assert LogEntry.objects.using("replica").count() == 0
    # Outside the public pages, reads are the primary's too.
    assert LogEntry.objects.count() == 1


def test_a_replica_url_names_the_database_the_public_pages_read(tmp_path: Path) -> None:
    code = (
        "from django.conf import settings; "
        "print(settings.READ_REPLICA, settings.DATABASES['replica']['HOST'], "
        "settings.DATABASES['replica']['PASSWORD'])"
    )
    secret = tmp_path / "replica_password"
    secret.write_text("a password of its own\n")
    done = subprocess.run(
        [sys.executable, "-m", "tuidang.manage", "shell", "-c", code],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tuidang.config.settings",
            "VAR_DIR": str(tmp_path),
            "DATABASE_REPLICA_URL": "postgres://reader@replica.internal:5432/tuidang",
            "DATABASE_REPLICA_PASSWORD_FILE": str(secret),
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "replica replica.internal a password of its own"
