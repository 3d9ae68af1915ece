"""`tuidang demo-witnesses`: two local witnesses for the demo, each with its own key and
database under ``var/witnesses/``, cosigning the demo log's checkpoints.

``--config`` prints the ``TLOG_WITNESSES`` value that points the hotline at them (creating
their keys the first time); without it the command migrates their databases, starts them
(``tuidang witness``, one process each, on 127.0.0.1), has them cosign the latest
checkpoint, prints how to run the monitor, and runs until it is stopped. `make demo`
runs both.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from tuidang.tlog.services import verifier_key
from tuidang.witness.keys import load_or_create_key

WITNESSES = [("demo-witness-1.example/w", 7381), ("demo-witness-2.example/w", 7382)]


def _folder() -> Path:
    return Path(settings.VAR_DIR) / "witnesses"


def _witness_files(number: int) -> tuple[Path, Path]:
    return _folder() / f"w{number}.key", _folder() / f"w{number}.sqlite3"


def demo_witnesses_config() -> str:
    entries = []
    for number, (name, port) in enumerate(WITNESSES, start=1):
        key_file, _database = _witness_files(number)
        entries.append(f"{load_or_create_key(key_file, name).key} http://127.0.0.1:{port}")
    return ";".join(entries)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Command(BaseCommand):
    help = "Run two local witnesses for the demo (their keys and databases under var/)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--config", action="store_true", help="print TLOG_WITNESSES")

    def handle(self, *args: Any, **options: Any) -> None:
        config = demo_witnesses_config()
        if options["config"]:
            self.stdout.write(config)
            return
        children: list[subprocess.Popen[bytes]] = []
        manage = [sys.executable, "-m", "tuidang.manage"]
        try:
            for number, (_name, port) in enumerate(WITNESSES, start=1):
                key_file, database = _witness_files(number)
                serve = ["witness", "--key", str(key_file), "--port", str(port)]
                env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}"}
                subprocess.run(  # noqa: S603  (this interpreter, our own command)
                    [*manage, "migrate", "witness", "--noinput", "--verbosity", "0"],
                    env=env,
                    check=True,
                )
                children.append(
                    subprocess.Popen(  # noqa: S603
                        [*manage, *serve, "--log", verifier_key()],
                        env=env,
                        stdout=subprocess.DEVNULL,
                    )
                )
            deadline = time.monotonic() + 30
            while not all(_listening(port) for _name, port in WITNESSES):
                if time.monotonic() > deadline or any(c.poll() is not None for c in children):
                    self.stderr.write("The demo witnesses did not start.")
                    return
                time.sleep(0.2)
            self._cosign_now()
            self._print_how_to_monitor(config)
            signal.signal(signal.SIGTERM, lambda *_args: sys.exit(0))
            while all(child.poll() is None for child in children):
                time.sleep(1)
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                child.terminate()
            for child in children:
                child.wait(timeout=10)

    def _cosign_now(self) -> None:
        """The demo's latest checkpoint, signed before the witnesses ran, cosigned now
        (with TLOG_WITNESSES set, as `make demo` sets it)."""
        from tuidang.tlog.witnessing import cosignatures_gather

        for name, outcome in cosignatures_gather().items():
            self.stdout.write(f"{name}: {outcome}")

    def _print_how_to_monitor(self, config: str) -> None:
        keys = " ".join(f"--witness '{entry.split()[0]}'" for entry in config.split(";"))
        port = os.environ.get("PORT", "8000")
        self.stdout.write(
            "Two demo witnesses are running. Follow the log as an outsider would:\n"
            f"  .venv/bin/tuidang monitor http://127.0.0.1:{port} --key '{verifier_key()}' "
            f"{keys} --state var/monitor.json\n"
        )
        self.stdout.flush()
