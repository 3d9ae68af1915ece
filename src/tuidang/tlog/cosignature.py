"""Cosignatures (C2SP tlog-cosignature, ``cosignature/v1``, Ed25519) on checkpoints.

A witness cosigns a checkpoint once it has checked that it is consistent with the last one
it saw. The cosignature is a signed-note signature line,
``— <witness name> base64(key ID || timestamp || signature)``: the key ID is the first four
bytes of SHA-256(name || 0x0A || 0x04 || public key), the timestamp eight bytes big-endian
(POSIX seconds), and the Ed25519 signature is over
``cosignature/v1\\ntime <timestamp>\\n`` followed by the checkpoint's note text. A witness's
verifier key is written ``<name>+<key ID in hex>+<base64(0x04 || public key)>``.
Nothing here knows Django.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tuidang.tlog.note import DASH, NoteError, key_id, valid_name, vkey_parse, vkey_text

COSIGNATURE_V1 = 0x04
MAX_TIMESTAMP = 2**63 - 1


def _key_id(name: str, public: bytes) -> bytes:
    return key_id(name, COSIGNATURE_V1, public)


def signed_message(body: str, timestamp: int) -> bytes:
    """What a cosigner signs: the header, the time, the checkpoint's note text."""
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


@dataclass(frozen=True)
class Cosignature:
    """One signature line by a witness, parsed (its signature not yet checked)."""

    name: str
    key_id: bytes
    timestamp: int
    signature: bytes

    def line(self) -> str:
        raw = self.key_id + self.timestamp.to_bytes(8, "big") + self.signature
        return f"{DASH} {self.name} {base64.b64encode(raw).decode()}\n"

    @classmethod
    def parse(cls, line: str) -> Cosignature:
        parts = line.rstrip("\n").split(" ")
        if len(parts) != 3 or parts[0] != DASH or not valid_name(parts[1]):
            raise NoteError(f"not a signature line: {line!r}")
        try:
            raw = base64.b64decode(parts[2], validate=True)
        except ValueError as exc:
            raise NoteError("a signature is not base64") from exc
        if len(raw) != 4 + 8 + 64:
            raise NoteError("not a cosignature/v1 signature (key ID, time, Ed25519 signature)")
        timestamp = int.from_bytes(raw[4:12], "big")
        if timestamp > MAX_TIMESTAMP:
            raise NoteError("a cosignature's time is at most 2^63 - 1")
        return cls(parts[1], raw[:4], timestamp, raw[12:])


@dataclass(frozen=True)
class WitnessKey:
    """A witness's public key: what a log, a verifier or a monitor is configured with."""

    name: str
    public: bytes

    @property
    def key_id(self) -> bytes:
        return _key_id(self.name, self.public)

    def __str__(self) -> str:
        return vkey_text(self.name, COSIGNATURE_V1, self.public)

    @classmethod
    def parse(cls, text: str) -> WitnessKey:
        return cls(*vkey_parse(text, COSIGNATURE_V1, "cosignature/v1 witness"))

    def verify(self, cosignature: Cosignature, body: str) -> bool:
        """Whether ``cosignature`` is this witness's, and signs the checkpoint ``body``."""
        if cosignature.name != self.name or cosignature.key_id != self.key_id:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.public).verify(
                cosignature.signature, signed_message(body, cosignature.timestamp)
            )
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Cosigner:
    name: str
    seed: bytes  # the 32-byte Ed25519 private key

    def __post_init__(self) -> None:
        if not valid_name(self.name) or len(self.seed) != 32:
            raise ValueError("a cosigner needs a name without spaces or '+' and a 32-byte seed")

    @property
    def key(self) -> WitnessKey:
        public = (
            Ed25519PrivateKey.from_private_bytes(self.seed)
            .public_key()
            .public_bytes(Encoding.Raw, PublicFormat.Raw)
        )
        return WitnessKey(self.name, public)

    def cosign(self, body: str, timestamp: int) -> Cosignature:
        """The cosignature of the checkpoint note text ``body`` at ``timestamp``."""
        if not 0 <= timestamp <= MAX_TIMESTAMP:
            raise ValueError("a cosignature's time is between 0 and 2^63 - 1")
        signature = Ed25519PrivateKey.from_private_bytes(self.seed).sign(
            signed_message(body, timestamp)
        )
        return Cosignature(self.name, self.key.key_id, timestamp, signature)


def split_note(note: str) -> tuple[str, list[str]]:
    """A signed note's text (ending in its newline) and its signature lines."""
    text, separator, signatures = note.rpartition("\n\n")
    if not separator:
        raise NoteError("a signed note has a blank line before its signatures")
    lines = signatures.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise NoteError("a signed note has at least one signature")
    return text + "\n", lines


def valid_cosignatures(note: str, keys: Iterable[WitnessKey]) -> dict[str, Cosignature]:
    """The cosignatures on ``note`` that check out, by witness name; lines that are not
    cosignatures by one of ``keys`` are ignored, as the spec says."""
    body, lines = split_note(note)
    by_id = {(key.name, key.key_id): key for key in keys}
    found: dict[str, Cosignature] = {}
    for line in lines:
        try:
            cosignature = Cosignature.parse(line)
        except NoteError:
            continue  # the log's own signature, or a signer we do not know
        key = by_id.get((cosignature.name, cosignature.key_id))
        if key is not None and key.verify(cosignature, body):
            found.setdefault(key.name, cosignature)
    return found
