"""The witness side of C2SP tlog-witness ``add-checkpoint``.

A witness cosigns a log's checkpoint only once the checkpoint is signed by a key it trusts
for its origin and proven consistent with the last checkpoint it cosigned for that origin.
Checking the old size and storing the new checkpoint happen in one transaction that holds
the log's row (``SELECT … FOR UPDATE``; SQLite's transactions here begin IMMEDIATE) and
replaces it with a compare-and-swap on its size and root, so the spec's race — a smaller
checkpoint stored after a larger one — cannot happen.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from tuidang.lib.bulk import db_value
from tuidang.tlog import merkle
from tuidang.tlog.cosignature import Cosigner, split_note
from tuidang.tlog.note import Checkpoint, NoteError, Verifier, open_note
from tuidang.witness.models import Evidence, WitnessedLog

MAX_PROOF_LINES = 63
SIZE_TYPE = "text/x.tlog.size"


@dataclass(frozen=True)
class Witness:
    """Who the witness is (its cosigning key) and which logs it trusts (origin → key)."""

    cosigner: Cosigner
    logs: Mapping[str, Verifier] = field(default_factory=dict)


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Submission:
    old_size: int
    proof: list[bytes]
    note: str
    checkpoint: Checkpoint
    body: str  # the checkpoint's note text, which the witness cosigns


def parse_submission(request: bytes) -> Submission:
    """The add-checkpoint request body, or Refused(400) saying what is wrong with it."""
    try:
        text = request.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused(400, "the request is not UTF-8") from None
    header, separator, note = text.partition("\n\n")
    if not separator:
        raise Refused(400, "the old size and proof end with an empty line")
    old_line, *proof_lines = header.split("\n")
    _old, space, old = old_line.partition(" ")
    if _old != "old" or not space or not old.isascii() or not old.isdigit():
        raise Refused(400, "the first line is 'old <size>'")
    if old != "0" and old.startswith("0"):
        raise Refused(400, "the old size has no leading zeroes")
    if len(proof_lines) > MAX_PROOF_LINES:
        raise Refused(400, f"at most {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for line in proof_lines:
        try:
            node = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            raise Refused(400, "a consistency proof line is not base64") from None
        if len(node) != merkle.HASH_SIZE:
            raise Refused(400, "a consistency proof line is not a 32-byte hash")
        proof.append(node)
    try:
        body, _signatures = split_note(note)
        checkpoint = Checkpoint.parse(body)
    except NoteError as exc:
        raise Refused(400, f"not a signed checkpoint: {exc}") from None
    if int(old) > 0 and int(old) == checkpoint.size and proof:
        raise Refused(400, "no proof is needed between equal sizes")
    return Submission(int(old), proof, note, checkpoint, body)


def witness_add_checkpoint(*, witness: Witness, request: bytes, now: int | None = None) -> Answer:
    """Answer one add-checkpoint request, as the spec says: 200 with the cosignature, or
    400 (malformed), 403 (no valid signature), 404 (unknown origin), 409 (the old size is
    not what this witness last cosigned; the body says what is), 422 (the proof fails)."""
    try:
        submission = parse_submission(request)
    except Refused as refused:
        return Answer(refused.status, refused.reason + "\n")
    checkpoint = submission.checkpoint
    verifier = witness.logs.get(checkpoint.origin)
    if verifier is None:
        return Answer(404, f"this witness does not follow {checkpoint.origin}\n")
    try:
        open_note(submission.note, verifier)
    except NoteError as exc:
        return Answer(403, f"no valid signature by the log's key: {exc}\n")
    # From here the checkpoint is the log's own word: whatever is refused is kept.
    try:
        if submission.old_size > checkpoint.size:
            raise Refused(400, "the old size is larger than the checkpoint's")
        _record(witness.cosigner.name, submission)
    except Refused as refused:
        _keep_evidence(witness.cosigner.name, checkpoint.origin, request, refused)
        if refused.status == 409:
            size = _latest_size(witness.cosigner.name, checkpoint.origin)
            return Answer(409, f"{size}\n", SIZE_TYPE)
        return Answer(refused.status, refused.reason + "\n")
    timestamp = int(time.time()) if now is None else now
    return Answer(200, witness.cosigner.cosign(submission.body, timestamp).line())


def _latest_size(name: str, origin: str) -> int:
    latest = WitnessedLog.objects.filter(witness=name, origin=origin)
    return latest.values_list("size", flat=True).first() or 0


class Stale(Refused):
    """A 409 that is no evidence of anything: the client's old size is out of date."""


def _record(name: str, submission: Submission) -> None:
    checkpoint = submission.checkpoint
    with transaction.atomic():
        latest = _latest_locked(name, checkpoint.origin)
        if latest is None:  # the first checkpoint of this log: its row, then locked
            WitnessedLog.objects.get_or_create(witness=name, origin=checkpoint.origin)
            latest = _latest_locked(name, checkpoint.origin)
            assert latest is not None
        pk, size, root = latest
        if checkpoint.size == size and size and checkpoint.root != root:
            raise Refused(409, f"a second root for size {size}: a fork")
        if checkpoint.size < size:
            raise Refused(409, f"size {checkpoint.size} after {size}: the log shrank")
        if submission.old_size != size:
            raise Stale(409, f"the last cosigned size is {size}")
        if submission.old_size == 0:
            if submission.proof:
                raise Refused(422, "no consistency proof from an empty tree")
        else:
            try:
                merkle.verify_consistency(
                    size, checkpoint.size, root, checkpoint.root, submission.proof
                )
            except merkle.ProofError as exc:
                raise Refused(422, f"not consistent with size {size}: {exc}") from None
        if not _compare_and_swap(pk, size, root, submission):
            # Never with the row held; kept as the last line of defence.
            raise Stale(409, "another submission moved the witness on")


# Below the ORM: a witness answers a thousand submissions a second, and these two
# statements are most of the work of each. Names from the model's metadata, quoted;
# values are parameters.


def _latest_locked(name: str, origin: str) -> tuple[int, int, bytes] | None:
    """The log's row (id, size, root), locked until the transaction ends (on SQLite the
    transaction holds the database's write lock from its BEGIN IMMEDIATE)."""
    quote = connection.ops.quote_name
    table = quote(WitnessedLog._meta.db_table)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    sql = (
        f"SELECT {quote('id')}, {quote('size')}, {quote('root')} FROM {table} "  # noqa: S608
        f"WHERE {quote('witness')} = %s AND {quote('origin')} = %s{lock}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [name, origin])
        row = cursor.fetchone()
    return None if row is None else (int(row[0]), int(row[1]), bytes(row[2]))


def _compare_and_swap(pk: int, size: int, root: bytes, submission: Submission) -> bool:
    quote = connection.ops.quote_name
    table = quote(WitnessedLog._meta.db_table)
    checkpoint = submission.checkpoint
    sql = (
        f"UPDATE {table} SET {quote('size')} = %s, {quote('root')} = %s, "  # noqa: S608
        f"{quote('checkpoint')} = %s, {quote('updated_at')} = %s "
        f"WHERE {quote('id')} = %s AND {quote('size')} = %s AND {quote('root')} = %s"
    )
    now = db_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            sql, [checkpoint.size, checkpoint.root, submission.note, now, pk, size, root]
        )
        return bool(cursor.rowcount == 1)


def _keep_evidence(name: str, origin: str, request: bytes, refused: Refused) -> None:
    if isinstance(refused, Stale):
        return
    digest = hashlib.sha256(request).hexdigest()
    try:
        with transaction.atomic():
            Evidence.objects.get_or_create(
                witness=name,
                digest=digest,
                defaults={
                    "origin": origin,
                    "request": request.decode("utf-8"),
                    "status": refused.status,
                    "reason": refused.reason,
                },
            )
    except IntegrityError:
        pass  # the same request, kept by a concurrent submission
