"""How many add-checkpoint requests a witness answers a second.

`tuidang witness` on a fresh SQLite database of its own, on 127.0.0.1, following one log
per client connection. Each connection (HTTP keep-alive) walks its log forward one entry
at a time — old size n, its consistency proof, the signed checkpoint of n + 1 — as a busy
log would, and every answer must be 200 with a cosignature. The baseline is the same
server answering `GET /` (who the witness is: no database, no signature), alternating with
the real requests in rounds so that other work on the machine falls on both alike. The
client runs in this process, on the same two cores.

    python -m bench.witness_bench [--write-docs]
"""

from __future__ import annotations

import argparse
import base64
import http.client
import os
import socket
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from bench.common import PYTHON, ROOT, machine, update_docs

CONNECTIONS = 8
STEPS = 250  # checkpoints per connection and round
ROUNDS = 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def requests_for(origin: str, first: int, steps: int) -> list[bytes]:
    """The add-checkpoint bodies of a log growing from ``first`` by one, ``steps`` times."""
    from tuidang.tlog import merkle
    from tuidang.tlog.note import Checkpoint, Signer

    signer = Signer(origin, origin.encode().ljust(32, b"\0")[:32])
    leaves = [merkle.leaf_hash(b"%d" % i) for i in range(first + steps)]
    bodies = []
    for size in range(first + 1, first + steps + 1):
        old = size - 1
        proof = merkle.consistency_proof(leaves[:size], old) if old else []
        note = signer.sign(Checkpoint(origin, size, merkle.root(leaves[:size])).body())
        lines = [f"old {old}", *(base64.b64encode(node).decode() for node in proof)]
        bodies.append(("\n".join(lines) + "\n\n" + note).encode())
    return bodies


def vkey(origin: str) -> str:
    from tuidang.tlog.note import Signer

    return str(Signer(origin, origin.encode().ljust(32, b"\0")[:32]).verifier)


def drive(port: int, bodies: list[bytes] | None, count: int) -> int:
    """Send ``bodies`` (or ``count`` GET /) on one keep-alive connection; the 200s."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    ok = 0
    for body in bodies if bodies is not None else [None] * count:
        if body is None:
            connection.request("GET", "/")
        else:
            connection.request("POST", "/add-checkpoint", body=body)
        response = connection.getresponse()
        answer = response.read()
        if response.status == 200 and (body is None or answer.startswith("\u2014".encode())):
            ok += 1
    connection.close()
    return ok


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tuidang.config.settings")
    origins = [f"bench.example/log{i}" for i in range(CONNECTIONS)]
    with tempfile.TemporaryDirectory() as folder:
        env = dict(os.environ)
        env.update(
            PYTHONPATH=str(ROOT),
            DATABASE_URL=f"sqlite:///{Path(folder) / 'witness.sqlite3'}",
            VAR_DIR=folder,
            TELEPHONY_PROVIDER="simulated",
            LOG_LEVEL="WARNING",
        )
        manage = [PYTHON, "-m", "tuidang.manage"]
        subprocess.run([*manage, "migrate", "witness", "-v", "0"], env=env, check=True)
        port = free_port()
        logs = [arg for origin in origins for arg in ("--log", vkey(origin))]
        key = ["--key", f"{folder}/w.key", "--name", "bench.example/w"]
        witness = subprocess.Popen(
            [*manage, "witness", *key, "--port", str(port), *logs],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    drive(port, None, 1)
                    break
                except OSError:
                    if time.monotonic() > deadline or witness.poll() is not None:
                        raise SystemExit("the witness did not start") from None
                    time.sleep(0.2)
            results: dict[str, list[tuple[int, float]]] = {"witness": [], "baseline": []}
            with ThreadPoolExecutor(CONNECTIONS) as pool:
                for round_ in range(ROUNDS):
                    first = round_ * STEPS
                    work = [requests_for(origin, first, STEPS) for origin in origins]
                    started = time.perf_counter()
                    done = sum(pool.map(lambda bodies: drive(port, bodies, 0), work))
                    results["witness"].append((done, time.perf_counter() - started))
                    started = time.perf_counter()
                    done = sum(pool.map(lambda _i: drive(port, None, STEPS), range(CONNECTIONS)))
                    results["baseline"].append((done, time.perf_counter() - started))
        finally:
            witness.terminate()
            witness.wait(timeout=30)
    expected = CONNECTIONS * STEPS * ROUNDS
    rate = {
        name: sum(n for n, _ in rounds) / sum(t for _, t in rounds)
        for name, rounds in results.items()
    }
    cosigned = sum(n for n, _ in results["witness"])
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    report = "\n".join(
        [
            f"Run on {now}: {machine()}. SQLite, `tuidang witness` (the standard library's"
            f" threaded server), {CONNECTIONS} keep-alive connections, {ROUNDS} rounds of"
            f" {STEPS} checkpoints each.",
            "",
            "| | requests/s | ratio |",
            "| --- | --- | --- |",
            f"| `GET /` (baseline: no database, no signature) | {rate['baseline']:.0f} | 1 |",
            f"| `POST /add-checkpoint` (verify, prove, store, cosign) | {rate['witness']:.0f}"
            f" | {rate['witness'] / rate['baseline']:.2f} |",
            f"| cosigned | {cosigned} of {expected} | |",
        ]
    )
    print(report)
    if args.write_docs:
        update_docs("witness-bench", report)
    if cosigned != expected:
        raise SystemExit("Some checkpoints were not cosigned")


if __name__ == "__main__":
    main()
