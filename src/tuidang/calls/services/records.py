"""What volunteers do with a call they took: hang it up, record what it was."""

from __future__ import annotations

from django.db import transaction

from tuidang.audit.models import Action
from tuidang.audit.services import audit_record
from tuidang.calls.models import Call, CallDisposition, CallNote, CallType
from tuidang.calls.screening import call_types_recorded
from tuidang.calls.services._shared import hang_up_on_commit
from tuidang.volunteers.models import Volunteer


def call_hang_up(*, call: Call) -> None:
    """Ask the provider to end a connected call (the volunteer pressed "End call")."""
    if call.ended_at is None:
        hang_up_on_commit(call.provider_sid)


@transaction.atomic
def call_record(
    *, call: Call, types: list[str], note: str, volunteer: Volunteer
) -> list[CallDisposition]:
    """What the call was (several types at once) and, optionally, a note sealed at rest.

    Types recorded earlier and no longer ticked are removed: the form shows the call's
    current types, so what is submitted is the whole answer.
    """
    unknown = set(types) - set(CallType.values)
    if unknown:
        raise ValueError(f"unknown call types: {sorted(unknown)}")
    call.dispositions.exclude(call_type__in=types).delete()
    existing = set(call.dispositions.values_list("call_type", flat=True))
    for call_type in types:
        if call_type not in existing:
            CallDisposition.objects.create(call=call, call_type=call_type, recorded_by=volunteer)
    # Harassment, pranks and silence count against the caller key (screening).
    call_types_recorded(call=call, new_types=set(types) - existing, actor=volunteer.user)
    if note.strip():
        note_row = CallNote(call=call, author=volunteer)
        note_row.text = note.strip()
        note_row.save()
        audit_record(actor=volunteer.user, action=Action.CREATE, target=note_row)
    return list(call.dispositions.all())
