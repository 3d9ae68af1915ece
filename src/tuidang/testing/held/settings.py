"""The production settings, with ``/hold/`` in front of the hotline's URLs."""

from tuidang.config.settings import *  # noqa: F403

ROOT_URLCONF = "tuidang.testing.held.urls"
