"""Cosignatures (C2SP tlog-cosignature, cosignature/v1) on checkpoints."""

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import given, settings
from hypothesis import strategies as st

from tuidang.tlog import merkle
from tuidang.tlog.cosignature import (
    Cosignature,
    Cosigner,
    WitnessKey,
    signed_message,
    valid_cosignatures,
)
from tuidang.tlog.note import Checkpoint, NoteError, Signer

LOG = Signer("tuidang.example/log", bytes(range(32)))
WITNESS = Cosigner("witness.example/w1", bytes(range(32, 64)))
ROOT = merkle.root([merkle.leaf_hash(b"declaration")])
BODY = Checkpoint("tuidang.example/log", 1, ROOT).body()

# The example in the specification (c2sp.org/tlog-cosignature).
SPEC_BODY = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
SPEC_LINE = (
    "\u2014 witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dl"
    "rDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA=="
)


def test_the_specs_example_cosignature_reads_as_key_id_time_and_signature() -> None:
    cosignature = Cosignature.parse(SPEC_LINE)
    assert cosignature.name == "witness.example.com/w1"
    assert cosignature.key_id.hex() == "8d66cf3f"
    assert cosignature.timestamp == 1679315147
    assert len(cosignature.signature) == 64
    assert cosignature.line() == SPEC_LINE + "\n"


def test_the_signed_message_is_the_specs_example() -> None:
    assert signed_message(SPEC_BODY, 1679315147) == (
        b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\n"
        b"CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
    )


def test_a_cosignature_checks_out_with_nothing_but_hashlib_and_cryptography() -> None:
    line = WITNESS.cosign(BODY, 1_700_000_000).line()
    dash, name, encoded = line.rstrip("\n").split(" ")
    assert (dash, name) == ("\u2014", "witness.example/w1")
    raw = base64.b64decode(encoded)
    key_name, key_id, key = str(WITNESS.key).split("+", 2)
    public = base64.b64decode(key)
    assert public[0] == 0x04
    assert key_id == hashlib.sha256(key_name.encode() + b"\n\x04" + public[1:]).digest()[:4].hex()
    assert raw[:4].hex() == key_id
    assert int.from_bytes(raw[4:12], "big") == 1_700_000_000
    message = f"cosignature/v1\ntime 1700000000\n{BODY}".encode()
    Ed25519PublicKey.from_public_bytes(public[1:]).verify(raw[12:], message)


def test_a_witness_key_reads_back_as_written_and_refuses_a_wrong_key_id() -> None:
    text = str(WITNESS.key)
    assert WitnessKey.parse(text) == WITNESS.key
    name, _key_id, key = text.split("+", 2)
    with pytest.raises(NoteError):
        WitnessKey.parse(f"{name}+00000000+{key}")
    with pytest.raises(NoteError):  # a log's (signed-note type 0x01) key is not a witness's
        WitnessKey.parse(str(LOG.verifier))


def test_a_cosigned_note_counts_only_valid_cosignatures_of_known_witnesses() -> None:
    other = Cosigner("witness.example/w2", bytes(range(64, 96)))
    stranger = Cosigner("stranger.example/w", bytes(range(96, 128)))
    note = LOG.sign(BODY)
    note += WITNESS.cosign(BODY, 10).line() + other.cosign(BODY, 11).line()
    note += stranger.cosign(BODY, 12).line()
    found = valid_cosignatures(note, [WITNESS.key, other.key])
    assert sorted(found) == ["witness.example/w1", "witness.example/w2"]
    assert found["witness.example/w2"].timestamp == 11


def test_a_cosignature_of_another_checkpoint_does_not_count() -> None:
    other_body = Checkpoint("tuidang.example/log", 2, ROOT).body()
    note = LOG.sign(BODY) + WITNESS.cosign(other_body, 10).line()
    assert valid_cosignatures(note, [WITNESS.key]) == {}


def test_a_cosignature_whose_time_was_changed_does_not_count() -> None:
    cosignature = WITNESS.cosign(BODY, 10)
    moved = Cosignature(cosignature.name, cosignature.key_id, 11, cosignature.signature)
    assert valid_cosignatures(LOG.sign(BODY) + moved.line(), [WITNESS.key]) == {}


@given(
    size=st.integers(min_value=0, max_value=2**63 - 1),
    root=st.binary(min_size=32, max_size=32),
    timestamp=st.integers(min_value=0, max_value=2**63 - 1),
    flip=st.integers(min_value=0),
)
@settings(max_examples=50)
def test_any_cosignature_verifies_and_any_changed_byte_of_it_does_not(
    size: int, root: bytes, timestamp: int, flip: int
) -> None:
    body = Checkpoint("tuidang.example/log", size, root).body()
    cosignature = WITNESS.cosign(body, timestamp)
    assert Cosignature.parse(cosignature.line()) == cosignature
    assert WITNESS.key.verify(cosignature, body)
    raw = bytearray(cosignature.key_id + timestamp.to_bytes(8, "big") + cosignature.signature)
    raw[flip % len(raw)] ^= 1 << (flip % 8)
    line = f"\u2014 {WITNESS.name} {base64.b64encode(bytes(raw)).decode()}\n"
    try:
        changed = Cosignature.parse(line)
    except NoteError:
        return  # a time past 2^63 - 1
    assert not WITNESS.key.verify(changed, body)
