"""Serve the hotline: granian for the web, and a task worker beside it.

Granian parses HTTP in Rust, outside Python's interpreter lock, and hands each request to
the Django application on one of a few threads per process. A process per core, on
SQLite too: writers of every process queue on one lock file (lib/sqlite), and nothing
lives inside one process (docs/architecture.md).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser


class Stop(Exception):
    pass


def _stop(signum: int, frame: FrameType | None) -> None:
    raise Stop


# Paths only: no query strings, no bodies, no caller's number, and no client address (a
# log of where volunteers and readers of the public site connect from is worth seizing).
ACCESS_LOG_FORMAT = '"%(method)s %(path)s" %(status)d %(dt_ms).1fms'


def default_workers_and_threads() -> tuple[int, int]:
    """A process per core, whatever the database, each with two threads.

    More threads in one process only queue behind its interpreter lock, and a thread that
    holds SQLite's write lock then waits for the interpreter while every writer waits for
    it (docs/benchmarks.md: the webhook's p99 grew with threads). Requests beyond them
    wait in granian, outside Python. On SQLite, writers of all processes queue on one lock
    file rather than in SQLite's sleeping busy handler (lib/sqlite).
    """
    return max(2, os.cpu_count() or 2), 2


def server_command(*, bind_host: str, port: int, workers: int, threads: int) -> list[str]:
    """The web server's command line; ``make bench`` measures exactly this."""
    return [
        sys.executable, "-m", "granian", "tuidang.config.wsgi:application",
        "--interface", "wsgi",
        "--host", bind_host,
        "--port", str(port),
        "--workers", str(workers),
        "--blocking-threads", str(threads),
        "--no-ws",
        "--respawn-failed-workers",
        "--access-log",
        "--access-log-fmt", ACCESS_LOG_FORMAT,
    ]  # fmt: skip


class Command(BaseCommand):
    help = "Serve the hotline with granian and run a background task worker beside it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--threads", type=int, help="threads per process (default: 2)")
        parser.add_argument("--workers", type=int, help="processes (default: one per core)")
        parser.add_argument(
            "--no-worker", action="store_true", help="Do not start a task worker (run one apart)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.TELEPHONY_PROVIDER:
            # Never the simulated network by default: it plays the provider for anyone at /sim/.
            raise CommandError(
                "Choose a telephony provider: TELEPHONY_PROVIDER=twilio or telnyx, or "
                "simulated for the demo's own phone network (make demo chooses it)."
            )
        bind = f"{options['host']}:{options['port']}"
        workers, threads = default_workers_and_threads()
        workers = options["workers"] or workers
        threads = options["threads"] or threads
        children: list[subprocess.Popen[bytes]] = []
        uses_queue = settings.TASKS["default"]["BACKEND"].endswith("DatabaseBackend")
        # Stopping `serve` (Ctrl-C, or SIGTERM from a supervisor) stops what it started.
        signal.signal(signal.SIGTERM, _stop)
        try:
            if uses_queue and not options["no_worker"]:
                children.append(
                    subprocess.Popen([sys.executable, "-m", "tuidang.manage", "worker"])
                )
            self.stdout.write(f"Serving at http://{bind}/ (Ctrl-C stops)")
            command = server_command(
                bind_host=options["host"], port=options["port"], workers=workers, threads=threads
            )
            server = subprocess.Popen(command)  # noqa: S603
            children.append(server)
            server.wait()
        except (KeyboardInterrupt, Stop):
            pass
        finally:
            for child in children:
                if child.poll() is None:
                    child.terminate()
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
