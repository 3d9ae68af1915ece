"""Proof bundles: an entry, its inclusion proof and its cosigned checkpoint, checked
offline; any byte changed and the bundle no longer verifies."""

from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from hypothesis import given, settings
from hypothesis import strategies as st
from pytest_django.fixtures import Settings

from tuidang.calls.models import Call
from tuidang.declarations.models import Declaration
from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.testing.desk import connect
from tuidang.testing.personas import PASSWORD, HotlineNumbers
from tuidang.testing.publication import publish
from tuidang.testing.witnesses import ToyLog, serving
from tuidang.tlog import merkle
from tuidang.tlog.bundles import BadBundle, bundle_encode, bundle_verify
from tuidang.tlog.cosignature import Cosigner
from tuidang.tlog.services import signer
from tuidang.volunteers.models import Volunteer
from tuidang.witness.services import Witness

W1 = Cosigner("witness.example/w1", bytes(range(32, 64)))
W2 = Cosigner("witness.example/w2", bytes(range(64, 96)))


def toy_bundle(size: int = 300, index: int = 42) -> tuple[ToyLog, str]:
    log = ToyLog()
    log.grow(size)
    body = log.checkpoint(size).body()
    note = log.signer.sign(body) + W1.cosign(body, 1).line() + W2.cosign(body, 2).line()
    entry = b"entry %d" % index
    proof = merkle.inclusion_proof(log.leaves[:size], index)
    return log, bundle_encode(index=index, entry=entry, proof=proof, note=note)


def check(log: ToyLog, bundle: str) -> None:
    bundle_verify(bundle, log_key=log.signer.verifier, witnesses=[W1.key, W2.key])


def test_a_bundle_verifies_with_the_logs_and_witnesses_keys() -> None:
    log, bundle = toy_bundle()
    proven = bundle_verify(bundle, log_key=log.signer.verifier, witnesses=[W1.key, W2.key])
    assert (proven.index, proven.entry, proven.checkpoint.size) == (42, b"entry 42", 300)
    assert proven.cosigned_by == [W1.name, W2.name]


def test_a_bundle_without_enough_cosignatures_does_not_verify() -> None:
    log, bundle = toy_bundle()
    third = Cosigner("witness.example/w3", bytes(range(96, 128)))
    with pytest.raises(BadBundle, match="2 of the 3"):
        bundle_verify(bundle, log_key=log.signer.verifier, witnesses=[W1.key, W2.key, third.key])
    bundle_verify(
        bundle, log_key=log.signer.verifier, witnesses=[W1.key, W2.key, third.key], quorum=2
    )


@given(position=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
@settings(max_examples=300, deadline=None)
def test_any_byte_changed_and_the_bundle_does_not_verify(position: int, bit: int) -> None:
    log, bundle = toy_bundle()
    raw = bytearray(bundle.encode())
    raw[position % len(raw)] ^= 1 << bit
    try:
        changed = raw.decode("utf-8")
    except UnicodeDecodeError:
        return  # not even text: refused before it is read
    with pytest.raises(BadBundle):
        check(log, changed)


@pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])
def test_the_bundle_of_a_declaration_recorded_on_the_desk_verifies_offline(
    client: Client,
    network: PhoneNetwork,
    numbers: HotlineNumbers,
    mei: Volunteer,
    settings: Settings,
    tmp_path: Path,
) -> None:
    witnesses = [Witness(w, {signer().verifier.name: signer().verifier}) for w in (W1, W2)]
    with serving(witnesses[0]) as url1, serving(witnesses[1]) as url2:
        settings.TLOG_WITNESSES = f"{W1.key} {url1};{W2.key} {url2}"
        call: Call = connect(network, mei)
        client.login(username="mei", password=PASSWORD)
        form = {"caller-renounces": "on", "caller-alias": "Wang", "caller-organizations": ["party"]}
        form |= {"family-TOTAL_FORMS": "0", "family-INITIAL_FORMS": "0"}
        assert client.post(f"/desk/calls/{call.pk}/declarations", form).status_code < 400
        publish()  # the worker's next batch, with its checkpoint
    index = Declaration.objects.get().log_index
    assert index is not None
    response = Client().get(f"/log/proof/{index}")
    assert response.status_code == 200
    bundle = tmp_path / "proof.txt"
    bundle.write_bytes(response.content)
    keys = {"key": str(signer().verifier), "witness": [str(W1.key), str(W2.key)]}
    call_command("verify_receipt", bundle, **keys)
    raw = bytearray(response.content)
    raw[len(raw) // 3] ^= 0x01
    bundle.write_bytes(bytes(raw))
    with pytest.raises(CommandError, match="does NOT verify"):
        call_command("verify_receipt", bundle, **keys)
    assert Client().get("/log/proof/99999").status_code == 404


@pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])
def test_recording_at_the_desk_never_waits_on_a_witness(
    client: Client,
    network: PhoneNetwork,
    numbers: HotlineNumbers,
    mei: Volunteer,
    settings: Settings,
) -> None:
    """The volunteer's request asks no witness anything: cosignatures are gathered by the
    worker after the batch is published and its checkpoint signed."""
    from tuidang.tlog.models import Cosignature, SignedCheckpoint
    from tuidang.witness.models import WitnessedLog

    witnesses = [Witness(w, {signer().verifier.name: signer().verifier}) for w in (W1, W2)]
    with serving(witnesses[0]) as url1, serving(witnesses[1]) as url2:
        settings.TLOG_WITNESSES = f"{W1.key} {url1};{W2.key} {url2}"
        call: Call = connect(network, mei)
        client.login(username="mei", password=PASSWORD)
        form = {"caller-renounces": "on", "caller-alias": "Wang", "caller-organizations": ["party"]}
        form |= {"family-TOTAL_FORMS": "0", "family-INITIAL_FORMS": "0"}
        checkpoints = SignedCheckpoint.objects.count()
        assert client.post(f"/desk/calls/{call.pk}/declarations", form).status_code < 400
        # Recorded, and nothing signed, sent to a witness or cosigned meanwhile.
        assert Declaration.objects.count() == 1
        assert SignedCheckpoint.objects.count() == checkpoints
        assert not WitnessedLog.objects.filter(size__gt=0).exists()
        assert not Cosignature.objects.exists()
        publish()  # the worker's next batch: its checkpoint, then the witnesses
        latest = SignedCheckpoint.objects.order_by("-size").first()
        assert latest is not None
        assert set(latest.cosignatures.values_list("witness", flat=True)) == {W1.name, W2.name}
