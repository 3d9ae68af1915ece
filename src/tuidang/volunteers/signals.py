"""What the volunteers app tells others, without knowing who listens."""

from __future__ import annotations

from django.dispatch import Signal

# Sent with ``volunteer=`` once a volunteer has gone available, outside any transaction:
# calls routes waiting calls in the volunteer's languages to them (see calls/signals.py).
volunteer_available = Signal()
