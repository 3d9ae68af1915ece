"""Proof bundles: an entry, its inclusion proof and the cosigned checkpoint it is proven
against, in one small text file that checks out offline, with the log's key and the
witnesses' keys and nothing else:

    tuidang-proof/v1
    index <the entry's index>
    entry <base64 of the entry>
    <base64 of each hash of the inclusion proof, one a line>

    <the checkpoint, signed by the log and cosigned by its witnesses>

Every base64 field must be written canonically, so that no byte of a bundle can change
and leave it valid.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass

from tuidang.tlog import merkle
from tuidang.tlog.cosignature import WitnessKey, split_note, valid_cosignatures
from tuidang.tlog.note import Checkpoint, NoteError, Verifier, open_note

HEADER = "tuidang-proof/v1"


class BadBundle(Exception):
    """A bundle that is malformed or does not prove its entry."""


@dataclass(frozen=True)
class ProvenEntry:
    index: int
    entry: bytes
    checkpoint: Checkpoint
    cosigned_by: list[str]


def bundle_encode(*, index: int, entry: bytes, proof: Sequence[bytes], note: str) -> str:
    lines = [HEADER, f"index {index}", f"entry {base64.b64encode(entry).decode()}"]
    lines += [base64.b64encode(node).decode() for node in proof]
    return "\n".join(lines) + "\n\n" + note


def _decode(text: str) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BadBundle("a field is not base64") from None
    if base64.b64encode(raw).decode() != text:
        raise BadBundle("a field is not canonical base64")
    return raw


def bundle_verify(
    bundle: str,
    *,
    log_key: Verifier,
    witnesses: Sequence[WitnessKey] = (),
    quorum: int | None = None,
) -> ProvenEntry:
    """What the bundle proves, once the log's signature, ``quorum`` (default: all) of the
    ``witnesses``' cosignatures and the inclusion proof check out; BadBundle otherwise."""
    head, separator, note = bundle.partition("\n\n")
    if not separator or not note.endswith("\n"):
        raise BadBundle("a bundle is its header, a blank line and the checkpoint")
    lines = head.split("\n")
    if len(lines) < 3 or lines[0] != HEADER:
        raise BadBundle(f"not a {HEADER} bundle")
    index_text = lines[1].removeprefix("index ")
    if not index_text.isascii() or not index_text.isdigit() or str(int(index_text)) != index_text:
        raise BadBundle("the second line is 'index <number>'")
    if not lines[2].startswith("entry "):
        raise BadBundle("the third line is 'entry <base64>'")
    entry = _decode(lines[2].removeprefix("entry "))
    proof = [_decode(line) for line in lines[3:]]
    if any(len(node) != merkle.HASH_SIZE for node in proof):
        raise BadBundle("a proof line is not a hash")
    try:
        _body, signatures = split_note(note)
        for line in signatures:  # the log's signature and the cosignatures, canonical
            parts = line.split(" ")
            if len(parts) != 3:
                raise BadBundle("not a signature line")
            _decode(parts[2])
        checkpoint = Checkpoint.parse(open_note(note, log_key))
    except NoteError as exc:
        raise BadBundle(f"the checkpoint is not signed by {log_key.name}: {exc}") from exc
    cosigned = sorted(valid_cosignatures(note, witnesses))
    needed = len(witnesses) if quorum is None else quorum
    if len(cosigned) < needed:
        raise BadBundle(
            f"the checkpoint is cosigned by {len(cosigned)} of the {len(witnesses)} witnesses "
            f"given; {needed} are needed"
        )
    try:
        merkle.verify_inclusion(
            merkle.leaf_hash(entry), int(index_text), checkpoint.size, proof, checkpoint.root
        )
    except merkle.ProofError as exc:
        raise BadBundle(f"the entry is not proven in the checkpoint: {exc}") from exc
    return ProvenEntry(int(index_text), entry, checkpoint, cosigned)
