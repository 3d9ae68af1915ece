"""django-axes' ``axes_reset``, which would clear every lockout, answered with what to run
instead: the counts live in the cache (accounts/lockout.py), under keys that cannot be
listed, so they are cleared an address or a pair at a time, or end with their cool-off."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Say how to lift a lockout: failed logins are counted per address and pair."

    def handle(self, *args: Any, **options: Any) -> None:
        raise CommandError(
            "Failed logins are counted in the cache, an address or a (username, address) "
            "pair at a time, and cannot be cleared all at once. Lift one lock with "
            "`tuidang axes_reset_ip ADDRESS` or `tuidang axes_reset_ip_username ADDRESS "
            "USERNAME`; every lock ends by itself after LOGIN_COOLOFF_MINUTES."
        )
