from __future__ import annotations

from django_tasks import task

from tuidang.tlog.services import log_checkpoint_sign


@task()
def sign_checkpoint() -> None:
    log_checkpoint_sign()
