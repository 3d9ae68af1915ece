"""A toy log that signs checkpoints and builds add-checkpoint requests, and a witness
served on 127.0.0.1 in a thread, for the witness's tests and the log's."""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from tuidang.tlog import merkle
from tuidang.tlog.cosignature import Cosigner
from tuidang.tlog.note import Checkpoint, Signer
from tuidang.witness.server import WitnessServer
from tuidang.witness.services import Witness

WITNESS_SEED = bytes(range(32, 64))


@dataclass
class ToyLog:
    """A log kept in memory: its leaves, signed checkpoints and add-checkpoint requests."""

    origin: str = "tuidang.example/log"
    seed: bytes = bytes(range(32))
    leaves: list[bytes] = field(default_factory=list)

    @property
    def signer(self) -> Signer:
        return Signer(self.origin, self.seed)

    def grow(self, to: int) -> None:
        self.leaves += [merkle.leaf_hash(b"entry %d" % i) for i in range(len(self.leaves), to)]

    def checkpoint(self, size: int) -> Checkpoint:
        return Checkpoint(self.origin, size, merkle.root(self.leaves[:size]))

    def tile(self, level: int, index: int, width: int) -> bytes | None:
        """Tile ``level``/``index``, ``width`` wide (C2SP tlog-tiles), as the log serves it."""
        span = 256**level
        first = index * 256
        if (first + width) * span > len(self.leaves):
            return None
        return b"".join(
            merkle.root(self.leaves[(first + i) * span : (first + i + 1) * span])
            for i in range(width)
        )

    def note(self, size: int) -> str:
        return self.signer.sign(self.checkpoint(size).body())

    def request(self, old: int, size: int, *, note: str | None = None) -> bytes:
        self.grow(size)
        proof = merkle.consistency_proof(self.leaves[:size], old) if 0 < old < size else []
        lines = [f"old {old}", *(base64.b64encode(node).decode() for node in proof)]
        return ("\n".join(lines) + "\n\n" + (note or self.note(size))).encode()


def a_witness(log: ToyLog, name: str = "witness.example/w1", seed: bytes = WITNESS_SEED) -> Witness:
    return Witness(Cosigner(name, seed), {log.origin: log.signer.verifier})


@contextmanager
def serving(witness: Witness) -> Iterator[str]:
    """The witness served on a free port of 127.0.0.1: its URL prefix."""
    server = WitnessServer(witness, ("127.0.0.1", 0))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
