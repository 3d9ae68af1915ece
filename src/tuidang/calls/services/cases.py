"""Opening an earlier case by the code a caller reads out: limited per volunteer, and
audited whether a case is found or not, so codes cannot be tried at speed and every code
tried leaves its trace."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from tuidang.audit.models import Action
from tuidang.audit.selectors import events_since
from tuidang.audit.services import audit_record, audit_record_lookup
from tuidang.calls.models import Call
from tuidang.volunteers.models import Volunteer

LOOKUP_WINDOW = timedelta(minutes=1)


class CaseLookupLimited(Exception):
    """The volunteer made ``CASE_LOOKUPS_PER_MINUTE`` lookups in the last minute."""

    retry_after_seconds = int(LOOKUP_WINDOW.total_seconds())


@transaction.atomic
def case_look_up(*, code: str, volunteer: Volunteer) -> Call | None:
    """The call with this case code, or None; CaseLookupLimited past the limit.

    The count is the volunteer's lookups in the audit log, so it holds across every app
    server; their account row is locked first, so two lookups at once are counted one
    after the other. A refused lookup reads nothing and records nothing.
    """
    user = User.objects.select_for_update().get(pk=volunteer.user_id)
    since = timezone.now() - LOOKUP_WINDOW
    if events_since(actor=user, action=Action.LOOKUP, since=since) >= (
        settings.CASE_LOOKUPS_PER_MINUTE
    ):
        raise CaseLookupLimited
    audit_record_lookup(actor=user, kind=Call, key=code)
    case = (
        Call.objects.filter(case_code=code)
        .select_related("volunteer")
        .prefetch_related("declarations__revocation")
        .first()
    )
    if case is not None:
        audit_record(actor=user, action=Action.VIEW, target=case)
    return case
