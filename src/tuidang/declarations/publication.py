"""Publication in batches: declarations and revocations become public together, at a set
interval, in an order that does not follow the order they were recorded in.

The adversary runs the phone network the callers use: it knows who called and when. Were
each entry appended as it is recorded, polling the checkpoint would tie it (region,
organizations, for self or family) to the call that made it. So a declaration is stored
when it is recorded (durable, with its receipt) and nothing public moves: not the log,
its checkpoints and tiles, nor the counts on the public pages. Every
``PUBLICATION_INTERVAL_SECONDS`` (on multiples of it: hourly, on the hour) a worker
publishes everything pending as one batch:

- the declarations, shuffled with a CSPRNG, then the revocations, shuffled, appended to
  the log in one ``log_append`` (one ``created_at`` for the whole batch);
- each declaration dated by the day of its batch, in the hotline's time zone (a batch that
  spans midnight would otherwise say on which side of it an entry was recorded), and a
  revocation entry likewise;
- the rollups and daily totals counted in the same transaction, so the public total only
  ever moves with the log.

The batch is one transaction: a crash anywhere in it publishes nothing, and the next run
publishes it all. Pending rows are claimed with ``SELECT … FOR UPDATE`` and the log's tree
head is moved by a compare-and-swap (tlog/services.py), so several workers publishing at
once publish each entry once. The bulk import publishes its batches directly: they are
history, already grouped and dated by the file, so their order and time tell nothing of a
call (docs/transparency-log.md).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from tuidang.declarations.models import Declaration, Revocation
from tuidang.declarations.services import hotline_time, log_entry, revocation_entry, rollup_count
from tuidang.jobs.scheduler import periodic_job_next_run
from tuidang.tlog.services import log_append

logger = logging.getLogger(__name__)

PUBLICATION_JOB = "publication"

_random = secrets.SystemRandom()


@dataclass(frozen=True)
class Batch:
    declarations: int
    revocations: int

    def summary(self) -> str:
        return f"published {self.declarations} declaration(s), {self.revocations} revocation(s)"


def declarations_publish(*, now: datetime | None = None) -> Batch:
    """Publish every pending declaration and revocation as one batch, as of ``now``."""
    now = now or timezone.now()
    day = hotline_time(now).date()
    with transaction.atomic():
        # Locked: a second worker publishing at once waits here, then finds them published.
        declarations = list(
            Declaration.objects.select_for_update().filter(log_index__isnull=True).order_by("pk")
        )
        revocations = list(
            Revocation.objects.select_for_update(of=("self",))
            .filter(log_index__isnull=True)
            .select_related("declaration")
            .order_by("pk")
        )
        _random.shuffle(declarations)
        _random.shuffle(revocations)
        for declaration in declarations:
            declaration.declared_on = day
        indexes = _append([log_entry(declaration) for declaration in declarations])
        for declaration, index in zip(declarations, indexes, strict=True):
            declaration.log_index = index
        Declaration.objects.bulk_update(declarations, ["declared_on", "log_index"])
        rollup_count(declarations, +1)

        # A revocation names its declaration's index, which this batch may just have given.
        # One of a declaration recorded since the batch was gathered (which PostgreSQL's
        # second query can see) waits for the next batch, with its declaration.
        published = {declaration.pk: declaration for declaration in declarations}
        revocations = [
            revocation
            for revocation in revocations
            if revocation.declaration_id in published
            or revocation.declaration.log_index is not None
        ]
        for revocation in revocations:
            revocation.declaration = published.get(
                revocation.declaration_id, revocation.declaration
            )
        indexes = _append([revocation_entry(revocation, day=day) for revocation in revocations])
        for revocation, index in zip(revocations, indexes, strict=True):
            revocation.log_index = index
        Revocation.objects.bulk_update(revocations, ["log_index"])
        rollup_count([revocation.declaration for revocation in revocations], -1)
    batch = Batch(declarations=len(declarations), revocations=len(revocations))
    if declarations or revocations:
        logger.info("Publication: %s", batch.summary())
    return batch


def _append(entries: list[bytes]) -> list[int]:
    # Nothing to append moves nothing, not even the tree head's time.
    return log_append(entries=entries) if entries else []


def publication_next(*, now: datetime | None = None) -> datetime:
    """When what is pending now becomes public: the next run of the publication job."""
    return periodic_job_next_run(name=PUBLICATION_JOB, now=now or timezone.now())


def publication_run(now: datetime) -> str:
    """The publication job's run (registered with the scheduler in ``apps.py``)."""
    return declarations_publish(now=now).summary()
