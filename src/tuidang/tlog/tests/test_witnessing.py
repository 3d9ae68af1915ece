"""The log asks its witnesses to cosign each checkpoint it signs, and says what they did.

The witnesses are real ones (tuidang.witness), served on 127.0.0.1 in threads; the log
reaches them over HTTP, as it reaches any witness.
"""

import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from tuidang.testing.witnesses import serving
from tuidang.tlog.checks import check_witnesses
from tuidang.tlog.cosignature import Cosigner, valid_cosignatures
from tuidang.tlog.models import Cosignature, SignedCheckpoint, WitnessState
from tuidang.tlog.note import open_note
from tuidang.tlog.services import log_append, signer
from tuidang.tlog.verify import BadKey, VerificationError, log_verify
from tuidang.tlog.witnessing import Outcome, cosignatures_gather
from tuidang.witness.models import WitnessedLog
from tuidang.witness.services import Witness

pytestmark = pytest.mark.django_db(transaction=True)

W1 = Cosigner("witness.example/w1", bytes(range(32, 64)))
W2 = Cosigner("witness.example/w2", bytes(range(64, 96)))


def append(count: int) -> None:
    with transaction.atomic():
        log_append(entries=[b'{"kind":"declaration","n":%d}' % i for i in range(count)])


def witness_of_this_log(cosigner: Cosigner) -> Witness:
    return Witness(cosigner, {signer().verifier.name: signer().verifier})


@pytest.fixture
def witnesses(settings: Settings) -> Iterator[dict[str, str]]:
    """Two witnesses of this log, running, and configured as its witnesses."""
    with ExitStack() as stack:
        urls = {c.name: stack.enter_context(serving(witness_of_this_log(c))) for c in (W1, W2)}
        settings.TLOG_WITNESSES = ";".join(f"{c.key} {urls[c.name]}" for c in (W1, W2))
        yield urls


def served_checkpoint() -> str:
    response = Client().get("/log/checkpoint")
    assert response.status_code == 200
    return response.content.decode()


def test_each_checkpoint_signed_is_cosigned_by_both_witnesses(witnesses: dict[str, str]) -> None:
    append(3)
    append(4)
    note = served_checkpoint()
    assert open_note(note, signer().verifier).split("\n")[1] == "7"
    assert sorted(valid_cosignatures(note, [W1.key, W2.key])) == [W1.name, W2.name]
    assert set(WitnessState.objects.values_list("size", flat=True)) == {7}
    home = Client().get("/").content.decode()
    assert 'data-testid="witnessed"' in home
    assert "cosigned by 2 of 2" in home
    assert str(W1.key) in home and str(W2.key) in home


def test_the_log_keeps_signing_while_a_witness_is_down_and_says_so(
    settings: Settings,
) -> None:
    with serving(witness_of_this_log(W1)) as url:
        down = "http://127.0.0.1:9"  # nothing listens on the discard port here
        settings.TLOG_WITNESSES = f"{W1.key} {url};{W2.key} {down}"
        append(5)
        assert SignedCheckpoint.objects.filter(size=5).exists()
        note = served_checkpoint()
        assert list(valid_cosignatures(note, [W1.key, W2.key])) == [W1.name]
        assert "not reached" in WitnessState.objects.get(witness=W2.name).last_error
        home = Client().get("/").content.decode()
        assert 'data-testid="not-witnessed"' in home
        assert "not yet witnessed by 2 of 2" in home
        settings.TLOG_WITNESS_QUORUM = 1
        assert "cosigned by 1 of 2" in Client().get("/").content.decode()


def test_a_witness_back_up_catches_up_from_the_size_its_409_names(
    settings: Settings,
) -> None:
    with serving(witness_of_this_log(W1)) as url:
        settings.TLOG_WITNESSES = f"{W1.key} {url}"
        append(5)
        append(2)
        assert WitnessedLog.objects.get(witness=W1.name).size == 7
        WitnessState.objects.all().delete()  # the log forgot what the witness cosigned
        append(3)
        assert WitnessState.objects.get(witness=W1.name).size == 10
        assert Cosignature.objects.filter(checkpoint__size=10, witness=W1.name).exists()


def test_a_witness_that_does_not_follow_this_log_is_reported_not_retried(
    settings: Settings,
) -> None:
    stranger = Witness(W1, {})  # follows no log: answers 404
    with serving(stranger) as url:
        settings.TLOG_WITNESSES = f"{W1.key} {url}"
        append(2)
        assert cosignatures_gather() == {W1.name: Outcome.REFUSED}
        assert "404" in WitnessState.objects.get().last_error
        assert not Cosignature.objects.exists()


def test_a_cosignature_by_another_key_is_not_kept(settings: Settings) -> None:
    impostor = Cosigner(W1.name, bytes(32))  # W1's name, another key
    with serving(witness_of_this_log(impostor)) as url:
        settings.TLOG_WITNESSES = f"{W1.key} {url}"
        append(2)
        assert not Cosignature.objects.exists()
        assert "without a valid cosignature" in WitnessState.objects.get().last_error


def test_no_witness_configured_the_site_says_the_log_is_not_witnessed() -> None:
    append(1)
    assert 'data-testid="not-witnessed"' in Client().get("/").content.decode()
    assert not Cosignature.objects.exists()


def test_verify_log_needs_the_witnesses_cosignatures(
    witnesses: dict[str, str], tmp_path: Path
) -> None:
    append(4)
    keys = [str(W1.key), str(W2.key)]
    state = tmp_path / "seen.json"
    report = log_verify(url=None, key=None, state=state, local_total=lambda: 4, witnesses=keys)
    assert "cosigned by 2 of 2 witnesses" in " ".join(report.checked)
    assert json.loads(state.read_text())["witnessed_size"] == 4
    absent = str(Cosigner("witness.example/w3", bytes(range(96, 128))).key)
    with pytest.raises(VerificationError, match="cosigned by 2 of the 3 witnesses"):
        log_verify(url=None, key=None, state=None, local_total=lambda: 4, witnesses=[*keys, absent])
    log_verify(
        url=None, key=None, state=None, local_total=lambda: 4, witnesses=[*keys, absent], quorum=2
    )
    with pytest.raises(BadKey):
        log_verify(url=None, key=None, state=None, local_total=lambda: 4, witnesses=keys, quorum=3)


def test_verify_log_fails_on_a_forged_cosignature(settings: Settings) -> None:
    impostor = Cosigner(W1.name, bytes(32))
    with serving(witness_of_this_log(W1)) as url:
        settings.TLOG_WITNESSES = f"{W1.key} {url}"
        append(2)
    line = Cosignature.objects.get()
    body = SignedCheckpoint.objects.get(size=2).note.split("\n\n")[0] + "\n"
    line.line = impostor.cosign(body, 1).line()
    line.save(update_fields=["line"])
    with pytest.raises(VerificationError, match="cosigned by 0 of the 1"):
        log_verify(url=None, key=None, state=None, local_total=lambda: 2, witnesses=[str(W1.key)])


def test_verify_log_command_refuses_a_bad_witness_key_clearly() -> None:
    append(1)
    with pytest.raises(CommandError, match="bad verifier key"):
        call_command("verify_log", witness=["nonsense"])


@pytest.mark.parametrize(
    ("witnesses", "quorum"),
    [
        ("not-a-key http://127.0.0.1:1", 0),
        (f"{W1.key} ftp://w.example", 0),
        (f"{W1.key} http://w", 2),
    ],
)
def test_bad_witness_settings_fail_the_startup_check(
    settings: Settings, witnesses: str, quorum: int
) -> None:
    settings.TLOG_WITNESSES, settings.TLOG_WITNESS_QUORUM = witnesses, quorum
    errors = check_witnesses()
    assert [error.id for error in errors] == ["tuidang.E101"]


def test_a_witness_not_reached_is_asked_again_later_a_bounded_number_of_times(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django_tasks.backends.immediate import ImmediateBackend

    from tuidang.tlog import tasks, witnessing

    asked: list[int] = []

    def not_reached() -> dict[str, Outcome]:
        asked.append(1)
        return {W1.name: Outcome.RETRY}

    delays: list[float] = []
    task_class = type(tasks.gather_cosignatures)
    original_using = task_class.using

    def using(self: Any, **kwargs: Any) -> Any:
        delays.append((kwargs["run_after"] - timezone.now()).total_seconds())
        return original_using(self)  # the tests' queue runs a task at once

    monkeypatch.setattr(witnessing, "cosignatures_gather", not_reached)
    monkeypatch.setattr(ImmediateBackend, "supports_defer", True)
    monkeypatch.setattr(task_class, "using", using)
    tasks.gather_cosignatures.enqueue()
    assert len(asked) == tasks.MAX_ATTEMPTS
    assert delays == sorted(delays) and delays[-1] > 60  # backing off, up to minutes
