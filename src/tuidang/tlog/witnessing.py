"""The log asks its witnesses to cosign its checkpoints (C2SP tlog-witness, client side).

After a checkpoint is signed, a task (``tlog.tasks.gather_cosignatures``, in the workers,
never in a request) sends each configured witness ``add-checkpoint``: the size it last
cosigned, the consistency proof from there, the checkpoint. A cosignature is stored once it
checks out with the witness's key. A 409 names the witness's size: the request is sent
again from there. 400, 403, 404 and 422 are reported, not retried; a witness that cannot
be reached (or answers 5xx) is asked again later with backoff. The log never waits for its
witnesses: it keeps growing and signing, and the site says when its latest checkpoint is
not yet witnessed.
"""

from __future__ import annotations

import base64
import logging
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import IntegrityError, transaction
from django.utils import timezone

from tuidang.tlog.cosignature import Cosignature as CosignatureLine
from tuidang.tlog.cosignature import WitnessKey, split_note
from tuidang.tlog.models import Cosignature, SignedCheckpoint, WitnessState
from tuidang.tlog.note import NoteError
from tuidang.tlog.services import tree_hashes, witnessing_changed

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 5
MAX_RESENDS = 3  # 409s answered in a row before giving up on a witness for this round
SIZE_TYPE = "text/x.tlog.size"


@dataclass(frozen=True)
class ConfiguredWitness:
    key: WitnessKey
    url: str  # the prefix of its add-checkpoint

    @property
    def name(self) -> str:
        return self.key.name


def configured_witnesses() -> list[ConfiguredWitness]:
    """The witnesses in ``TLOG_WITNESSES``; ImproperlyConfigured says what is wrong."""
    witnesses = []
    for entry in settings.TLOG_WITNESSES.replace(";", "\n").splitlines():
        if not entry.strip():
            continue
        try:
            vkey, url = entry.split()
            key = WitnessKey.parse(vkey)
        except (ValueError, NoteError) as exc:
            raise ImproperlyConfigured(
                f"TLOG_WITNESSES: {entry.strip()!r} is not '<witness verifier key> <URL>'"
            ) from exc
        if not url.startswith(("http://", "https://")):
            raise ImproperlyConfigured(f"TLOG_WITNESSES: {url!r} is not an http(s) URL")
        witnesses.append(ConfiguredWitness(key, url.rstrip("/")))
    return witnesses


def witness_quorum(witnesses: list[ConfiguredWitness]) -> int:
    """How many cosignatures make a checkpoint witnessed (k of n)."""
    wanted = settings.TLOG_WITNESS_QUORUM
    if wanted < 0 or wanted > len(witnesses):
        raise ImproperlyConfigured(
            f"TLOG_WITNESS_QUORUM is {wanted}, with {len(witnesses)} witnesses configured"
        )
    return wanted or len(witnesses)


class Outcome(StrEnum):
    COSIGNED = "cosigned"
    RETRY = "retry"  # not reached, or a server error: ask again later
    REFUSED = "refused"  # 400, 403, 404, 422, or an answer that does not check out


@dataclass(frozen=True)
class Reply:
    status: int
    content_type: str
    body: str


def _post(url: str, body: bytes) -> Reply:
    request = urllib.request.Request(  # noqa: S310  (configured http(s) URLs only)
        f"{url}/add-checkpoint",
        data=body,
        method="POST",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310  # nosec B310
            return Reply(
                response.status, response.headers.get("Content-Type", ""), response.read().decode()
            )
    except urllib.error.HTTPError as error:
        return Reply(
            error.code, error.headers.get("Content-Type", ""), error.read().decode(errors="replace")
        )


def _request_body(checkpoint: SignedCheckpoint, old_size: int) -> bytes:
    proof: list[bytes] = []
    if 0 < old_size < checkpoint.size:
        tree = tree_hashes(checkpoint.size, checkpoint.frontier_hashes())
        proof = tree.consistency_proof(old_size)
    lines = [f"old {old_size}", *(base64.b64encode(node).decode() for node in proof)]
    return ("\n".join(lines) + "\n\n" + checkpoint.note).encode()


def checkpoint_cosign(*, checkpoint: SignedCheckpoint, witness: ConfiguredWitness) -> Outcome:
    """Ask ``witness`` to cosign ``checkpoint``; store its cosignature if it checks out."""
    if Cosignature.objects.filter(checkpoint=checkpoint, witness=witness.name).exists():
        return Outcome.COSIGNED
    state, _created = WitnessState.objects.get_or_create(witness=witness.name)
    old_size = state.size
    for _attempt in range(MAX_RESENDS):
        if old_size > checkpoint.size:
            return _report(
                state,
                Outcome.REFUSED,
                f"the witness has cosigned size {old_size}, more than this log's {checkpoint.size}",
            )
        try:
            reply = _post(witness.url, _request_body(checkpoint, old_size))
        except (OSError, UnicodeDecodeError) as exc:  # refused, reset, timed out, garbled
            return _report(state, Outcome.RETRY, f"not reached: {exc}")
        if reply.status == 200:
            return _keep(state, checkpoint, witness, reply.body)
        if reply.status == 409 and reply.content_type.split(";")[0].strip() == SIZE_TYPE:
            try:
                told = int(reply.body.strip())
            except ValueError:
                return _report(state, Outcome.REFUSED, "a 409 without a size")
            if told == old_size:
                return _report(state, Outcome.REFUSED, f"a 409 naming the size sent ({told})")
            old_size = told
            WitnessState.objects.filter(pk=state.pk).update(size=told)
            continue
        if reply.status >= 500:
            return _report(state, Outcome.RETRY, f"answered {reply.status}")
        return _report(
            state, Outcome.REFUSED, f"answered {reply.status}: {reply.body.strip()[:200]}"
        )
    return _report(state, Outcome.RETRY, "its size kept changing")


def _keep(
    state: WitnessState, checkpoint: SignedCheckpoint, witness: ConfiguredWitness, body: str
) -> Outcome:
    note_body, _signatures = split_note(checkpoint.note)
    for line in body.splitlines():
        try:
            cosignature = CosignatureLine.parse(line)
        except NoteError:
            continue
        if not witness.key.verify(cosignature, note_body):
            continue  # another key of the witness's, or not a cosignature of ours
        signed_at = datetime.fromtimestamp(cosignature.timestamp, tz=UTC)
        try:
            with transaction.atomic():
                Cosignature.objects.create(
                    checkpoint=checkpoint,
                    witness=witness.name,
                    line=cosignature.line(),
                    signed_at=signed_at,
                )
        except IntegrityError:
            pass  # stored by a worker that asked at the same time
        else:
            transaction.on_commit(witnessing_changed)
        now = timezone.now()
        WitnessState.objects.filter(pk=state.pk, size__lte=checkpoint.size).update(
            size=checkpoint.size, cosigned_at=now
        )
        WitnessState.objects.filter(pk=state.pk).update(attempted_at=now, last_error="")
        logger.info("%s cosigned checkpoint %s", witness.name, checkpoint.size)
        return Outcome.COSIGNED
    return _report(state, Outcome.REFUSED, "answered 200 without a valid cosignature")


def _report(state: WitnessState, outcome: Outcome, error: str) -> Outcome:
    log = logger.warning if outcome is Outcome.RETRY else logger.error
    log("Witness %s: %s", state.witness, error)
    WitnessState.objects.filter(pk=state.pk).update(
        attempted_at=timezone.now(), last_error=error[:1000]
    )
    return outcome


def cosignatures_gather() -> dict[str, Outcome]:
    """Ask every configured witness to cosign the latest checkpoint, by witness name."""
    witnesses = configured_witnesses()
    latest = SignedCheckpoint.objects.order_by("-size").first()
    if latest is None or not witnesses:
        return {}
    return {
        witness.name: checkpoint_cosign(checkpoint=latest, witness=witness) for witness in witnesses
    }


def cosigned_note(checkpoint: SignedCheckpoint) -> str:
    """The checkpoint's note with the cosignatures gathered so far after its signature."""
    lines = checkpoint.cosignatures.order_by("witness").values_list("line", flat=True)
    return checkpoint.note + "".join(lines)
