"""Checkpoints (C2SP tlog-checkpoint) signed as notes (C2SP signed-note) with Ed25519.

A checkpoint is the note text ``<origin>\\n<tree size>\\n<base64 root hash>\\n`` followed
by optional extension lines. A signed note adds a blank line and one signature line per
signer: ``— <key name> <base64(key ID || signature)>``. For Ed25519 the key ID is the
first four bytes of SHA-256(key name || 0x0A || 0x01 || public key), and a verifier key is
written ``<name>+<key ID in hex>+<base64(0x01 || public key)>`` — the forms the Go
ecosystem's note and sumdb packages read, so tools no one here wrote can check our log.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = 0x01
DASH = "\u2014"


class NoteError(Exception):
    """A note or checkpoint that is malformed, or not signed by the key we trust."""


def key_id(name: str, key_type: int, public: bytes) -> bytes:
    """A signed note's key ID: the first four bytes of SHA-256(name, newline, type, key)."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([key_type]) + public).digest()[:4]


def _key_id(name: str, public: bytes) -> bytes:
    return key_id(name, ED25519, public)


def valid_name(name: str) -> bool:
    return bool(name) and "+" not in name and not any(ch.isspace() for ch in name)


def vkey_text(name: str, key_type: int, public: bytes) -> str:
    """A verifier key as signed notes write it: name+keyid+base64(type || key)."""
    encoded = base64.b64encode(bytes([key_type]) + public).decode()
    return f"{name}+{key_id(name, key_type, public).hex()}+{encoded}"


def vkey_parse(text: str, key_type: int, what: str) -> tuple[str, bytes]:
    """The name and 32-byte Ed25519 key of a verifier key of ``key_type``; ``what`` names
    the kind of key in the errors."""
    try:
        name, hex_id, encoded = text.strip().split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
    except ValueError as exc:
        raise NoteError(f"a {what} key is name+keyid+base64key") from exc
    if not valid_name(name) or len(raw) != 33 or raw[0] != key_type:
        raise NoteError(f"not a {what} key of type {key_type:#04x} (Ed25519)")
    if key_id(name, key_type, raw[1:]).hex() != hex_id.lower():
        raise NoteError("the key ID does not match the key")
    return name, raw[1:]


@dataclass(frozen=True)
class Verifier:
    name: str
    public: bytes

    @property
    def key_id(self) -> bytes:
        return _key_id(self.name, self.public)

    def __str__(self) -> str:
        return vkey_text(self.name, ED25519, self.public)

    @classmethod
    def parse(cls, text: str) -> Verifier:
        return cls(*vkey_parse(text, ED25519, "verifier"))


@dataclass(frozen=True)
class Signer:
    name: str
    seed: bytes  # the 32-byte Ed25519 private key

    def __post_init__(self) -> None:
        if not valid_name(self.name) or len(self.seed) != 32:
            raise ValueError("a signer needs a name without spaces or '+' and a 32-byte seed")

    @property
    def verifier(self) -> Verifier:
        public = (
            Ed25519PrivateKey.from_private_bytes(self.seed)
            .public_key()
            .public_bytes(Encoding.Raw, PublicFormat.Raw)
        )
        return Verifier(self.name, public)

    def sign(self, text: str) -> str:
        """The signed note: ``text`` (which must end in a newline), a blank line, a signature."""
        if not text.endswith("\n") or "\n\n" in text:
            raise NoteError("note text ends with a newline and has no blank lines")
        signature = Ed25519PrivateKey.from_private_bytes(self.seed).sign(text.encode())
        encoded = base64.b64encode(self.verifier.key_id + signature).decode()
        return f"{text}\n{DASH} {self.name} {encoded}\n"


def open_note(note: str, verifier: Verifier) -> str:
    """The note's text, once a signature by ``verifier`` is found and checks out."""
    text, separator, signatures = note.rpartition("\n\n")
    if not separator:
        raise NoteError("a signed note has a blank line before its signatures")
    text += "\n"
    for line in signatures.splitlines():
        parts = line.split(" ")
        if len(parts) != 3 or parts[0] != DASH:
            raise NoteError(f"not a signature line: {line!r}")
        _dash, name, encoded = parts
        if name != verifier.name:
            continue
        try:
            raw = base64.b64decode(encoded, validate=True)
        except ValueError as exc:
            raise NoteError("a signature is not base64") from exc
        if raw[:4] != verifier.key_id:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(verifier.public).verify(raw[4:], text.encode())
        except InvalidSignature as exc:
            raise NoteError("the signature does not match the note") from exc
        return text
    raise NoteError(f"no signature by {verifier.name}")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def body(self) -> str:
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        return "".join(f"{line}\n" for line in [*lines, *self.extensions])

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        lines = text.split("\n")
        if len(lines) < 4 or lines[-1] != "":
            raise NoteError("a checkpoint has an origin, a size and a root hash, each on a line")
        origin, size, root, *extensions = lines[:-1]
        if not origin or not size.isdigit() or (size != "0" and size.startswith("0")):
            raise NoteError("malformed checkpoint origin or size")
        try:
            root_hash = base64.b64decode(root, validate=True)
        except ValueError as exc:
            raise NoteError("the root hash is not base64") from exc
        if len(root_hash) != 32:
            raise NoteError("the root hash is not 32 bytes")
        return cls(origin, int(size), root_hash, tuple(extensions))
