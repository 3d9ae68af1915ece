"""What the hotline writes under VAR_DIR is its owner's alone: 0600 files, 0700 folders.

The database and its WAL hold live session keys, var/secrets/ the keys to everything;
another local user able to read them could take over a coordinator's session.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path


def modes_open_to_others(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): stat.filemode(path.stat().st_mode)
        for path in [root, *root.rglob("*")]
        if path.stat().st_mode & 0o077
    }


def test_the_tuidang_command_creates_the_database_and_secrets_for_its_owner_alone(
    tmp_path: Path,
) -> None:
    var_dir = tmp_path / "var"
    environment = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "VAR_DIR": str(var_dir),
        "TUIDANG_HOME": str(tmp_path),
    }
    tuidang = Path(sys.executable).parent / "tuidang"
    previous = os.umask(0o022)  # what a login shell usually has
    try:
        subprocess.run(
            [str(tuidang), "migrate", "-v", "0"],
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        # While a connection holds the WAL and its index open: list what is open to others.
        code = (
            "import json, os, pathlib, stat;"
            "from django.contrib.sessions.models import Session;"
            "Session.objects.all().delete();"
            "root = pathlib.Path(os.environ['VAR_DIR']);"
            "print(json.dumps({'files': sorted(p.name for p in root.iterdir()), 'open': {"
            "str(p): stat.filemode(p.stat().st_mode) for p in [root, *root.rglob('*')]"
            " if p.stat().st_mode & 0o077}}))"
        )
        listed = subprocess.run(
            [str(tuidang), "shell", "-v", "0", "-c", code],
            env=environment,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    finally:
        os.umask(previous)
    seen = json.loads(listed.stdout)
    assert {"tuidang.sqlite3", "tuidang.sqlite3-wal", "tuidang.sqlite3-shm"} <= set(seen["files"])
    assert seen["open"] == {}
    assert (var_dir / "tuidang.sqlite3").exists()
    assert (var_dir / "secrets" / "secret_key").exists()
    assert modes_open_to_others(var_dir) == {}
