from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task

from tuidang.tlog.services import log_checkpoint_sign

MAX_ATTEMPTS = 8  # asked again after 1, 2, 4 … 128 seconds, then at the next checkpoint


@task()
def sign_checkpoint() -> None:
    """Twice: a checkpoint that already covers the log is returned, not signed again."""
    log_checkpoint_sign()


@task()
def gather_cosignatures(attempt: int = 0) -> None:
    """Ask the witnesses to cosign the latest checkpoint; those not reached again later.
    Twice: a witness asked again for a checkpoint it cosigned answers with its cosignature
    or a conflict, and a cosignature is stored once per witness and checkpoint."""
    from tuidang.tlog.witnessing import Outcome, cosignatures_gather

    outcomes = cosignatures_gather()
    if Outcome.RETRY not in outcomes.values() or attempt + 1 >= MAX_ATTEMPTS:
        return
    # A queue that can run a task later backs off; one that runs tasks at once (the
    # tests') leaves it to the next checkpoint.
    if gather_cosignatures.get_backend().supports_defer:
        later = timezone.now() + timedelta(seconds=2**attempt)
        gather_cosignatures.using(run_after=later).enqueue(attempt=attempt + 1)
