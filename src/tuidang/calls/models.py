from __future__ import annotations

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tuidang.calls.prompts import PLACEHOLDERS, PromptKind, PromptTextError, check_text
from tuidang.lib.languages import Language
from tuidang.lib.phone import validate_e164
from tuidang.screening.models import Policy
from tuidang.vault.fields import Sealed
from tuidang.volunteers.models import Volunteer


class HowHeard(models.TextChoices):
    """How a caller heard of the number (banknotes, radio, ...), for attribution. Not to be
    confused with the medium of a declaration (``declarations.models.DeclarationChannel``)."""

    BANKNOTES = "banknotes", _("Banknotes")
    FLYERS = "flyers", _("Flyers")
    RADIO = "radio", _("Radio")
    WEBSITE = "website", _("Website")
    REFERRAL = "referral", _("Referral")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class HotlineNumber(models.Model):
    e164 = models.CharField(
        _("number (E.164)"), max_length=20, unique=True, validators=[validate_e164]
    )
    name = models.CharField(_("name"), max_length=80)
    how_heard = models.CharField(
        _("how callers hear of it"), max_length=16, choices=HowHeard.choices
    )
    # Blank: callers choose a language from a menu.
    language = models.CharField(
        _("fixed language"), max_length=8, choices=Language.choices, blank=True
    )
    active = models.BooleanField(_("active"), default=True)
    ask_how_heard = models.BooleanField(
        _("ask callers how they heard of the number"),
        default=False,
        help_text=_("For numbers whose how-heard is Unknown."),
    )
    public = models.BooleanField(
        _("shown on the public site"),
        default=False,
        help_text=_("A number printed only on banknotes or flyers may stay off the site."),
    )
    hours = models.CharField(
        _("hours"),
        max_length=80,
        blank=True,
        help_text=_("When it is answered, as the public site shows it; blank: around the clock."),
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.e164})"


class Strategy(models.TextChoices):
    LONGEST_IDLE = "longest_idle", _("Longest idle first")
    RING_GROUP = "ring_group", _("Ring a group at once")


class QueueConfig(models.Model):
    """How calls in one language are routed. A language without a row uses the defaults."""

    language = models.CharField(_("language"), max_length=8, choices=Language.choices, unique=True)
    fallback_language = models.CharField(
        _("second language"),
        max_length=8,
        choices=Language.choices,
        blank=True,
        help_text=_("Volunteers who speak it are offered the call when no one else can take it."),
    )
    strategy = models.CharField(
        _("strategy"), max_length=16, choices=Strategy.choices, default=Strategy.LONGEST_IDLE
    )
    ring_group_size = models.PositiveSmallIntegerField(_("volunteers rung at once"), default=3)
    overflow_after_seconds = models.PositiveIntegerField(
        _("seconds before the second language is tried"), default=60
    )
    voicemail_after_seconds = models.PositiveIntegerField(
        _("seconds on hold before voicemail is offered"), default=180
    )

    class Meta:
        verbose_name = _("queue")

    def __str__(self) -> str:
        return self.get_language_display()

    @classmethod
    def for_language(cls, language: str) -> QueueConfig:
        return cls.objects.filter(language=language).first() or cls(language=language)


class Call(models.Model):
    class State(models.TextChoices):
        IVR = "ivr", _("In the menu")
        QUEUED = "queued", _("Waiting in the queue")
        # Still waiting, while an offer rings a volunteer; routing skips it.
        OFFERED = "offered", _("Ringing a volunteer")
        CONNECTED = "connected", _("Talking with a volunteer")
        COMPLETED = "completed", _("Completed")
        ABANDONED = "abandoned", _("Hung up while waiting")
        VOICEMAIL = "voicemail", _("Sent to voicemail")
        SCREENED = "screened", _("Diverted by screening")
        DISCONNECTED = "disconnected", _("Hung up in the menu")

    # Providers retry webhooks: the provider's id makes receiving a call idempotent.
    provider_sid = models.CharField(max_length=64, unique=True)
    # Not indexed: no query looks for a number's calls, and every arriving call would add
    # an entry (all under one or two numbers) to an index of every call of the year.
    hotline_number = models.ForeignKey(
        HotlineNumber, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # Denormalised from the number: its how-heard may change later, the attribution must not.
    how_heard = models.CharField(_("how heard"), max_length=16, choices=HowHeard.choices)
    # Indexed with started_at in Meta: a key's recent calls and its repeat calls.
    caller_key = models.CharField(max_length=64)
    region = models.CharField(_("region"), max_length=80, blank=True)
    last_digits = models.CharField(_("last digits"), max_length=4, blank=True)
    withheld = models.BooleanField(_("number withheld"), default=False)
    case_code = models.CharField(_("case code"), max_length=9, unique=True)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, blank=True)
    menu_attempts = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.IVR)
    # Indexed with connected_at in Meta, which serves the foreign key's lookups too.
    volunteer = models.ForeignKey(
        Volunteer,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="calls",
        db_index=False,
    )
    # Sliding-window counts and flood detection look at recent calls.
    started_at = models.DateTimeField(_("started"), default=timezone.now, db_index=True)
    # When a webhook of the caller's leg last showed it alive (the wait URL, fetched again
    # and again on hold), or the reconciler last found it live: it asks only about calls
    # quiet for RECONCILE_QUIET_SECONDS. Written at most every HEARD_EVERY_SECONDS.
    heard_at = models.DateTimeField(null=True, blank=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    connected_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    provider_status = models.CharField(max_length=16, blank=True)
    # What screening decided when the call arrived, and the caller key's score then.
    screening_policy = models.CharField(max_length=16, choices=Policy, default=Policy.NORMAL)
    screening_score = models.FloatField(default=0)
    # The digit a withheld caller must press while flood mode is on.
    challenge_digit = models.CharField(max_length=1, blank=True)
    # No earlier call of this caller key was kept: flood mode counts bursts of new keys.
    # A database default too: while servers are upgraded one by one, the old ones'
    # INSERTs, which do not know the column, still store calls.
    first_call = models.BooleanField(default=False, db_default=False)
    # A volunteer flagged this call as harassment (button or call type); counted once.
    harassment_flagged = models.BooleanField(_("flagged as harassment"), default=False)
    # Status callbacks arrive retried and out of order; older sequence numbers are ignored.
    provider_sequence = models.IntegerField(default=-1)
    # The conference the caller was moved into for a transfer or a listen-in (a random name
    # the provider sees); blank while the caller is bridged from the queue. A database
    # default too, for INSERTs that do not name the column (old servers while upgrading).
    conference = models.CharField(max_length=64, blank=True, default="", db_default="")

    class Meta:
        indexes = [
            # Routing takes the longest-waiting queued call of each language.
            models.Index(fields=["state", "language", "queued_at"], name="call_routing_idx"),
            # Every arriving call counts its key's calls of the last hour (screening, without
            # Redis) and asks whether the key ever called: a range of one key's calls, however
            # many a hired caller made in a year. The desk's caller history reads it too.
            models.Index(fields=["caller_key", "started_at"], name="call_caller_recent_idx"),
            # Each hold cycle estimates the wait from the last hour's connected calls of
            # the caller's language. Only calls that reached someone: most never do (in a
            # flood, nearly none), and an arriving call adds nothing to it.
            models.Index(
                fields=["language", "connected_at"],
                condition=Q(connected_at__isnull=False),
                name="call_connected_idx",
            ),
            # Routing, under its locks, rings first the volunteer who last spoke with the
            # caller: the key's latest call that reached someone, not all of its calls.
            models.Index(
                fields=["caller_key", "connected_at"],
                condition=Q(volunteer__isnull=False),
                name="call_last_volunteer_idx",
            ),
            # A conference's status callbacks name the call by its conference.
            models.Index(
                fields=["conference"], condition=~Q(conference=""), name="call_conference_idx"
            ),
            # The desk polls every second for the call in front of the volunteer: their
            # latest connected call, not the thousands they took over the years. Calls
            # that reached no volunteer are not in it.
            models.Index(
                fields=["volunteer", "connected_at"],
                condition=Q(volunteer__isnull=False),
                name="call_volunteer_taken_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.case_code

    @property
    def waiting(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.OFFERED)

    @property
    def wait_seconds(self) -> int | None:
        if self.queued_at is None:
            return None
        until = self.connected_at or self.ended_at or timezone.now()
        return int((until - self.queued_at).total_seconds())


class Offer(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Ringing")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        MISSED = "missed", _("Missed")
        CANCELED = "canceled", _("Canceled")

    # Unguessable: it names the offer in the URLs the provider calls back.
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="offers")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.CASCADE, related_name="offers")
    state = models.CharField(max_length=16, choices=State.choices, default=State.PENDING)
    leg_sid = models.CharField(max_length=64, blank=True, db_index=True)  # the volunteer's leg
    created_at = models.DateTimeField(default=timezone.now)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # The last line of defence against offering one volunteer two calls at once.
            models.UniqueConstraint(
                fields=["volunteer"],
                condition=Q(state="pending"),
                name="one_pending_offer_per_volunteer",
            )
        ]

    def __str__(self) -> str:
        return f"{self.call} → {self.volunteer} ({self.state})"


class Transfer(models.Model):
    """A connected call handed by one volunteer to another, warm (the two talk first while
    the caller holds) or cold. The caller waits in the call's conference while the other
    volunteer's phone rings; the row is the record of the hand-over and how it ended."""

    class State(models.TextChoices):
        RINGING = "ringing", _("Ringing")
        CONSULTING = "consulting", _("Talking before the hand-over")
        COMPLETED = "completed", _("Handed over")
        FAILED = "failed", _("Not taken")
        CANCELED = "canceled", _("Caller hung up")

    # Unguessable: it names the transfer in the URLs the provider calls back.
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="transfers")
    from_volunteer = models.ForeignKey(
        Volunteer, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    # Indexed with state in Meta: the desk of a volunteer consulting finds the call.
    to_volunteer = models.ForeignKey(
        Volunteer, on_delete=models.SET_NULL, null=True, related_name="+", db_index=False
    )
    warm = models.BooleanField(_("warm"), default=True)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RINGING)
    # How a transfer not taken ended: a LegOutcome's value, or "declined".
    outcome = models.CharField(max_length=16, blank=True)
    from_leg_sid = models.CharField(max_length=64, blank=True)  # the first volunteer's leg
    leg_sid = models.CharField(max_length=64, blank=True)  # the receiving volunteer's leg
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # A call is handed to one volunteer at a time.
            models.UniqueConstraint(
                fields=["call"],
                condition=Q(state__in=["ringing", "consulting"]),
                name="one_live_transfer_per_call",
            )
        ]
        indexes = [
            # The desk polls for the call in front of a volunteer talking before a hand-over.
            models.Index(fields=["to_volunteer", "state"], name="transfer_receiver_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.call} → {self.to_volunteer} ({self.state})"

    @property
    def live(self) -> bool:
        return self.state in (self.State.RINGING, self.State.CONSULTING)


class ListenIn(models.Model):
    """A coordinator listening to a connected call, muted: heard by no one, or, while they
    whisper, by the volunteer alone. The call's volunteer sees that they are there."""

    class State(models.TextChoices):
        RINGING = "ringing", _("Ringing")
        LISTENING = "listening", _("Listening")
        WHISPERING = "whispering", _("Whispering to the volunteer")
        ENDED = "ended", _("Ended")

    # Unguessable: it names the listen-in in the URLs the provider calls back.
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="listen_ins")
    coordinator = models.ForeignKey(
        Volunteer, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    state = models.CharField(max_length=16, choices=State.choices, default=State.RINGING)
    leg_sid = models.CharField(max_length=64, blank=True)  # the coordinator's leg
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.coordinator} on {self.call} ({self.state})"

    @property
    def live(self) -> bool:
        return self.state != self.State.ENDED


class CallbackOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    NO_ANSWER = "no_answer", _("No answer")
    FAILED = "failed", _("Could not call")


class Voicemail(models.Model):
    """A message a caller left: a callback request for volunteers.

    The recording is fetched from the provider into encrypted storage every node shares
    (``calls/recordings.py``, sealed to this row) and then deleted at the provider.
    """

    class State(models.TextChoices):
        RECORDED = "recorded", _("Recorded at the provider")
        STORED = "stored", _("Stored")
        FAILED = "failed", _("Could not be fetched")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    call = models.OneToOneField(Call, on_delete=models.CASCADE, related_name="voicemail")
    recording_sid = models.CharField(max_length=64, unique=True)  # idempotent per recording
    # Where the provider holds it until we have fetched it; emptied once deleted there.
    provider_url = models.URLField(max_length=500, blank=True)
    duration_seconds = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=16, choices=State.choices, default=State.RECORDED)
    stored_name = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    handled_at = models.DateTimeField(null=True, blank=True)
    # The caller's number, sealed, kept only so a volunteer can call back through the
    # hotline's own number; deleted once the caller is reached.
    callback_number_sealed = models.BinaryField(blank=True)
    callback_number = Sealed("callback_number_sealed", place="number")
    callback_outcome = models.CharField(
        _("callback outcome"), max_length=16, choices=CallbackOutcome.choices, blank=True
    )
    callback_at = models.DateTimeField(null=True, blank=True)
    # The volunteer's leg of the call back that reached the caller (the call it connected):
    # the reconciler ends that call as the leg's lost status callback would have.
    callback_leg_sid = models.CharField(max_length=64, blank=True, db_default="", db_index=True)
    callback_by = models.ForeignKey(
        Volunteer, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Voicemail on {self.call}"


class NumberPrompt(models.Model):
    """A coordinator's own wording (or recording) of a prompt, for one number or all."""

    number = models.ForeignKey(
        HotlineNumber,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="prompts",
        help_text=_("Leave empty to use it on every number."),
    )
    kind = models.CharField(_("prompt"), max_length=20, choices=PromptKind.choices)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices)
    text = models.TextField(_("text to speak"), blank=True)
    voice = models.CharField(
        _("voice"),
        max_length=60,
        blank=True,
        help_text=_("A text-to-speech voice, e.g. Polly.Zhiyu."),
    )
    recording = models.FileField(
        _("recording"),
        upload_to="prompts/",
        blank=True,
        validators=[FileExtensionValidator(["mp3", "wav"])],
        help_text=_("Played instead of the text when given."),
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["number", "kind", "language"], name="one_prompt_per_number_kind_language"
            ),
            models.UniqueConstraint(
                fields=["kind", "language"],
                condition=models.Q(number__isnull=True),
                name="one_default_prompt_per_kind_language",
            ),
            models.CheckConstraint(
                condition=~models.Q(text="", recording=""), name="prompt_has_text_or_recording"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.get_language_display()})"

    def clean(self) -> None:
        """The text may use its kind's placeholders and no other brace (``say`` would
        otherwise fall back to the built-in text on every call)."""
        super().clean()
        if not self.text or self.kind not in PLACEHOLDERS:
            return
        try:
            check_text(self.kind, self.text)
        except PromptTextError:
            allowed = ", ".join(f"{{{name}}}" for name in sorted(PLACEHOLDERS[self.kind]))
            message = (
                _("This prompt may only use the placeholders %(allowed)s.")
                if allowed
                else _("This prompt may only use plain text, no placeholders.")
            )
            braces = _("Write a brace itself as {{ or }}.")
            error = ValidationError(
                f"{message} {braces}", code="placeholder", params={"allowed": allowed}
            )
            raise ValidationError({"text": error}) from None

    def audio_url(self) -> str:
        if not self.recording:
            return ""
        from tuidang.lib.public_url import public_url

        return public_url("telephony:prompt-audio", prompt_id=self.pk)


class CallType(models.TextChoices):
    """What a call was; several at once where they apply."""

    RENUNCIATION = "renunciation", _("Renunciation")
    BOOK_REQUEST = "book_request", _("Book request")
    ENQUIRY = "enquiry", _("Enquiry")
    CALLBACK = "callback", _("Callback")
    HARASSMENT = "harassment", _("Harassment")
    SILENT = "silent", _("Silent")
    HANG_UP = "hang_up", _("Hang-up")
    PRANK = "prank", _("Prank")
    WRONG_NUMBER = "wrong_number", _("Wrong number")


# Calls of these types carried a conversation; the others did not.
TYPES_WITH_CONTENT = (
    CallType.RENUNCIATION,
    CallType.BOOK_REQUEST,
    CallType.ENQUIRY,
    CallType.CALLBACK,
)


class CallDisposition(models.Model):
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="dispositions")
    call_type = models.CharField(_("call type"), max_length=16, choices=CallType.choices)
    recorded_by = models.ForeignKey(
        Volunteer, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["call", "call_type"], name="one_disposition_per_type")
        ]
        indexes = [
            # Reports count calls by type over time.
            models.Index(fields=["call_type", "recorded_at"], name="disposition_report_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.call}: {self.get_call_type_display()}"


class CallNote(models.Model):
    """A volunteer's note on a call, sealed at rest; read by its author and coordinators."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(Volunteer, on_delete=models.SET_NULL, null=True, related_name="+")
    text_sealed = models.BinaryField()
    text = Sealed("text_sealed", seal_empty=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self) -> str:
        return f"Note on {self.call}"


class TalkingPoint(models.Model):
    """What volunteers can say, per call type and language; coordinators edit them."""

    call_type = models.CharField(_("call type"), max_length=16, choices=CallType.choices)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices)
    title = models.CharField(_("title"), max_length=120)
    text = models.TextField(_("text"))
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["call_type", "position", "pk"]

    def __str__(self) -> str:
        return self.title
