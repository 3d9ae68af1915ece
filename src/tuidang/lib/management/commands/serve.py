"""Serve the hotline: gunicorn for the web, and a task worker beside it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Stop(Exception):
    pass


def _stop(signum: int, frame: FrameType | None) -> None:
    raise Stop


def default_workers_and_threads(database_url: str) -> tuple[int, int]:
    """SQLite has one writer at a time: one process, whose threads queue for it without
    SQLite's sleeping busy handler (lib/sqlite). PostgreSQL: a process per core."""
    if database_url.startswith("sqlite"):
        return 1, 16
    return max(2, os.cpu_count() or 2), 8


class Command(BaseCommand):
    help = "Serve the hotline with gunicorn and run a background task worker beside it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--threads", type=int, help="default: 16 on SQLite, 8 otherwise")
        parser.add_argument("--workers", type=int, help="default: 1 on SQLite, one per core")
        parser.add_argument(
            "--no-worker", action="store_true", help="Do not start a task worker (run one apart)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        bind = f"{options['host']}:{options['port']}"
        workers, threads = default_workers_and_threads(settings.DATABASE_URL)
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
            server = subprocess.Popen(  # noqa: S603
                [
                    sys.executable, "-m", "gunicorn", "tuidang.config.wsgi:application",
                    "--bind", bind,
                    "--workers", str(workers),
                    "--threads", str(threads),
                    "--worker-class", "gthread",
                    "--access-logfile", "-",
                    # Paths only: no query strings, no bodies, no caller's number.
                    "--access-logformat", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(M)sms',
                ]
            )  # fmt: skip
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
