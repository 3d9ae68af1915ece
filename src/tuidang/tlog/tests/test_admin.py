"""An administrator reads the log's checkpoints with their cosignatures, and a witness's
evidence, in the admin; nobody adds, changes or deletes them there."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tuidang.tlog.models import Cosignature, SignedCheckpoint, WitnessState
from tuidang.tlog.services import log_append, log_checkpoint_sign
from tuidang.volunteers.models import Volunteer
from tuidang.witness.models import Evidence, WitnessedLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def checkpoint() -> SignedCheckpoint:
    with transaction.atomic():
        log_append(entries=[b"one", b"two"])
    checkpoint = log_checkpoint_sign()
    assert checkpoint is not None
    Cosignature.objects.create(
        checkpoint=checkpoint,
        witness="witness.example/w1",
        line="— witness.example/w1 AAAA",
        signed_at=timezone.now(),
    )
    WitnessState.objects.create(witness="witness.example/w1", size=2, last_error="answered 503")
    return checkpoint


@pytest.fixture
def evidence() -> Evidence:
    WitnessedLog.objects.create(witness="w1", origin="tuidang.example/log", size=7, root=b"r")
    return Evidence.objects.create(
        witness="w1",
        origin="tuidang.example/log",
        request="old 7\n\nforged checkpoint",
        digest="d" * 64,
        status=409,
        reason="another root for size 7",
    )


def test_an_administrator_reads_checkpoints_and_their_cosignatures(
    client: Client, ada: Volunteer, checkpoint: SignedCheckpoint
) -> None:
    client.force_login(ada.user)
    detail = client.get(reverse("admin:tlog_signedcheckpoint_change", args=[checkpoint.pk]))
    assert detail.status_code == 200
    assert "witness.example/w1 AAAA" in detail.text
    assert checkpoint.note.splitlines()[0] in detail.text
    assert "witness.example/w1" in client.get(reverse("admin:tlog_cosignature_changelist")).text
    assert "answered 503" in client.get(reverse("admin:tlog_witnessstate_changelist")).text


def test_an_administrator_reads_a_witness_evidence(
    client: Client, ada: Volunteer, evidence: Evidence
) -> None:
    client.force_login(ada.user)
    listing = client.get(reverse("admin:witness_evidence_changelist")).text
    assert "another root for size 7" in listing
    detail = client.get(reverse("admin:witness_evidence_change", args=[evidence.pk])).text
    assert "forged checkpoint" in detail
    assert (
        "tuidang.example/log" in client.get(reverse("admin:witness_witnessedlog_changelist")).text
    )


def test_nobody_edits_the_evidence_or_the_cosignatures(
    client: Client, ada: Volunteer, checkpoint: SignedCheckpoint, evidence: Evidence
) -> None:
    client.force_login(ada.user)
    assert client.get(reverse("admin:witness_evidence_add")).status_code == 403
    assert client.get(reverse("admin:tlog_cosignature_add")).status_code == 403
    change = reverse("admin:witness_evidence_change", args=[evidence.pk])
    client.post(change, {"reason": "nothing happened", "status": 200})
    delete = reverse("admin:witness_evidence_delete", args=[evidence.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    cosignature = Cosignature.objects.get()
    delete = reverse("admin:tlog_cosignature_delete", args=[cosignature.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Evidence.objects.values_list("reason", "status").get() == (
        "another root for size 7",
        409,
    )
    assert Cosignature.objects.count() == 1


def test_someone_without_the_admin_reads_none_of_it(
    client: Client, mei: Volunteer, evidence: Evidence
) -> None:
    client.force_login(mei.user)
    page = client.get(reverse("admin:witness_evidence_changelist"))
    assert page.status_code == 302
