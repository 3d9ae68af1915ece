"""`tuidang witness`: a witness anyone can run (C2SP tlog-witness ``add-checkpoint``).

    tuidang witness --name witness.example/w1 --key var/witness.key \\
        --log '<the log's verifier key>' --port 7380

It cosigns the checkpoints of the logs it is given (each by its verifier key, whose name
is the log's origin) once each is proven consistent with the last one it cosigned, keeps
its state in this installation's database (``DATABASE_URL``, SQLite by default), and
creates its key file, readable by its owner alone, the first time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from tuidang.tlog.note import NoteError, Verifier
from tuidang.witness.keys import load_or_create_key
from tuidang.witness.server import WitnessServer
from tuidang.witness.services import Witness


class Command(BaseCommand):
    help = "Serve a witness that cosigns the checkpoints of the logs it trusts."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--key", type=Path, required=True, help="the witness's key file")
        parser.add_argument("--name", help="the witness's name, to create its key file")
        parser.add_argument(
            "--log",
            action="append",
            default=[],
            metavar="VKEY",
            help="a log to witness, by its verifier key (origin = key name); repeatable",
        )
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=7380)
        parser.add_argument(
            "--print-key", action="store_true", help="print the witness's verifier key and exit"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            cosigner = load_or_create_key(options["key"], options["name"])
            logs = [Verifier.parse(vkey) for vkey in options["log"]]
        except NoteError as exc:
            raise CommandError(str(exc)) from exc
        if options["print_key"]:
            self.stdout.write(str(cosigner.key))
            return
        if not logs:
            raise CommandError("give the witness at least one log to follow (--log VKEY)")
        witness = Witness(cosigner, {log.name: log for log in logs})
        try:
            server = WitnessServer(witness, (options["host"], options["port"]))
        except OSError as exc:
            where = f"{options['host']}:{options['port']}"
            raise CommandError(f"cannot listen on {where}: {exc}") from exc
        port = server.server_address[1]
        self.stdout.write(f"Witness {cosigner.key}")
        self.stdout.write(f"Listening on http://{options['host']}:{port}/add-checkpoint")
        for log in logs:
            self.stdout.write(f"  follows {log.name}")
        self.stdout.flush()
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
