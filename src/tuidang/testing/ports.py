"""Ports for the servers a test starts on 127.0.0.1.

Asking the kernel for a free port (binding to port 0) hands out its next ephemeral port,
and the suite's processes (`make test` runs one per core) ask at the same moments: two
of them, or an outgoing connection of either, could be given the same port between the
asking and the server's own bind, and a test would then speak to another test's server.
So each process of the suite takes its ports from a block of its own, below the
kernel's ephemeral ports, in turn from a random start, and skips a port it cannot bind.
The processes a test starts (a fleet's night) inherit the worker's name, and its block.
"""

from __future__ import annotations

import itertools
import os
import random
import socket
import threading
from collections.abc import Iterator

HOST = "127.0.0.1"
# Below Linux's ephemeral ports (32768 and up), which outgoing connections are given,
# shared out evenly among the run's workers.
PORTS = range(20_000, 32_000)


def block_for(worker: int, workers: int) -> range:
    """The ports of worker ``worker`` (0, 1, …) of ``workers``: none of another's."""
    size = len(PORTS) // max(workers, 1)
    first = PORTS.start + worker * size
    return range(first, first + size)


def _block() -> range:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.startswith("gw"):
        return PORTS  # a run of one process
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    return block_for(int(worker.removeprefix("gw")), workers)


def _in_turn() -> Iterator[int]:
    ports = _block()
    start = random.randrange(len(ports))  # noqa: S311 - a port, not a secret
    for index in itertools.count(start):
        yield ports[index % len(ports)]


_turns: Iterator[int] | None = None
_guard = threading.Lock()


def free_port() -> int:
    """A port of this process's block that nothing listens on now, never the same twice
    in a row: a test asks for several before it starts its servers."""
    global _turns
    with _guard:
        if _turns is None:
            _turns = _in_turn()
        for _ in range(len(_block())):
            port = next(_turns)
            with socket.socket() as probe:
                try:
                    probe.bind((HOST, port))
                except OSError:
                    continue
            return port
    raise OSError(f"no free port in {_block()}")
