"""An import killed with SIGKILL over and over loses no acknowledged entry, leaves no
duplicate, and the rebuilt root matches the last checkpoint."""

import csv
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tuidang.tlog import merkle

ROWS = 60_000
# Small batches: many commits, so a kill lands between and inside them.
BATCH = 500


def run(args: list[str], env: dict[str, str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tuidang.manage", *args], env=env, capture_output=True, text=True,
        timeout=120, **kwargs,
    )  # fmt: skip


def wait_for_progress(process: subprocess.Popen[str], rows: int) -> bool:
    """Read the import's progress ("\\r<done>/<total> rows") until ``rows`` are done."""
    report = ""
    assert process.stderr is not None
    while True:
        char = process.stderr.read(1)
        if not char:
            return False
        if char not in "\r\n":  # text mode may turn the carriage return into a newline
            report += char
            continue
        done = report.partition("/")[0]
        report = ""
        if done.isdigit() and int(done) >= rows:
            return True


def committed(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        row = connection.execute("SELECT count(*) FROM declarations_declaration").fetchone()
        count: int = row[0]
        return count


def test_an_import_killed_again_and_again_finishes_whole(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'crash.sqlite3'}",
        "VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "tuidang.config.settings",
        "TASKS_BACKEND": "immediate",
        "LOG_LEVEL": "WARNING",
    }
    assert run(["migrate", "-v", "0"], env).returncode == 0
    source = tmp_path / "history.csv"
    with source.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["key", "date", "organizations", "region", "channel"])
        for index in range(ROWS):
            writer.writerow([f"k{index}", "2020-01-01", "party", "Jilin", "fax"])

    rng = random.Random(2026)
    # Kill points spread over the whole file, each a little after the import reported a
    # batch committed: the kill lands between two batches or inside the next one.
    kill_points = sorted(rng.sample(range(BATCH, ROWS - 2 * BATCH, BATCH), 6))
    killed_midway = 0
    for point in kill_points:
        process = subprocess.Popen(
            [sys.executable, "-m", "tuidang.manage", "import-declarations", str(source),
             "--batch-size", str(BATCH)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        reached = wait_for_progress(process, point)
        time.sleep(rng.uniform(0, 0.03))
        process.send_signal(signal.SIGKILL)
        process.wait()
        assert reached, "the import ended before it was killed"
        at_kill = committed(tmp_path / "crash.sqlite3")
        if 0 < at_kill < ROWS:
            killed_midway += 1
        # Its second process dies with it: nothing is written after the kill.
        time.sleep(0.5)
        assert committed(tmp_path / "crash.sqlite3") == at_kill
    assert killed_midway == len(kill_points), "every kill must land half-way"
    final = run(["import-declarations", str(source)], env)
    assert final.returncode == 0, final.stderr

    check = run(
        ["shell", "-v", "0", "-c",
         "from tuidang.declarations.models import Declaration as D;"
         "from tuidang.tlog.models import LogEntry as L, TreeHead as T;"
         "from tuidang.tlog.services import log_checkpoint_sign as s;"
         "c = s();"
         "print(D.objects.count(), D.objects.values('import_key').distinct().count(),"
         " L.objects.count(), D.objects.filter(log_index__isnull=True).count(),"
         " T.objects.get().size, c.size, bytes(c.root).hex())"],
        env,
    )  # fmt: skip
    assert check.returncode == 0, check.stderr
    declarations, keys, entries, unlogged, size, checkpoint_size, root = check.stdout.split()
    assert int(declarations) == int(keys) == int(entries) == int(size) == ROWS
    assert int(unlogged) == 0
    assert int(checkpoint_size) == ROWS
    # Rebuild the root from the entry bundles, as an outsider would, against the checkpoint.
    verify = run(["verify-log"], env)
    assert verify.returncode == 0, verify.stderr
    assert f"The log verifies at size {ROWS}." in verify.stdout
    assert len(bytes.fromhex(root)) == merkle.HASH_SIZE
