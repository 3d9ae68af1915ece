"""State of the simulated phone network (kept in the ``phone_network`` database).

This plays the provider, so unlike the hotline's own tables it knows callers' numbers.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class SimCall(models.Model):
    class Status(models.TextChoices):
        RINGING = "ringing"
        IN_PROGRESS = "in-progress"
        COMPLETED = "completed"
        BUSY = "busy"
        NO_ANSWER = "no-answer"
        CANCELED = "canceled"
        FAILED = "failed"

    ENDED = (Status.COMPLETED, Status.BUSY, Status.NO_ANSWER, Status.CANCELED, Status.FAILED)

    sid = models.CharField(max_length=34, unique=True)
    direction = models.CharField(max_length=16)  # "inbound" or "outbound-api"
    from_number = models.CharField(max_length=200)
    to_number = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices)
    created_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # Where to fetch TwiML when answered, and where to report the end of the call.
    url = models.URLField(max_length=500)
    status_callback = models.URLField(max_length=500, blank=True)
    # The TwiML document being executed and the index of its next verb.
    document = models.TextField(blank=True)
    position = models.PositiveIntegerField(default=0)
    # What the call waits for (a keypress, the queue, a bridge, ...), and until when.
    waiting = models.JSONField(null=True, blank=True)
    deadline = models.DateTimeField(null=True, blank=True, db_index=True)  # for tick()
    digits = models.CharField(max_length=32, blank=True)
    queue_name = models.CharField(max_length=64, blank=True)
    # <Dial><Queue> takes the caller who has waited longest.
    enqueued_at = models.DateTimeField(null=True, blank=True, db_index=True)
    transcript = models.JSONField(default=list)
    sequence = models.IntegerField(default=0)

    def __str__(self) -> str:
        return self.sid

    @property
    def ended(self) -> bool:
        return self.status in self.ENDED

    @property
    def client_name(self) -> str:
        return (
            self.to_number.removeprefix("client:") if self.to_number.startswith("client:") else ""
        )


class SimRecording(models.Model):
    """A recording the simulated provider holds until the hotline deletes it."""

    sid = models.CharField(max_length=34, unique=True)
    call_sid = models.CharField(max_length=34)
    duration_seconds = models.PositiveIntegerField(default=0)
    deleted = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.sid

    def audio(self) -> bytes:
        """A WAV file of the recording's length (silence: the network hears no voices)."""
        import io
        import wave

        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(1)
            wav.setframerate(8000)
            wav.writeframes(b"\x80" * 8000 * min(self.duration_seconds, 5))
        return buffer.getvalue()
