"""A witness's key file: ``PRIVATE+KEY+<name>+<key ID in hex>+<base64(0x04 || seed)>``,
the signed-note form of a private key with the cosignature/v1 type byte, on one line,
readable by its owner alone."""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from tuidang.tlog.cosignature import COSIGNATURE_V1, Cosigner
from tuidang.tlog.note import NoteError

PREFIX = "PRIVATE+KEY+"


def encode_key(cosigner: Cosigner) -> str:
    encoded = base64.b64encode(bytes([COSIGNATURE_V1]) + cosigner.seed).decode()
    return f"{PREFIX}{cosigner.name}+{cosigner.key.key_id.hex()}+{encoded}\n"


def decode_key(text: str) -> Cosigner:
    text = text.strip()
    if not text.startswith(PREFIX):
        raise NoteError("a witness key file holds one line, PRIVATE+KEY+name+keyid+key")
    try:
        name, key_id, encoded = text.removeprefix(PREFIX).split("+", 2)
        raw = base64.b64decode(encoded, validate=True)
    except ValueError as exc:
        raise NoteError("a witness key file holds one line, PRIVATE+KEY+name+keyid+key") from exc
    if len(raw) != 33 or raw[0] != COSIGNATURE_V1:
        raise NoteError("not a cosignature/v1 (Ed25519) private key")
    try:
        cosigner = Cosigner(name, raw[1:])
    except ValueError as exc:
        raise NoteError(str(exc)) from exc
    if cosigner.key.key_id.hex() != key_id.lower():
        raise NoteError("the key ID does not match the key")
    return cosigner


def load_or_create_key(path: Path, name: str | None = None) -> Cosigner:
    """The witness's key from ``path``; a new one named ``name`` if the file is missing."""
    if path.exists():
        cosigner = decode_key(path.read_text())
        if name is not None and cosigner.name != name:
            raise NoteError(f"{path} holds the key of {cosigner.name}, not {name}")
        return cosigner
    if name is None:
        raise NoteError(f"{path} does not exist: give the witness a name to create its key")
    cosigner = Cosigner(name, secrets.token_bytes(32))
    path.parent.mkdir(parents=True, exist_ok=True)
    # Created readable by its owner alone, never for a moment by anyone else.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(encode_key(cosigner))
    return cosigner
