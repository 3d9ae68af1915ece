"""Checkpoints signed as C2SP signed notes, checked by an independent Ed25519 verifier."""

import base64
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tuidang.tlog import merkle
from tuidang.tlog.note import Checkpoint, NoteError, Signer, Verifier, open_note

SIGNER = Signer("tuidang.example/log", bytes(range(32)))
ROOT = merkle.root([merkle.leaf_hash(b"declaration")])


def test_a_checkpoint_is_three_lines_origin_size_and_base64_root() -> None:
    checkpoint = Checkpoint("tuidang.example/log", 1, ROOT)
    assert checkpoint.body() == f"tuidang.example/log\n1\n{base64.b64encode(ROOT).decode()}\n"
    assert Checkpoint.parse(checkpoint.body()) == checkpoint


def test_a_signed_checkpoint_has_one_signature_line_that_an_outsider_can_check() -> None:
    note = SIGNER.sign(Checkpoint("tuidang.example/log", 1, ROOT).body())
    text, signatures = note.split("\n\n")
    dash, name, encoded = signatures.strip().split(" ")
    assert dash == "\u2014" and name == "tuidang.example/log"
    raw = base64.b64decode(encoded)
    # The key ID and the signature, checked here with nothing but hashlib and cryptography.
    verifier_key = str(SIGNER.verifier)
    key_name, key_id, key = verifier_key.split("+", 2)
    public = base64.b64decode(key)[1:]
    assert key_id == hashlib.sha256(key_name.encode() + b"\n\x01" + public).digest()[:4].hex()
    assert raw[:4].hex() == key_id
    Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], (text + "\n").encode())


def test_open_note_returns_the_text_for_the_right_key() -> None:
    body = Checkpoint("tuidang.example/log", 7, ROOT).body()
    verifier = Verifier.parse(str(SIGNER.verifier))
    assert open_note(SIGNER.sign(body), verifier) == body


def test_an_altered_checkpoint_is_refused() -> None:
    note = SIGNER.sign(Checkpoint("tuidang.example/log", 7, ROOT).body())
    forged = note.replace("\n7\n", "\n8\n")
    with pytest.raises(NoteError):
        open_note(forged, SIGNER.verifier)


def test_a_note_signed_by_another_key_is_refused() -> None:
    impostor = Signer("tuidang.example/log", bytes(32))
    with pytest.raises(NoteError):
        open_note(impostor.sign(Checkpoint("tuidang.example/log", 1, ROOT).body()), SIGNER.verifier)


@pytest.mark.parametrize(
    "text",
    ["tuidang.example/log\n1\n", "tuidang.example/log\nx\nAAAA\n", "o\n01\n" + "A" * 44 + "\n"],
)
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(NoteError):
        Checkpoint.parse(text)


def test_a_verifier_key_with_the_wrong_key_id_is_refused() -> None:
    name, _key_id, key = str(SIGNER.verifier).split("+", 2)
    with pytest.raises(NoteError):
        Verifier.parse(f"{name}+00000000+{key}")
