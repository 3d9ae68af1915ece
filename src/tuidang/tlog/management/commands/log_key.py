"""`tuidang log-key`: print the key that verifies this hotline's checkpoints."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print the verifier key of this hotline's transparency log."

    def handle(self, *args: Any, **options: Any) -> None:
        from tuidang.tlog.services import verifier_key

        self.stdout.write(verifier_key())
