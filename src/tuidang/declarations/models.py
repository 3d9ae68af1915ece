from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tuidang.calls.models import Call
from tuidang.vault.fields import Sealed


class Organization(models.TextChoices):
    PARTY = "party", _("Communist Party")
    YOUTH_LEAGUE = "youth_league", _("Communist Youth League")
    YOUNG_PIONEERS = "young_pioneers", _("Young Pioneers")


class Subject(models.TextChoices):
    SELF = "self", _("The caller")
    FAMILY = "family", _("A family member")


class Relationship(models.TextChoices):
    PARENT = "parent", _("Parent")
    SPOUSE = "spouse", _("Spouse or partner")
    CHILD = "child", _("Child")
    SIBLING = "sibling", _("Brother or sister")
    GRANDPARENT = "grandparent", _("Grandparent")
    GRANDCHILD = "grandchild", _("Grandchild")
    RELATIVE = "relative", _("Other relative")
    # Declaring online, for someone who asked them to.
    FRIEND = "friend", _("Friend")


class DeclarationChannel(models.TextChoices):
    HOTLINE = "hotline", _("Hotline")
    RELAYED = "relayed", _("Relayed for a family member")
    WEB = "web", _("Web")
    EMAIL = "email", _("Email")
    FAX = "fax", _("Fax")
    IN_PERSON = "in_person", _("In person")


class RowIdField(models.BigAutoField):  # type: ignore[type-arg]
    """An auto-incrementing id which, on SQLite, is a plain INTEGER PRIMARY KEY, without
    the AUTOINCREMENT keyword Django adds. That keyword only stops SQLite from reusing the
    id of a deleted last row, and costs a write to ``sqlite_sequence`` for every row
    inserted: an eighth of an import's insert. Declarations are never deleted."""

    def db_type_suffix(self, connection: BaseDatabaseWrapper) -> str | None:
        if connection.vendor == "sqlite":
            return None
        # What Field.db_type_suffix returns: AUTOINCREMENT, IDENTITY, ... as the database has.
        return connection.data_types_suffix.get(self.get_internal_type())


class Declaration(models.Model):
    """One person's renunciation. A person counts once, however many organizations."""

    id = RowIdField(primary_key=True, serialize=False, verbose_name="ID")

    # Random, so the encrypted fields can be bound to their row before it is inserted.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Indexed in Meta, for the rows that have one: imported history has no call.
    call = models.ForeignKey(
        Call,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="declarations",
        db_index=False,
    )
    subject = models.CharField(_("for whom"), max_length=8, choices=Subject.choices)
    relationship = models.CharField(
        _("relationship"), max_length=16, choices=Relationship.choices, blank=True
    )
    party = models.BooleanField(_("Communist Party"), default=False)
    youth_league = models.BooleanField(_("Communist Youth League"), default=False)
    young_pioneers = models.BooleanField(_("Young Pioneers"), default=False)
    # The day in the hotline's time zone: what "today" on the public page counts. Not
    # indexed: statistics read the rollups, and the duplicate rule finds a caller's
    # earlier declarations by their calls.
    declared_on = models.DateField(_("date"))
    region = models.CharField(_("region"), max_length=80, blank=True)
    # How the caller heard of the number (banknotes, website, ...), for attribution: the
    # call's ``how_heard``; blank for declarations not made by phone.
    how_heard = models.CharField(_("how heard"), max_length=16, blank=True)
    # The medium of the declaration (hotline, web, fax, ...).
    channel = models.CharField(_("channel"), max_length=16, choices=DeclarationChannel.choices)
    alias_sealed = models.BinaryField(_("alias (encrypted)"), blank=True)
    alias = Sealed("alias_sealed")
    statement_sealed = models.BinaryField(_("statement (encrypted)"), blank=True)
    statement = Sealed("statement_sealed")
    consent_to_publish = models.BooleanField(_("consents to publication"), default=False)
    # Indexed in Meta, for the rows that have one: imported history has no recorder.
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Its entry in the transparency log, and the salt of the commitment there: together
    # the declarant's receipt, which proves inclusion without saying who they are.
    log_index = models.BigIntegerField(null=True, unique=True)
    receipt_salt = models.BinaryField(blank=True)
    # The key of a row imported from historical records: importing again skips it.
    # Unique by a constraint in Meta rather than unique=True, which on PostgreSQL adds a
    # second index for LIKE queries that nothing asks and every imported row would pay.
    # NULL, not "", for rows recorded at the desk: NULLs never collide in a unique index.
    import_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(party=True)
                | models.Q(youth_league=True)
                | models.Q(young_pioneers=True),
                name="declaration_leaves_an_organization",
            ),
            models.CheckConstraint(
                condition=models.Q(subject="self", relationship="")
                | (models.Q(subject="family") & ~models.Q(relationship="")),
                name="declaration_relationship_only_for_family",
            ),
            models.UniqueConstraint(fields=["import_key"], name="one_declaration_per_import_key"),
        ]
        indexes = [
            # A call's declarations, and a caller's earlier ones (the duplicate rule, the
            # caller's history). Partial: imported rows, millions of them, have no call and
            # so cost an import nothing here; ``call_id = …`` and ``IN (…)`` imply the
            # condition, so both databases use the index for them.
            models.Index(
                fields=["call"],
                name="declaration_call_idx",
                condition=models.Q(call__isnull=False),
            ),
            # A receipt's code finds its declaration on /verify, published or not (the
            # declarant learns their certificate number there). Partial: an imported row
            # is found by its certificate number, and costs an import nothing here.
            models.Index(
                fields=["receipt_salt"],
                name="declaration_receipt_idx",
                condition=models.Q(import_key__isnull=True),
            ),
            # What a person recorded; and deleting a user asks it (PROTECT).
            models.Index(
                fields=["recorded_by"],
                name="declaration_recorded_by_idx",
                condition=models.Q(recorded_by__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"Declaration {self.public_id}"

    def organizations(self) -> list[str]:
        return [org for org in Organization.values if getattr(self, org)]


class RevocationReason(models.TextChoices):
    DUPLICATE = "duplicate", _("Duplicate")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Revocation(models.Model):
    """A declaration no longer counted. Nothing is edited or deleted: the revocation is a
    row of its own and an entry of its own in the log, which subtracts it from the total."""

    declaration = models.OneToOneField(
        Declaration, on_delete=models.PROTECT, related_name="revocation"
    )
    reason = models.CharField(_("reason"), max_length=16, choices=RevocationReason.choices)
    # Set by a person, or empty when the duplicate rule found it.
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    log_index = models.BigIntegerField(null=True, unique=True)

    def __str__(self) -> str:
        return f"{self.get_reason_display()}: {self.declaration}"


class Rollup(models.Model):
    """Counted declarations per day, organization, region and channel, kept up to date as
    declarations and revocations are recorded, so statistics never scan declarations."""

    day = models.DateField()
    organization = models.CharField(max_length=16, choices=Organization.choices)
    region = models.CharField(max_length=80, blank=True)
    channel = models.CharField(max_length=16)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "organization", "region", "channel"], name="one_rollup_cell"
            )
        ]
        indexes = [
            # Statistics ask for a span of days, by region.
            models.Index(fields=["day", "region"], name="rollup_day_region_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.organization} {self.region} {self.channel}: {self.count}"


class MonthlyRollup(models.Model):
    """The rollup cells summed by month, kept beside the daily ones: a year of statistics
    reads twelve months of cells (and days only for a partial month at either end)."""

    month = models.DateField()  # its first day
    organization = models.CharField(max_length=16, choices=Organization.choices)
    region = models.CharField(max_length=80, blank=True)
    channel = models.CharField(max_length=16)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "organization", "region", "channel"], name="one_monthly_cell"
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.organization} {self.region} {self.channel}: {self.count}"


class DailyTotal(models.Model):
    """People counted per day, and per organization: the public totals are sums over a few
    thousand days, never a count over millions of declarations. Kept in the transactions
    that record and revoke, so they always equal what the log counts."""

    day = models.DateField(unique=True)
    people = models.BigIntegerField(default=0)
    party = models.BigIntegerField(default=0)
    youth_league = models.BigIntegerField(default=0)
    young_pioneers = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.day}: {self.people}"


class OnlineSubmission(models.Model):
    """One posted declaration form, by the token it was issued with: the same form posted
    twice (a double click, a resend over a slow link) records its people once and shows
    the same receipts. Kept a day (ONLINE_SUBMISSION_DAYS), then purged."""

    token = models.CharField(max_length=64, unique=True)  # the SHA-256 of the form's token
    declarations = models.JSONField(default=list)  # the ids of the declarations it made
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"Online submission of {self.created_at:%Y-%m-%d %H:%M}"


class StatementStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for moderation")
    # Received while the declaration form was flooded, or without the proof of work:
    # moderated after the others.
    HELD = "held", _("Held: received during a flood")
    PUBLISHED = "published", _("Published")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class RejectionReason(models.TextChoices):
    IDENTIFYING = "identifying", _("It would identify someone")
    ABUSIVE = "abusive", _("Abusive or off topic")
    NOT_A_STATEMENT = "not_a_statement", _("Not a statement")
    OTHER = "other", _("Other")


class Statement(models.Model):
    """A consented statement on its way to publication. The declarant's words stay sealed
    on the declaration; what is published is this separate copy, written by a coordinator
    from the masked draft, with the alias it is published under."""

    declaration = models.OneToOneField(
        Declaration, on_delete=models.PROTECT, related_name="published_statement"
    )
    status = models.CharField(max_length=16, choices=StatementStatus.choices)
    # The reviewed copy, public once published; empty until then.
    text = models.TextField(blank=True)
    alias = models.CharField(max_length=80, blank=True)
    # Copied from the declaration, for the list's filters without a join.
    region = models.CharField(max_length=80, blank=True)
    party = models.BooleanField(default=False)
    youth_league = models.BooleanField(default=False)
    young_pioneers = models.BooleanField(default=False)
    declared_on = models.DateField()
    published_at = models.DateTimeField(null=True, blank=True)
    rejection = models.CharField(max_length=16, choices=RejectionReason.choices, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [
            # The public list, newest first, a page at a time (keyset on id).
            models.Index(
                fields=["-id"],
                name="statement_published_idx",
                condition=models.Q(status="published"),
            ),
            # The list by province and by day.
            models.Index(
                fields=["region", "-id"],
                name="statement_region_idx",
                condition=models.Q(status="published"),
            ),
            models.Index(
                fields=["declared_on", "-id"],
                name="statement_day_idx",
                condition=models.Q(status="published"),
            ),
            # The coordinators' queue.
            models.Index(
                fields=["status", "id"],
                name="statement_queue_idx",
                condition=models.Q(status__in=["pending", "held"]),
            ),
        ]

    def __str__(self) -> str:
        return f"Statement {self.pk} ({self.status})"

    def organizations(self) -> list[str]:
        return [org for org in Organization.values if getattr(self, org)]


class StatementGram(models.Model):
    """The search index of published statements: every two characters side by side
    (bigrams), so that Chinese, written without spaces, is found by any word in it. A
    query's bigrams narrow the list through this index; the text itself confirms."""

    gram = models.CharField(max_length=2)
    statement = models.ForeignKey(Statement, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["gram", "statement"], name="one_gram_per_statement")
        ]

    def __str__(self) -> str:
        return f"{self.gram}: {self.statement_id}"


class HowHeardTotal(models.Model):
    """People counted per month by how they heard of the number they called (the call's
    ``how_heard``: banknotes, flyers, the website…; blank when not told, and for
    declarations not made by phone), kept beside the rollups by the same transactions, for
    the share each channel of the numbers brings. The log does not hold how-heard: it
    says nothing of a call that an entry need not."""

    month = models.DateField()  # its first day
    how_heard = models.CharField(max_length=16, blank=True)
    people = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["month", "how_heard"], name="one_how_heard_cell")
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.how_heard}: {self.people}"
