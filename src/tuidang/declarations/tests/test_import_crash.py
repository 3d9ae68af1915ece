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

from tuidang.tlog import merkle

ROWS = 60_000
# Small batches: many commits, so a kill lands between and inside them.
BATCH = 500


def run(args, env, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "tuidang.manage", *args], env=env, capture_output=True, text=True,
        timeout=120, **kwargs,
    )  # fmt: skip


def committed(database):
    with sqlite3.connect(database) as connection:
        return connection.execute("SELECT count(*) FROM declarations_declaration").fetchone()[0]


def test_an_import_killed_again_and_again_finishes_whole(tmp_path):
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
    kills = killed_midway = 0
    for _attempt in range(15):
        process = subprocess.Popen(
            [sys.executable, "-m", "tuidang.manage", "import-declarations", str(source),
             "--batch-size", str(BATCH)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )  # fmt: skip
        time.sleep(rng.uniform(0.5, 3.0))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()
            kills += 1
            done = committed(tmp_path / "crash.sqlite3")
            if 0 < done < ROWS:
                killed_midway += 1
            continue
        assert process.returncode == 0
        break
    else:
        final = run(["import-declarations", str(source)], env)
        assert final.returncode == 0, final.stderr
    assert killed_midway > 0, "the import must have been killed half-way at least once"

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
