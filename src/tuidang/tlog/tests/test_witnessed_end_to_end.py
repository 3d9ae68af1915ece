"""End to end on 127.0.0.1: the hotline's log and two witnesses run as anyone would run
them (`tuidang witness`, each with its own key file and SQLite database, in processes of
their own). A declaration recorded on the desk is cosigned by both; with one witness
stopped the log keeps signing and the site says it is not witnessed; restarted, the
witness catches up from the size its 409 names; a forged checkpoint from a copy of the log
with one entry changed is refused by both, kept as evidence, and raises the monitor's
alarm."""

import base64
import os
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client
from pytest_django.fixtures import Settings

from tuidang.telephony.simulator.engine import PhoneNetwork
from tuidang.testing.desk import connect
from tuidang.testing.personas import PASSWORD, HotlineNumbers
from tuidang.testing.ports import free_port
from tuidang.testing.publication import publish
from tuidang.tlog import merkle
from tuidang.tlog.cosignature import valid_cosignatures
from tuidang.tlog.models import LogEntry, SignedCheckpoint, WitnessState
from tuidang.tlog.monitor import monitor_run
from tuidang.tlog.note import Checkpoint
from tuidang.tlog.services import log_append, signer, tile_hashes, tree_hashes
from tuidang.tlog.witnessing import configured_witnesses
from tuidang.volunteers.models import Volunteer
from tuidang.witness.keys import load_or_create_key

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "phone_network"])


class WitnessProcess:
    def __init__(self, folder: Path, name: str) -> None:
        self.folder, self.name = folder, name
        self.key = load_or_create_key(folder / "witness.key", name).key
        self.database = folder / "witness.sqlite3"
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tuidang.config.settings",
            "DATABASE_URL": f"sqlite:///{self.database}",
            "VAR_DIR": str(folder),
            "TELEPHONY_PROVIDER": "simulated",
        }
        self.env.pop("TASKS_BACKEND", None)
        manage = [sys.executable, "-m", "tuidang.manage"]
        subprocess.run(
            [*manage, "migrate", "witness", "--noinput", "--verbosity", "0"],
            env=self.env,
            check=True,
            timeout=120,
        )
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self) -> None:
        port = free_port()
        key = str(self.folder / "witness.key")
        command = ["witness", "--key", key, "--port", str(port), "--log", str(signer().verifier)]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tuidang.manage", *command],
            env=self.env,
            stdout=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/", timeout=1).close()  # noqa: S310
                return
            except OSError:
                assert self.process.poll() is None, "the witness did not start"
                assert time.monotonic() < deadline, "the witness did not answer"
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=20)
            self.process = None

    def evidence(self) -> list[int]:
        with sqlite3.connect(self.database) as db:
            rows = db.execute("SELECT status FROM witness_evidence ORDER BY status").fetchall()
        return [status for (status,) in rows]

    def size(self) -> int:
        """The size of the latest checkpoint it cosigned, from its own database."""
        with sqlite3.connect(self.database) as db:
            (size,) = db.execute("SELECT size FROM witness_witnessedlog").fetchone()
        return int(size)

    def post(self, body: bytes) -> int:
        request = urllib.request.Request(f"{self.url}/add-checkpoint", data=body, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return int(response.status)
        except urllib.error.HTTPError as error:
            return int(error.code)


@pytest.fixture
def witnesses(tmp_path: Path) -> Iterator[list[WitnessProcess]]:
    started = []
    try:
        for number in (1, 2):
            folder = tmp_path / f"w{number}"
            folder.mkdir()
            started.append(WitnessProcess(folder, f"witness-{number}.example/w"))
            started[-1].start()
        yield started
    finally:
        for witness in started:
            witness.stop()


def configure(settings: Settings, witnesses: list[WitnessProcess]) -> None:
    settings.TLOG_WITNESSES = ";".join(f"{w.key} {w.url}" for w in witnesses)


def append(count: int) -> None:
    with transaction.atomic():
        log_append(entries=[b'{"kind":"declaration"}'] * count)


def home() -> str:
    return Client().get("/").content.decode()


def test_a_witnessed_log_end_to_end(
    client: Client,
    network: PhoneNetwork,
    numbers: HotlineNumbers,
    mei: Volunteer,
    settings: Settings,
    witnesses: list[WitnessProcess],
    tmp_path: Path,
) -> None:
    configure(settings, witnesses)
    keys = [w.key for w in witnesses]
    call = connect(network, mei)
    client.login(username="mei", password=PASSWORD)
    form = {"caller-renounces": "on", "caller-alias": "Wang", "caller-organizations": ["party"]}
    form |= {"family-TOTAL_FORMS": "0", "family-INITIAL_FORMS": "0"}
    assert client.post(f"/desk/calls/{call.pk}/declarations", form).status_code < 400
    publish()  # the worker's next batch, with its checkpoint
    note = Client().get("/log/checkpoint").content.decode()
    assert len(valid_cosignatures(note, keys)) == 2
    assert "cosigned by 2 of 2" in home()
    monitor_state = tmp_path / "monitor.json"
    seen = monitor_run(
        fetch_checkpoint=lambda: Client().get("/log/checkpoint").content.decode(),
        read_tile=tile_hashes,
        verifier=signer().verifier,
        state=monitor_state,
        witnesses=keys,
    )
    assert seen.alarms == [] and len(seen.cosigned_by) == 2

    # One witness stopped: the log keeps signing, and says it is not witnessed.
    witnesses[1].stop()
    append(3)
    latest = SignedCheckpoint.objects.order_by("-size").first()
    assert latest is not None and latest.size == 4
    assert "not yet witnessed by 2 of 2" in home()

    # Restarted (on another port), it is sent checkpoint 4 by someone else (anyone may
    # submit a log's checkpoint; or the log's own request whose answer was lost): it has
    # cosigned size 4 while the log still thinks it is at 1.
    witnesses[1].start()
    configure(settings, witnesses)
    assert [w.url for w in configured_witnesses()] == [w.url for w in witnesses]
    proof = tree_hashes(4).consistency_proof(1)
    lines = ["old 1", *(base64.b64encode(node).decode() for node in proof)]
    assert witnesses[1].post(("\n".join(lines) + "\n\n" + latest.note).encode()) == 200
    assert witnesses[1].size() == 4
    assert WitnessState.objects.get(witness=witnesses[1].name).size == 1
    # The log's next request (old 1) is answered 409 with size 4; sent again from 4, the
    # witness cosigns: it caught up from the size its 409 named.
    append(2)
    note = Client().get("/log/checkpoint").content.decode()
    assert len(valid_cosignatures(note, keys)) == 2
    assert "cosigned by 2 of 2" in home()
    assert WitnessState.objects.get(witness=witnesses[1].name).size == 6
    assert witnesses[1].size() == 6
    assert witnesses[1].evidence() == []  # a stale old size is no misbehaviour

    # A copy of the log with its first entry changed, signed with the log's key.
    entries = [
        bytes(row) for row in LogEntry.objects.order_by("index").values_list("data", flat=True)
    ]
    forged = [merkle.leaf_hash(b'{"kind":"revocation"}')] + [
        merkle.leaf_hash(e) for e in entries[1:]
    ]
    size = len(forged)
    body = Checkpoint(settings.TLOG_ORIGIN, size, merkle.root(forged)).body()
    forged_note = signer().sign(body)
    same_size = f"old {size}\n\n{forged_note}".encode()
    grown = [*forged, merkle.leaf_hash(b"more")]
    grown_note = signer().sign(
        Checkpoint(settings.TLOG_ORIGIN, size + 1, merkle.root(grown)).body()
    )
    proof = merkle.consistency_proof(grown, size)
    larger = (
        f"old {size}\n"
        + "".join(base64.b64encode(n).decode() + "\n" for n in proof)
        + "\n"
        + grown_note
    ).encode()
    for witness in witnesses:
        assert witness.post(same_size) == 409
        assert witness.post(larger) == 422
        assert witness.evidence() == [409, 422]

    def forged_tile(level: int, index: int, width: int) -> bytes | None:
        span = 256**level
        return b"".join(
            merkle.root(forged[(index * 256 + i) * span : (index * 256 + i + 1) * span])
            for i in range(width)
        )

    alarm = monitor_run(
        fetch_checkpoint=lambda: forged_note,
        read_tile=forged_tile,
        verifier=signer().verifier,
        state=monitor_state,
    )
    assert any("split view" in line for line in alarm.alarms)
